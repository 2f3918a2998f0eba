"""Chinese full-text search (全文检索), one home for every service: jieba segmentation and
PostgreSQL ``tsvector`` / ``tsquery`` texts.

Chinese is written without spaces and PostgreSQL's parsers cannot cut it into words, so the
words are cut in Python with jieba (``jieba.lcut_for_search``: the accurate cut plus the
shorter dictionary words inside long ones, so that 激光切割 also yields 激光 and 切割) and
stored as a ``tsvector`` of the ``'simple'`` configuration (no stemming, no stop words of its
own), indexed with GIN. Used by the supply/demand board's matching
(:mod:`services.supplydemand.matching`), the demand and ledger search of ticketing and the
registry's enterprise search.

- :func:`segment` the meaningful words of a text (normalised: NFKC, lower case; function
  words, punctuation and, for matching, numbers out); :func:`words` the words a search finds
  a text by (numbers kept).
- :func:`document` the text ``to_tsvector('simple', ...)`` indexes; :func:`vector` the SQL
  expression of a weighted vector (title A, description B, ...).
- :func:`keywords` the words of what a person typed into a search box: the finest words, so
  that 激光切割 finds 激光精密切割 too; :func:`all_of` an AND ``tsquery`` text of them (every
  word must be there), :func:`any_of` an OR one (the board's candidates).

A plain module: no broker, no database connection. :func:`initialise` loads jieba's dictionary
(about a second); call it when a service starts so that no request pays for it.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

log = logging.getLogger(__name__)

#: words that carry no meaning for search: function words, pronouns, measure words, and the
#: words every enterprise's text holds
FUNCTION_WORDS = frozenset({
    "的", "了", "和", "与", "及", "以及", "或", "或者", "等", "等等", "在", "是", "有", "为",
    "对", "将", "把", "被", "从", "向", "到", "并", "而", "且", "也", "都", "就", "还", "之",
    "其", "此", "该", "这", "那", "个", "些", "我", "我们", "你", "您", "贵", "本", "我司",
    "贵司", "一", "一批", "一些", "各类", "各种", "相关", "有关", "如下", "以上", "以下",
    "可", "可以", "能", "能够", "欢迎", "请", "联系", "长期", "大量", "若干", "一家", "公司",
    "企业", "单位", "有限公司",
})
#: at most this many words of a search box go into the query
MAX_KEYWORDS = 12
#: PostgreSQL indexes no word longer than this (in UTF-8 bytes): a longer one in a tsvector
#: literal is an error ("word is too long"), and to_tsvector leaves it out; so do we
MAX_WORD_BYTES = 2047
#: weights of ``ts_rank`` for the labels D, C, B, A (PostgreSQL's order)
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"

_WORD = re.compile(r"^\w+$")
_lock = threading.Lock()
_jieba: Any = None


def initialise() -> None:
    """Load jieba and its dictionary (once per process; about a second)."""
    global _jieba
    with _lock:
        if _jieba is not None:
            return
        import jieba

        jieba.setLogLevel(logging.WARNING)  # it prints "Building prefix dict..." otherwise
        jieba.initialize()
        _jieba = jieba


def _tokens(text: str) -> list[str]:
    if _jieba is None:
        initialise()
    return list(_jieba.lcut_for_search(text))


def normalise(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower()


def segment(text: str | None, stop_words: frozenset[str] = FUNCTION_WORDS,
            digits: bool = False) -> list[str]:
    """The meaningful words of ``text`` in order (repeats kept), normalised, stop words out;
    numbers too unless ``digits``."""
    if not text:
        return []
    out = []
    for token in _tokens(unicodedata.normalize("NFKC", text)):
        word = normalise(token)
        if word and _WORD.match(word) and word not in stop_words and (
                digits or not word.isdigit()) and len(word.encode()) <= MAX_WORD_BYTES:
            out.append(word)
    return out


def words(text: str | None) -> list[str]:
    """The words a search finds a text by: :func:`segment` keeping numbers (a name's
    130105, a year's 2026), so that a search box holding them narrows as people expect."""
    return segment(text, FUNCTION_WORDS, digits=True)


def unique(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(words))


def document(words: Sequence[str]) -> str:
    """The text ``to_tsvector('simple', ...)`` indexes: the words, space-separated."""
    return " ".join(words)


def document_of(*texts: str | None) -> str:
    """:func:`document` of the words of several texts."""
    return document([w for text in texts for w in words(text)])


def keywords(query: str | None) -> list[str]:
    """The words of a search box, finest first: a word holding a shorter word of the same
    query is left out (激光切割 → 激光, 切割), so that a document segmented differently
    (激光精密切割) is still found; at most :data:`MAX_KEYWORDS`."""
    found = unique(words(query))
    finest = [w for w in found if not any(o != w and o in w for o in found)]
    return finest[:MAX_KEYWORDS]


def _quoted(words: Sequence[str]) -> list[str]:
    return [f"'{w}'" for w in words if _WORD.match(w)]  # \w+ only: quoting is safe


def all_of(words: Sequence[str]) -> str | None:
    """A ``to_tsquery('simple', ...)`` text AND-ing ``words``; None without words."""
    quoted = _quoted(words)
    return " & ".join(quoted) if quoted else None


def any_of(words: Sequence[str]) -> str | None:
    """A ``to_tsquery('simple', ...)`` text OR-ing ``words``; None without words."""
    quoted = _quoted(words)
    return " | ".join(quoted) if quoted else None


def tsvector(*parts: tuple[Sequence[str], str]) -> str:
    """A ``tsvector`` literal of ``parts`` (words, label A-D), positions counted across the
    parts: ``'激光':1A '切割':2A,7B``. Bound as a parameter and stored as it is (no parser
    in between), and searched with :func:`matches` (a ``tsquery`` literal), so that the words
    are exactly jieba's."""
    positions: dict[str, list[str]] = {}
    position = 0
    for words, weight in parts:
        for word in words:
            position += 1
            if _WORD.match(word) and len(word.encode()) <= MAX_WORD_BYTES:
                positions.setdefault(word, []).append(f"{min(position, 16383)}{weight}")
    return " ".join(f"'{word}':{','.join(where)}" for word, where in positions.items())


def vector(*parts: tuple[str, str]) -> Any:
    """The SQL expression of a weighted ``tsvector``: ``parts`` of (document, label A-D),
    e.g. ``vector((document(title_words), "A"), (document(description_words), "B"))``."""
    from sqlalchemy import func, literal_column

    simple: Any = literal_column("'simple'::regconfig")
    expression: Any = None
    for text, weight in parts:
        piece = func.setweight(func.to_tsvector(simple, text), weight)
        expression = piece if expression is None else expression.op("||")(piece)
    if expression is None:
        return literal_column("''::tsvector")
    return expression


def _tsquery(query: str) -> Any:
    from sqlalchemy import bindparam, cast
    from sqlalchemy.dialects.postgresql import TSQUERY

    return cast(bindparam(None, query), TSQUERY)


def matches(column: Any, query: str) -> Any:
    """``column @@ query::tsquery``: a column written with :func:`tsvector`, a query text of
    :func:`all_of` or :func:`any_of` (lexemes as they are, no parser)."""
    return column.op("@@")(_tsquery(query))


def rank(column: Any, query: str) -> Any:
    """``ts_rank`` of ``column`` for ``query``, title words (A) weighing most, normalised by
    the document's length (1: divided by 1 + log of its length)."""
    from sqlalchemy import Float, func, literal_column

    return func.ts_rank(literal_column(f"'{RANK_WEIGHTS}'::float4[]"), column,
                        _tsquery(query), 1, type_=Float)
