"""Matching of the supply/demand board (供求匹配): Chinese word segmentation and the score.

A plain module: no broker, no database. :mod:`services.supplydemand.board` asks PostgreSQL for
candidates (a GIN index over the segmented words, see :func:`tsquery`) and hands them to
:func:`rank`, which scores every candidate and explains the score.

Words. Chinese is written without spaces, so a title is cut into words with jieba, in the
platform's one home for full-text search, :mod:`common.search` (``jieba.lcut_for_search``: the
accurate cut plus the shorter words inside long ones, so that 数控机床 also yields 数控 and
机床). :func:`initialise` loads jieba's dictionary once per process (about a second);
:func:`segment` then normalises the words (NFKC, lower case), keeps only word characters and
drops :data:`STOP_WORDS`: function words (的, 了, 和) and the words that only say which side a
listing is on (需要, 提供, 求购, 承接). Generic words that still mean
something (服务, 产品, 技术) are kept with a low weight (:data:`GENERIC_WORDS`) instead of being
dropped, and so are single characters.

Score (0-1), the sum of five weighted factors (:data:`WEIGHTS`):

- ``text`` 0.60: the share of the probe's word weight found in the candidate. A title word of
  the probe weighs 1, a word only in its description 0.5, times the word's specificity (generic
  0.4, single character 0.3; half for a word held by more than 2 % of listings, a quarter
  above 20 %, from PostgreSQL's own statistics of the index column, see
  :class:`services.supplydemand.candidates.WordFrequencies`). A word found in the candidate's
  title counts in full, one only in its description 0.6.
- ``industry`` 0.15: GB/T 4754 codes: same code 1, same division (大类, e.g. C33) 0.7, same
  section (门类, e.g. C) 0.3.
- ``category`` 0.10: same category 1.
- ``region`` 0.05: same region 1; either side without a region (or 全国) 0.5; else 0.
- ``freshness`` 0.10: halves every :data:`HALF_LIFE_DAYS` days since publication.

Each factor adds an entry to the match's explanation: its value, weight, points and a reason
such as "shared words: 激光, 切割, 加工" or "same industry division C33".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from common import search
from common.i18n import EN, N_, label, translate

log = logging.getLogger(__name__)

WEIGHTS: dict[str, float] = {
    "text": 0.60,
    "industry": 0.15,
    "category": 0.10,
    "region": 0.05,
    "freshness": 0.10,
}
HALF_LIFE_DAYS = 30.0
#: weight of a probe word found only in the candidate's description (title: 1)
DESCRIPTION_HIT = 0.6
#: weight of a probe word that is only in the probe's description (title: 1)
DESCRIPTION_WORD = 0.5
#: at most this many words go into the tsquery (the heaviest ones)
MAX_QUERY_WORDS = 12

#: words that carry no meaning for matching: function words
#: (:data:`common.search.FUNCTION_WORDS`), and words that only say which side a listing is on
#: (a demand says 需要, an offer 提供: they never help to pair the two)
STOP_WORDS = search.FUNCTION_WORDS | frozenset({
    "需要", "需求", "急需", "求", "求购", "采购", "寻找", "寻求", "诚寻", "征集", "招募", "想",
    "希望", "提供", "供应", "供", "出售", "销售", "承接", "可提供", "对外", "转让",
})
#: words that mean something but are shared by too many listings to weigh fully
GENERIC_WORDS = frozenset({
    "服务", "产品", "技术", "业务", "项目", "合作", "方案", "解决方案", "专业", "优质", "高品质",
    "定制", "批量", "生产", "系统", "设备", "材料", "咨询", "支持", "资源", "平台", "工程",
})
GENERIC_WEIGHT = 0.4
SINGLE_CHAR_WEIGHT = 0.3
#: a word in more than this share of listings is common: it weighs half, and candidates are
#: looked up by the rarer words of the probe when it has any
COMMON_SHARE = 0.02
#: ... and in more than this share very common: it weighs a quarter
VERY_COMMON_SHARE = 0.2
#: words looked up when every word of the probe is common: the rarest ones
FALLBACK_WORDS = 2

initialise = search.initialise
normalise = search.normalise
unique = search.unique


def segment(text: str | None) -> list[str]:
    """The meaningful words of ``text`` in order (repeats kept), normalised, stop words out
    (:func:`common.search.segment` with the board's :data:`STOP_WORDS`)."""
    return search.segment(text, STOP_WORDS)


def specificity(word: str, frequencies: Mapping[str, float] | None = None) -> float:
    """How much a shared word says: generic words and single characters say less, and so do
    words found in many listings (``frequencies``: the share of listings holding each common
    word, from PostgreSQL's statistics of the index column; a word not in it is rare)."""
    if word in GENERIC_WORDS:
        weight = GENERIC_WEIGHT
    elif len(word) == 1:
        weight = SINGLE_CHAR_WEIGHT
    else:
        weight = 1.0
    share = frequencies.get(word, 0.0) if frequencies else 0.0
    if share > VERY_COMMON_SHARE:
        weight *= 0.25
    elif share > COMMON_SHARE:
        weight *= 0.5
    return weight


# --------------------------------------------------------------------------- the two sides


@dataclass(frozen=True)
class Probe:
    """What is matched: a published listing, or a search (its words are title words)."""

    title_words: Sequence[str]
    description_words: Sequence[str] = ()
    industry_code: str | None = None
    category: str | None = None
    region: str | None = None

    def word_weights(self, frequencies: Mapping[str, float] | None = None
                     ) -> dict[str, float]:
        weights: dict[str, float] = {}
        for word in self.title_words:
            weights[word] = specificity(word, frequencies)
        for word in self.description_words:
            if word not in weights:
                weights[word] = specificity(word, frequencies) * DESCRIPTION_WORD
        return weights

    def query_words(self, frequencies: Mapping[str, float] | None = None) -> list[str]:
        """The words to look candidates up by, heaviest first, at most MAX_QUERY_WORDS: the
        uncommon words of the title, else the uncommon words of the description, else the
        rarest words (a common word would pull in a large share of the board only to rank
        it; it still counts in the score)."""
        weights = self.word_weights(frequencies)
        ordered = sorted(weights, key=lambda w: (-weights[w], w))
        if frequencies:
            title = set(self.title_words)
            rare = [w for w in ordered if frequencies.get(w, 0.0) <= COMMON_SHARE]
            ordered = ([w for w in rare if w in title] or rare
                       or sorted(ordered, key=lambda w: (frequencies.get(w, 0.0), w)
                                 )[:FALLBACK_WORDS])
        return ordered[:MAX_QUERY_WORDS]


@dataclass
class Candidate:
    """A live listing of the opposite side, as the candidate query returns it."""

    id: str
    title_words: Sequence[str]
    words: Sequence[str]  # title and description
    industry_code: str | None = None
    category: str | None = None
    region: str | None = None
    published_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # what the caller shows of it


@dataclass
class Factor:
    """One factor of a score; ``message`` (an English message id) and ``params`` say why, in
    the reader's language (common/i18n.py)."""

    factor: str
    value: float
    weight: float
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return self.value * self.weight

    @property
    def reason(self) -> str:
        """Why, in English."""
        return translate(self.message, EN, self.params)

    def as_dict(self, language: str = EN) -> dict[str, Any]:
        return {"factor": self.factor, "value": round(self.value, 4), "weight": self.weight,
                "points": round(self.points, 4),
                "reason": translate(self.message, language, self.params)}


@dataclass
class Match:
    candidate: Candidate
    score: float
    shared_words: list[str]
    explanation: list[Factor]

    def as_dict(self, language: str = EN) -> dict[str, Any]:
        return {"listing": self.candidate.payload, "score": round(self.score, 4),
                "shared_words": self.shared_words,
                "explanation": [f.as_dict(language) for f in self.explanation]}


# --------------------------------------------------------------------------- factors


def text_factor(probe: Probe, candidate: Candidate,
                weights: Mapping[str, float] | None = None) -> tuple[Factor, list[str]]:
    """``weights``: the probe's word weights, computed once per ranking."""
    if weights is None:
        weights = probe.word_weights()
    total = sum(weights.values())
    in_title = set(candidate.title_words)
    everywhere = in_title | set(candidate.words)
    shared = [w for w in weights if w in everywhere]
    if not total:
        return Factor("text", 0.0, WEIGHTS["text"], N_("no words to compare")), []
    got = sum(weights[w] * (1.0 if w in in_title else DESCRIPTION_HIT) for w in shared)
    value = min(got / total, 1.0)
    if shared:
        factor = Factor("text", value, WEIGHTS["text"],
                        N_("shared words: {words} ({count} of {total} words)"),
                        {"words": shared, "count": len(shared), "total": len(weights)})
    else:
        factor = Factor("text", value, WEIGHTS["text"], N_("no words in common"))
    return factor, shared


def division(code: str | None) -> str | None:
    """The 大类 of a GB/T 4754 code as the platform writes it (C3311 -> C33)."""
    return code[:3].upper() if code and len(code) >= 3 else None


def industry_factor(a: str | None, b: str | None) -> Factor:
    weight = WEIGHTS["industry"]
    if not a or not b:
        return Factor("industry", 0.0, weight, N_("industry not given on both sides"))
    a, b = a.upper(), b.upper()
    if a == b:
        return Factor("industry", 1.0, weight, N_("same industry {code}"), {"code": a})
    if division(a) and division(a) == division(b):
        return Factor("industry", 0.7, weight, N_("same industry division {code}"),
                      {"code": division(a)})
    if a[0] == b[0]:
        return Factor("industry", 0.3, weight, N_("same industry section {code}"),
                      {"code": a[0]})
    return Factor("industry", 0.0, weight, N_("different industries ({first}, {second})"),
                  {"first": a, "second": b})


def category_factor(a: str | None, b: str | None) -> Factor:
    weight = WEIGHTS["category"]
    if a and a == b:
        return Factor("category", 1.0, weight, N_("same category {category}"),
                      {"category": label("listing_category", a)})
    return Factor("category", 0.0, weight, N_("different categories") if a and b
                  else N_("category not given on both sides"))


NATIONWIDE = frozenset({"", "全国", "不限", "nationwide"})


def region_factor(a: str | None, b: str | None) -> Factor:
    weight = WEIGHTS["region"]
    na, nb = normalise(a or ""), normalise(b or "")
    if na in NATIONWIDE or nb in NATIONWIDE:
        return Factor("region", 0.5, weight, N_("region not restricted"))
    if na == nb:
        return Factor("region", 1.0, weight, N_("same region {region}"), {"region": a})
    return Factor("region", 0.0, weight, N_("different regions ({first}, {second})"),
                  {"first": a, "second": b})


def freshness_factor(published_at: datetime | None, now: datetime) -> Factor:
    weight = WEIGHTS["freshness"]
    if published_at is None:
        return Factor("freshness", 0.0, weight, N_("not published"))
    age_days = max((now - published_at).total_seconds() / 86400.0, 0.0)
    value = 0.5 ** (age_days / HALF_LIFE_DAYS)
    whole = int(age_days)
    if whole == 0:
        return Factor("freshness", value, weight, N_("published today"))
    if whole == 1:
        return Factor("freshness", value, weight, N_("published 1 day ago"))
    return Factor("freshness", value, weight, N_("published {days} days ago"), {"days": whole})


def score(probe: Probe, candidate: Candidate, now: datetime,
          weights: Mapping[str, float] | None = None) -> Match:
    """The score of one candidate for ``probe`` and the reasons for it."""
    text, shared = text_factor(probe, candidate, weights)
    factors = [
        text,
        industry_factor(probe.industry_code, candidate.industry_code),
        category_factor(probe.category, candidate.category),
        region_factor(probe.region, candidate.region),
        freshness_factor(candidate.published_at, now),
    ]
    total = sum(f.points for f in factors)
    return Match(candidate, min(max(total, 0.0), 1.0), shared, factors)


def rank(probe: Probe, candidates: Iterable[Candidate], now: datetime,
         frequencies: Mapping[str, float] | None = None) -> list[Match]:
    """Every candidate scored, best first (ties: newer first, then by id)."""
    weights = probe.word_weights(frequencies)
    seen: set[str] = set()
    matches = []
    for candidate in candidates:
        if candidate.id in seen:
            continue
        seen.add(candidate.id)
        matches.append(score(probe, candidate, now, weights))
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    matches.sort(key=lambda m: (-round(m.score, 6),
                                -((m.candidate.published_at or epoch) - epoch).total_seconds(),
                                m.candidate.id))
    return matches


# --------------------------------------------------------------------------- index helpers


tsquery = search.any_of
document = search.document


def live_on(valid_from: date, valid_until: date, today: date) -> bool:
    return valid_from <= today <= valid_until
