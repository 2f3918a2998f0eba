"""Every text for people is a message id with its Chinese translation, and every error a code.

Static checks over ``common/``, ``gateway/`` and ``services/`` (they hold for code added later):

- an error for the caller (a ``DomainError`` subclass, the gateway's ``Problem`` and
  ``problem_response``) names a specific ``code=`` (``<area>.<what>``, or one passed along)
  and its message id is a literal (or a named constant), never an f-string, a concatenation
  or ``.format``: the placeholders are filled from ``params``, which name exactly the
  placeholders of the id;
- its field errors are coded (``field_error(code, message)``), never bare strings;
- a refused value (``InvalidValue`` and its subclasses), ``field_error`` and marshmallow's
  ``ValidationError`` raised by our fields and schemas carry a code too;
- the other message ids (``N_``, ``NC_``, ``t``, ``phrase``, ``translate``, summaries) are
  literals.

And the catalog: every message id Babel extracts (with the keywords of ``make messages``) has
its zh_CN translation, with the same placeholders.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from common.i18n import placeholders
from devtools import messages

CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
PO = messages.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "gridsvc.po"

SOURCES = messages.parsed_sources()
DOMAIN_ERRORS, INVALID_VALUES = messages.error_classes(SOURCES.values())
PROBLEMS = {"Problem": 1, "problem_response": 1}  # position of the message id
#: callables whose first argument is a message id that must be a literal
MESSAGE_CALLS = {"N_": 0, "NC_": 1, "t": 0, "phrase": 0, "translate": 0, "Endpoint": 3,
                 "refuse": 1}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _composed(node: ast.expr) -> bool:
    """A string made at run time: f-string, concatenation, ``%`` or ``.format``."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return isinstance(node, ast.Call) and _name(node.func) in {"format", "join"}


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _check_message(where: str, node: ast.expr | None, params: ast.expr | None,
                   keywords: set[str] | None = None) -> list[str]:
    if node is None:
        return [f"{where}: no message id (give it as the first argument)"]
    if isinstance(node, ast.IfExp | ast.BoolOp):
        return [f"{where}: a message id chosen by an expression is not extracted; write each "
                "call with its own literal id"]
    if _composed(node):
        return [f"{where}: the message id is composed at run time; write one id with "
                "{placeholders} and pass params"]
    text = _literal(node)
    if text is None:
        return []
    wanted = placeholders(text)
    if keywords is not None:
        given = keywords
    elif isinstance(params, ast.Dict) and all(isinstance(k, ast.Constant) for k in params.keys):
        given = {k.value for k in params.keys}  # type: ignore[union-attr]
    elif params is None:
        given = set()
    else:
        return []  # params built elsewhere
    if wanted != given:
        return [f"{where}: {text!r} has placeholders {sorted(wanted)} but params "
                f"{sorted(given)}"]
    return []


def _check_code(where: str, node: ast.expr | None) -> list[str]:
    if node is None:
        return [f"{where}: no code= (a stable <area>.<what>, e.g. demand.not_ratable)"]
    text = _literal(node)
    if text is not None and not CODE.match(text):
        return [f"{where}: code {text!r} is not <area>.<what>"]
    if text is None and isinstance(node, ast.Constant):
        return [f"{where}: code is not a string"]
    return []


def _check_field_errors(where: str, node: ast.expr | None) -> list[str]:
    """Field errors are coded: no bare string in a literal ``{field: [...]}``."""
    if not isinstance(node, ast.Dict):
        return []
    found = []
    for value in node.values:
        items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        for item in items:
            if item is not None and (_literal(item) is not None or _composed(item)):
                found.append(f"{where}: a bare string as a field error; use field_error(code, "
                             "message)")
    return found


def violations(path: Path, tree: ast.Module) -> list[str]:
    found: list[str] = []
    relative = path.relative_to(messages.ROOT)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        where = f"{relative}:{node.lineno} {name}"
        params = _keyword(node, "params")
        if name in DOMAIN_ERRORS or name in PROBLEMS:
            at = PROBLEMS.get(name, 0)
            message = node.args[at] if len(node.args) > at else None
            errors = node.args[at + 1] if len(node.args) > at + 1 else _keyword(node, "errors")
            found += _check_message(where, message, params)
            found += _check_code(where, _keyword(node, "code"))
            found += _check_field_errors(where, errors)
        elif name in INVALID_VALUES or name in {"field_error", "refuse"}:
            code = node.args[0] if node.args else None
            message = node.args[1] if len(node.args) > 1 else None
            names = {k.arg for k in node.keywords if k.arg and k.arg != "field_name"}
            starred = any(k.arg is None for k in node.keywords)
            found += _check_code(where, code)
            found += _check_message(where, message, None, None if starred else names)
        elif name == "ValidationError":
            first = node.args[0] if node.args else None
            if first is not None and (_literal(first) is not None or _composed(first)):
                found.append(f"{where}: marshmallow error with a bare message; raise "
                             "refuse(code, message) (common/fields.py)")
        elif name in MESSAGE_CALLS:
            at = MESSAGE_CALLS[name]
            message = node.args[at] if len(node.args) > at else None
            if message is not None and _composed(message):
                found.append(f"{where}: the message id is composed at run time")
        error = _keyword(node, "error")
        if error is not None and _literal(error) is not None:
            found.append(f"{where}: error= is a bare string; mark it N_() and give code=")
    return found


def test_every_call_checked_here_is_extracted_by_make_messages():
    """The calls whose message ids this module checks are the keywords Babel extracts with."""
    keywords = messages.keywords(SOURCES.values())
    checked = set(MESSAGE_CALLS) | set(PROBLEMS) | DOMAIN_ERRORS | INVALID_VALUES | {
        "field_error", "refuse"}
    assert checked <= set(keywords), checked - set(keywords)


def test_errors_carry_codes_and_message_ids_not_composed_texts():
    found = [v for path, tree in SOURCES.items() for v in violations(path, tree)]
    assert not found, "\n".join(found)


def test_the_static_rule_catches_what_it_should():
    bad = ast.parse('''
raise NotFound(f"no enterprise {eid}")
raise Conflict("the {what} exists", code="demand.exists")
raise Forbidden("role {role} may not", code="Forbidden", params={"role": r})
raise ValidationFailed("invalid", {"x": ["required"]}, code="x.y")
raise Problem(400, "bad " + reason, code="request.bad")
raise ValidationError("not a phone number")
field_error("field.x", "between {min} and {max}", min=1)
Pattern("^a$", error="not an a")
field_error("field.x", "a" if grid else "b")
''')
    found = violations(messages.ROOT / "x.py", bad)
    assert len(found) == 10, "\n".join(found)
    good = ast.parse('''
raise NotFound("no such enterprise", code="enterprise.not_found")
raise Forbidden("{role} may not {action}", code="auth.role_refused",
                params={"role": label("role", r), "action": phrase(summary)})
raise ValidationFailed(exc.detail, exc.errors, code=exc.code, params=exc.params)
raise Problem(400, "bad request", {"x": [field_error("field.x", "bad")]}, code="request.bad")
raise refuse("field.too_long", "Length must be between {min} and {max}.", min=1, max=2)
''')
    assert violations(messages.ROOT / "y.py", good) == []


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="zh_CN")


def test_every_message_id_has_its_chinese_translation(catalog):
    missing = []
    for (message, context), files in sorted(messages.extract().items(),
                                            key=lambda item: (item[0][1] or "", item[0][0])):
        entry = catalog.get(message, context=context)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(f"{context + ': ' if context else ''}{message!r} ({files[0]})")
    assert not missing, (f"{len(missing)} message ids without a zh_CN translation (make "
                         "messages, write the msgstr, make catalogs):\n" + "\n".join(missing))


def test_translations_keep_their_placeholders(catalog):
    wrong = [f"{m.id!r} → {m.string!r}" for m in catalog
             if m.id and m.string and isinstance(m.id, str)
             and placeholders(m.id) != placeholders(m.string)]
    assert not wrong, "\n".join(wrong)
