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
context (``language``, ``self.caller.language``), put there by the gateway, and writes with a
:class:`Translator`.

Parameters are rendered for the reader (:func:`render`): :func:`label` shows a code people
should not read (a role, a status) by its label from :mod:`common.dictionaries`, :func:`phrase`
is a message id inside a message (an endpoint's summary in "{role} may not {action}"), and a
list is joined with the language's separator (、 in Chinese). ``make messages`` extracts every
id (devtools/messages.py), ``make catalogs`` compiles the catalogs.
"""

from __future__ import annotations

import functools
import gettext
import io
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


class Contextual(str):
    """A message id with the context it is translated in (``NC_``)."""

    context: str

    def __new__(cls, message: str, context: str) -> Contextual:
        made = super().__new__(cls, message)
        made.context = context
        return made


def NC_(context: str, message: str) -> Contextual:  # noqa: N802 - like N_, with a context
    """Mark a message id that means something only in ``context`` (a dictionary's labels:
    ``NC_("listing_status", "Closed")`` is not ``NC_("demand_status", "Closed")``); the
    context goes along, :func:`translate` uses it."""
    return Contextual(message, context)


#: a parameter that is a code people should not read (a role, a status): its label
LABEL = "$label"
#: a parameter that is itself a message id (an action, a reason), translated with the rest
MESSAGE = "$message"


def label(dictionary: str, code: Any) -> dict[str, Any]:
    """A parameter shown as the label of ``code`` in ``dictionary`` (:mod:`common.dictionaries`):
    ``params={"role": principal.role_label}`` reads 网格员 / Grid worker. JSON, so it
    crosses RPC inside an error's parameters."""
    return {LABEL: dictionary, "code": None if code is None else str(code)}


def phrase(message: str, params: Mapping[str, Any] | None = None,
           lower: bool = False) -> dict[str, Any]:
    """A parameter that is a message id of its own, translated into the reader's language
    with its ``params``; ``lower``: its first letter in lower case in English (an endpoint's
    summary "Submit a demand" inside a sentence)."""
    value: dict[str, Any] = {MESSAGE: message}
    if params:
        value["params"] = dict(params)
    if lower:
        value["lower"] = True
    return value


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
    """The catalog of ``language`` (English: the message ids themselves): the compiled ``.mo``
    (``make catalogs``), or, when it is missing or older than its ``.po`` (a checkout that
    changed the catalog), the ``.po`` compiled in memory, so no reader ever gets stale texts."""
    if language == EN:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / language.replace("-", "_") / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    if po.exists():
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as f:
            compiled = io.BytesIO()
            write_mo(compiled, read_po(f), use_fuzzy=False)
        compiled.seek(0)
        return gettext.GNUTranslations(compiled)
    return gettext.NullTranslations()


class _Params(dict[str, Any]):
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


def placeholders(text: str) -> set[str]:
    """The names of the ``{placeholders}`` of a message id or a translation (for the tests that
    keep the catalog's entries consistent with their ids)."""
    try:
        return {name.split(".")[0].split("[")[0]
                for _literal, name, _spec, _conversion in _FORMATTER.parse(text)
                if name is not None and name != ""}
    except ValueError:
        return set()


def _lower_first(text: str) -> str:
    """"Submit a demand" → "submit a demand"; an acronym ("XLSX ...") stays as it is."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def render(value: Any, language: str) -> Any:
    """A parameter as the reader sees it: a :func:`label` by its label, a :func:`phrase`
    translated, a list joined with the language's separator (、 in Chinese), anything else as
    it is."""
    if isinstance(value, Mapping):
        if LABEL in value:
            from common.dictionaries import label_of  # the labels import this module

            return label_of(str(value[LABEL]), value.get("code"), language)
        if MESSAGE in value:
            params = value.get("params")
            text = translate(str(value[MESSAGE]), language,
                             params if isinstance(params, Mapping) else None)
            return _lower_first(text) if value.get("lower") and language == EN else text
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return catalog(language).gettext(", ").join(str(render(v, language)) for v in items)
    return value


def translate(message: str, language: str = DEFAULT_LANGUAGE,
              params: Mapping[str, Any] | None = None, context: str | None = None) -> str:
    """``message`` (an English message id) in ``language``, with ``params`` filled in (each
    rendered for the reader: :func:`render`); ``context`` disambiguates a short id."""
    translations = catalog(language)
    context = context or getattr(message, "context", None)
    text = translations.pgettext(context, message) if context else translations.gettext(message)
    if not params:
        return text
    return interpolate(text, {key: render(value, language) for key, value in params.items()})


def translate_plural(singular: str, plural: str, n: int, language: str = DEFAULT_LANGUAGE,
                     params: Mapping[str, Any] | None = None) -> str:
    text = catalog(language).ngettext(singular, plural, n)
    return interpolate(text, {"n": n, **{key: render(value, language)
                                         for key, value in (params or {}).items()}})


class Translator:
    """``t = Translator(language)``; ``t("{n} rows", n=3)``: what a service that writes text
    itself (an export, an explanation, a notification) uses for one reader."""

    def __init__(self, language: str | None = None) -> None:
        self.language = supported(language) or DEFAULT_LANGUAGE

    def __call__(self, message: str, /, **params: Any) -> str:
        return translate(message, self.language, params)

    def label(self, dictionary: str, code: Any) -> str:
        from common.dictionaries import label_of

        return label_of(dictionary, code, self.language)
