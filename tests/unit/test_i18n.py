"""Which language a reader gets, and how message ids become their texts."""

from __future__ import annotations

import pytest

from common.i18n import EN, ZH, interpolate, negotiate, supported, translate


@pytest.mark.parametrize("header, language", [
    (None, ZH),
    ("", ZH),
    ("en", EN),
    ("en-US,en;q=0.9", EN),
    ("zh-CN,zh;q=0.9,en;q=0.8", ZH),
    ("zh-Hans-CN", ZH),
    ("fr, en;q=0.5", EN),          # the first language the platform speaks
    ("de, fr", ZH),                 # none it speaks: the default
    ("en;q=0, zh;q=0.1", ZH),       # q=0 means "not this one"
    ("en;q=0.5, zh;q=0.8", ZH),
    ("en;q=0.5, zh;q=0.5", EN),     # a tie keeps the header's order
    ("*", ZH),
    ("en;q=abc", ZH),
])
def test_accept_language_is_negotiated(header, language):
    assert negotiate(header) == language


def test_the_default_is_the_deployments():
    assert negotiate(None, default=EN) == EN
    assert negotiate("de", default=EN) == EN
    assert supported("EN_gb") == EN and supported("zh_TW") == ZH and supported("ja") is None


def test_message_ids_are_translated_and_filled_in():
    assert translate("Not found", ZH) == "未找到"
    assert translate("Not found", EN) == "Not found"
    assert translate("the body may be at most {limit} bytes", ZH, {"limit": 5}) == \
        "请求内容最多 5 字节"
    # an unknown message id stays English rather than failing
    assert translate("no such thing {x}", ZH, {"x": 1}) == "no such thing 1"


def test_interpolation_never_fails():
    assert interpolate("{missing} and {present}", {"present": 1}) == "{missing} and 1"
    assert interpolate("a stray { brace", {"x": 1}) == "a stray { brace"
    assert interpolate("{0}", {"x": 1}) == "{0}"
