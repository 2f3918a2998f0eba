"""Texts for people: Chinese (zh-CN) by default, English on request.

Every text a person reads (an error's title and detail, a field error, a match explanation, an
import row error, an inbox message, an export header) is written in the code as an English
*message id* with ``{name}`` placeholders, and translated from the gettext catalog
``common/locale/<lang>/LC_MESSAGES/gridsvc.po`` (Babel extracts, ``make`` compiles the ``.mo``).
English is the source language, so ``en`` needs no catalog.

Services do not know the reader's language: an error carries its message id, its stable
``code`` and its parameters over RPC, and the gateway translates it into the language that the
request's ``Accept-Language`` prefers (:func:`negotiate`), or ``DEFAULT_LANGUAGE``. A service
that writes text itself (an export, an explanation) finds the caller's language in the call's
context (``language``), put there by the gateway.
"""

from __future__ import annotations

import functools
import gettext
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "gridsvc"
ZH = "zh-CN"
EN = "en"
#: the languages the platform speaks, in its order of preference
LANGUAGES: tuple[str, ...] = (ZH, EN)
DEFAULT_LANGUAGE = ZH

_ACCEPT_ITEM = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([^\s;]*))?", re.ASCII)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a message id for extraction without translating it here."""
    return message


def supported(language: str | None) -> str | None:
    """The platform's language that ``language`` (``zh``, ``zh-Hans-CN``, ``en-GB`` ...) means,
    or None."""
    if not language:
        return None
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    if primary == "zh":
        return ZH
    if primary == "en":
        return EN
    return None


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The language ``Accept-Language`` prefers among :data:`LANGUAGES` (RFC 9110 q-values;
    ties keep the header's order), else ``default``."""
    if not accept_language:
        return default
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept_language.split(",")[:32]):
        match = _ACCEPT_ITEM.match(item)
        if match is None:
            continue
        tag, q = match.group(1), match.group(2)
        try:
            weight = 1.0 if q is None else float(q)
        except ValueError:
            continue
        if weight <= 0:
            continue
        language = default if tag == "*" else supported(tag)
        if language is None:
            continue
        if best is None or (weight, -position) > (best[0], -best[1]):
            best = (weight, position, language)
    return best[2] if best else default


@functools.cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: the message ids themselves)."""
    if language == EN:
        return gettext.NullTranslations()
    return gettext.translation(
        DOMAIN, LOCALE_DIR, languages=[language.replace("-", "_")], fallback=True
    )


class _Params(dict):
    """Format parameters: a missing one stays as its placeholder rather than failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_FORMATTER = string.Formatter()


def interpolate(text: str, params: Mapping[str, Any] | None) -> str:
    if not params or "{" not in text:
        return text
    try:
        return _FORMATTER.vformat(text, (), _Params(params))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text  # a stray brace in a translation must not lose the whole answer


def translate(message: str, language: str = DEFAULT_LANGUAGE,
              params: Mapping[str, Any] | None = None) -> str:
    """``message`` (an English message id) in ``language``, with ``params`` filled in."""
    return interpolate(catalog(language).gettext(message), params)


def translate_plural(singular: str, plural: str, n: int, language: str = DEFAULT_LANGUAGE,
                     params: Mapping[str, Any] | None = None) -> str:
    return interpolate(catalog(language).ngettext(singular, plural, n), {"n": n, **(params or {})})
