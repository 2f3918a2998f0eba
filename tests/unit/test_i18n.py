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


def test_a_catalog_without_its_compiled_file_is_read_from_its_po(tmp_path, monkeypatch):
    import shutil

    from common import i18n

    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "gridsvc.po", folder)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        assert translate("Not found", ZH) == "未找到"  # no .mo: the .po, compiled in memory
    finally:
        i18n.catalog.cache_clear()


def test_labels_and_phrases_in_parameters():
    from common.i18n import label, phrase

    params = {"role": label("role", "grid_worker"), "action": phrase("Submit a demand",
                                                                      lower=True)}
    assert translate("{role} may not {action}", ZH, params) == "网格员无权提交诉求"
    assert translate("{role} may not {action}", EN, params) == \
        "Grid worker may not submit a demand"
    assert translate("invalid fields: {fields}", ZH, {"fields": ["a", "b"]}) == \
        "以下字段填写有误：a、b"
    assert translate("invalid fields: {fields}", EN, {"fields": ["a", "b"]}) == \
        "invalid fields: a, b"
    # an unknown code stays as it is rather than failing
    assert translate("{role} may not do this", ZH, {"role": label("role", "nobody")}) == \
        "nobody无权执行此操作"
