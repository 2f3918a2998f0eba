"""Examples for the OpenAPI document, made from the contract schemas: every request body and
every JSON answer gets one (``example``), so a client sees a filled-in instance next to each
schema.

A field's own ``metadata={"example": ...}`` wins; otherwise the value follows from its type,
its validators (the first choice of a ``OneOf``, the lower bound of a ``Range``, a length
inside a ``Length``) and, for strings, from its name (``*_id`` a UUID, ``*_at`` a time of
Asia/Shanghai, ``title`` a Chinese title...). Strings with a pattern and no example of their
own are left out of a request example unless required (the generator does not invert
regular expressions).
"""

from __future__ import annotations

import functools
from typing import Any

from marshmallow import Schema, fields, validate

from common.fields import Pattern

UUID = "6f1c2a52-8d0e-4b8e-9f5e-3c1d2b7a9e10"
AT = "2026-11-26T10:00:00+08:00"
DAY = "2026-11-26"
#: strings by (a part of) the field's name, first match wins
BY_NAME: tuple[tuple[str, Any], ...] = (
    ("credit_code", "91370212MA3C4X1E7K"),
    ("email", "zhang.wei@example.com"),
    ("phone", "13812345678"),
    ("url", "https://example.com/files/a.pdf"),
    ("number", "SQ20261126-00001"),
    ("industry", "C39"),
    ("department", "fire_rescue"),
    ("grid", "INC01"),
    ("category", "fire"),
    ("username", "liaison.fire_rescue"),
    ("new_password", "gridsvc-new-2026-x"),
    ("password", "gridsvc-demo-2026"),
    ("name", "青岛光刃激光科技有限公司"),
    ("title", "新厂房消防验收"),
    ("description", "公司新建厂房需办理消防验收，请协调消防大队现场指导。"),
    ("reason", "属于建设部职责"),
    ("opinion", "请消防大队指导消防验收"),
    ("result", "已完成现场检查，验收合格"),
    ("report", "已按程序办理完毕，企业诉求超出政策范围，已书面说明"),
    ("comment", "办理及时，态度很好"),
    ("body", "已安排现场检查"),
    ("address", "高新区科技路1号"),
    ("q", "激光"),
)
MAX_DEPTH = 4


#: codes that are not UUIDs though their field ends in _id
CODED = {"grid": "INC01", "incubator": "INC01", "department": "fire_rescue",
         "category": "fire", "industry": "C39"}


def _string(name: str, field: fields.Field) -> Any:
    lowered = name.lower()
    for part, value in CODED.items():
        if part in lowered:
            return value
    if isinstance(field, fields.UUID) or name == "id" or name.endswith("_id"):
        return UUID
    for part, value in BY_NAME:
        if part in lowered:
            return value
    return "示例"


def _bounded(field: fields.Field, value: Any) -> Any:
    for v in field.validators:
        if isinstance(v, validate.OneOf) and v.choices:
            return list(v.choices)[0]
        if isinstance(v, validate.Range) and isinstance(value, int | float):
            low = v.min if v.min is not None else value
            high = v.max if v.max is not None else low
            if not (low <= value <= high):
                return low if isinstance(low, int | float) else value
        if isinstance(v, validate.Length) and isinstance(value, str):
            if v.max is not None and len(value) > v.max:
                return value[: v.max]
            if v.min is not None and len(value) < v.min:
                return value + "x" * (v.min - len(value))
    return value


def value_of(name: str, field: fields.Field, loading: bool, depth: int) -> Any:
    if "example" in field.metadata:
        return field.metadata["example"]
    if isinstance(field, fields.Nested):
        schema = field.schema
        inner = of_instance(schema, loading, depth + 1)
        return [inner] if field.many else inner
    if isinstance(field, fields.List):
        inner = field.inner
        one = (of_instance(inner.schema, loading, depth + 1) if isinstance(inner, fields.Nested)
               else value_of(_singular(name), inner, loading, depth))
        patterns = _patterns(inner)
        if patterns and not _fits(one, patterns):
            one = next((c for c in CANDIDATES if _fits(c, patterns)), one)
        least = max([v.min for v in field.validators
                     if isinstance(v, validate.Length) and v.min] or [1])
        if name.endswith("_ids") and not any(isinstance(v, validate.Length) and v.min
                                             for v in field.validators):
            return []  # references to records: an example cannot know any that exist
        if least <= 1 or not isinstance(one, str):
            return [one] * least
        return [one] + [_numbered(one, i) for i in range(1, least)]
    if isinstance(field, fields.Dict):
        return {}
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, fields.Integer):
        return _bounded(field, 1)
    if isinstance(field, fields.Number):
        return _bounded(field, 1.0)
    if isinstance(field, fields.AwareDateTime | fields.DateTime):
        return AT
    if isinstance(field, fields.Date):
        return DAY
    if isinstance(field, fields.Email):
        return "zhang.wei@example.com"
    if isinstance(field, fields.Url):
        return "https://example.com/files/a.pdf"
    return _bounded(field, _string(name, field))


def _singular(name: str) -> str:
    if name.endswith("_ids"):
        return name[:-1]
    return name[:-1] if name.endswith("s") else name


def _numbered(value: str, i: int) -> str:
    if value == UUID:
        return UUID[:-2] + f"{i:02d}"
    return f"{value}{i}"


#: strings tried, in order, for a field whose pattern its own example does not meet
CANDIDATES = (UUID, "INC01", "fire_rescue", "fire", "C39", "91370212MA3C4X1E7K",
              "13812345678", "application/pdf", "SQ20261126-00001", "2026", "2026-11",
              "2026-Q4", "zone", "A1", "abc")


def _patterns(field: fields.Field) -> list[Any]:
    return [v.regex for v in field.validators if isinstance(v, Pattern | validate.Regexp)]


def _fits(value: Any, patterns: list[Any]) -> bool:
    return isinstance(value, str) and all(p.fullmatch(value) for p in patterns)


def _patterned(field: fields.Field) -> bool:
    return bool(_patterns(field))


def of_instance(schema: Schema, loading: bool = False, depth: int = 0) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        return {}
    out: dict[str, Any] = {}
    for name, field in schema.fields.items():
        if loading and field.dump_only or not loading and field.load_only:
            continue
        if loading and not field.required and _patterned(field) \
                and "example" not in field.metadata:
            continue
        key = field.data_key or name
        value = value_of(name, field, loading, depth)
        patterns = _patterns(field)
        if patterns and "example" not in field.metadata and not _fits(value, patterns):
            value = next((c for c in CANDIDATES if _fits(c, patterns)), None)
            if value is None:
                continue
        out[key] = value
    return out


@functools.cache
def of(schema: type[Schema], loading: bool = False) -> dict[str, Any]:
    """An example instance of ``schema``: of what is sent (``loading``) or answered."""
    return of_instance(schema(), loading)
