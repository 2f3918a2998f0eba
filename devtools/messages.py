"""Extract every message id of the platform into the template and merge it into each catalog.

``make messages`` runs this (``make catalogs``, ``python -m devtools.messages compile``,
compiles the catalogs): Babel's extraction API over ``common/``, ``gateway/`` and
``services/`` with the keywords of :func:`keywords` and an extraction method that reads the
syntax tree (:func:`extract_python`), written to ``common/locale/gridsvc.pot`` and merged into
each ``common/locale/<lang>/LC_MESSAGES/gridsvc.po`` (new entries untranslated: write their
``msgstr``, then ``make catalogs``). The tests extract the same way (:func:`extract`) and
fail on a message id without its Chinese text (tests/unit/test_messages.py).

The keywords are the callables whose argument is a message id: gettext's own, ``N_`` and
``NC_`` (common/i18n.py), every domain error and every :class:`common.errors.InvalidValue`
(found in the code by :func:`error_classes`, so a new subclass is extracted too), the gateway's
``Problem`` and ``problem_response``, ``field_error``, ``refuse``, ``phrase``, ``translate``,
the endpoints' summaries and a service's ``Translator`` (``t("...")``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("common", "gateway", "services")
LOCALE_DIR = ROOT / "common" / "locale"
TEMPLATE = LOCALE_DIR / "gridsvc.pot"
DOMAIN = "gridsvc"

#: errors whose first argument is the message id (``NotFound("no such enterprise", ...)``)
DOMAIN_ERROR_BASES = frozenset({"DomainError"})
#: values refused by plain modules: ``InvalidCreditCode(code, "message id", **params)``
INVALID_VALUE_BASES = frozenset({"InvalidValue"})

#: keyword → Babel's spec: the positions (1-based) of the message id, ``(n, "c")`` a context
STATIC_KEYWORDS: dict[str, Any] = {
    **DEFAULT_KEYWORDS,
    "N_": None,
    "NC_": ((1, "c"), 2),
    "t": None,  # a Translator (common/i18n.py)
    "translate": None,
    "phrase": None,
    "field_error": (2,),
    "refuse": (2,),  # a marshmallow field's or validator's coded refusal (common/fields.py)
    "Problem": (2,),
    "problem_response": (2,),
    "Endpoint": (4,),  # the summary: "role {role} may not {action}" names the action by it
}


def _python_files(roots: Iterable[str] = SOURCES) -> Iterator[Path]:
    for root in roots:
        yield from sorted((ROOT / root).rglob("*.py"))


def _subclasses(bases: frozenset[str], trees: list[ast.Module]) -> set[str]:
    """Every class (by name) deriving from one of ``bases``, directly or not."""
    found = set(bases)
    edges = [(node.name, {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                          for b in node.bases})
             for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    changed = True
    while changed:
        changed = False
        for name, parents in edges:
            if name not in found and parents & found:
                found.add(name)
                changed = True
    return found


def parsed_sources(roots: Iterable[str] = SOURCES) -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in _python_files(roots)}


def error_classes(trees: Iterable[ast.Module] | None = None) -> tuple[set[str], set[str]]:
    """(domain error classes, InvalidValue classes) defined anywhere in the sources."""
    modules = list(trees if trees is not None else parsed_sources().values())
    return _subclasses(DOMAIN_ERROR_BASES, modules), _subclasses(INVALID_VALUE_BASES, modules)


def keywords(trees: Iterable[ast.Module] | None = None) -> dict[str, Any]:
    domain, invalid = error_classes(trees)
    return {**STATIC_KEYWORDS, **dict.fromkeys(domain), **dict.fromkeys(invalid, (2,))}


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def extract_python(fileobj: Any, keywords: Iterable[str], comment_tags: Any,
                   options: Any) -> Iterator[tuple[int, str, tuple[str | None, ...], list[str]]]:
    """A Babel extraction method reading the syntax tree: each call of a keyword with its
    positional arguments, a literal string or None (Babel picks the ones its spec names).
    Babel's own tokenizer takes a string of a dict or a list argument for the message id when
    the id is not the first string of the call (``ValidationFailed(exc.detail, {"x": ...})``)."""
    wanted = set(keywords)
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node.func) in wanted:
            arguments = tuple(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str)
                              else None for a in node.args)
            if any(arguments):
                yield node.lineno, str(_called(node.func)), arguments, []


def extract() -> dict[tuple[str, str | None], list[str]]:
    """Every message id in the sources: (message id, context) → the files that use it."""
    found: dict[tuple[str, str | None], list[str]] = {}
    method_map = [(f"{root}/**.py", extract_python) for root in SOURCES]
    for filename, _lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, keywords=keywords(),
            directory_filter=lambda path: Path(path).name not in {".venv", ".venv-tools",
                                                                  "node_modules", "tests"}):
        if isinstance(message, tuple):  # a plural: singular and plural are both ids
            messages = [m for m in message if m]
        else:
            messages = [message] if message else []
        for text in messages:
            found.setdefault((text, context), []).append(filename)
    return found


def template() -> Catalog:
    catalog = Catalog(project="gridsvc", domain=DOMAIN, charset="utf-8")
    for (message, context), files in sorted(extract().items(),
                                            key=lambda item: (item[0][1] or "", item[0][0])):
        catalog.add(message, context=context, locations=[(f, 0) for f in sorted(set(files))])
    return catalog


def compile_catalogs() -> list[Path]:
    """Compile every ``.po`` into its ``.mo`` (``make catalogs``, the image build); fuzzy
    entries are left out. The compiled files."""
    from babel.messages.mofile import write_mo

    written = []
    for po_path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


def main(argv: list[str] | None = None) -> int:
    if (argv if argv is not None else sys.argv[1:]) == ["compile"]:
        for path in compile_catalogs():
            print(f"compiled {path.relative_to(ROOT)}")
        return 0
    pot = template()
    with TEMPLATE.open("wb") as out:
        write_po(out, pot, no_location=True, sort_output=True, width=100)
    for po_path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=po_path.parent.parent.name)
        catalog.update(pot, no_fuzzy_matching=True)
        with po_path.open("wb") as out:
            write_po(out, catalog, no_location=True, sort_output=True, ignore_obsolete=True,
                     width=100)
        untranslated = [m.id for m in catalog if m.id and not m.string]
        print(f"{po_path.relative_to(ROOT)}: {len(catalog)} messages, "
              f"{len(untranslated)} without a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
