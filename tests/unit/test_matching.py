"""The board's matching (供求匹配) as a plain module: segmentation, the score, its explanation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.supplydemand import matching
from services.supplydemand.matching import Candidate, Probe

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def listing(cid: str, title: str, description: str = "", industry: str | None = None,
            category: str | None = "processing", region: str | None = None,
            age_days: float = 2) -> Candidate:
    title_words = matching.segment(title)
    return Candidate(id=cid, title_words=title_words,
                     words=matching.unique(title_words + matching.segment(description)),
                     industry_code=industry, category=category, region=region,
                     published_at=NOW - timedelta(days=age_days), payload={"title": title})


def probe(title: str, description: str = "", industry: str | None = None,
          category: str | None = "processing", region: str | None = None) -> Probe:
    return Probe(title_words=matching.unique(matching.segment(title)),
                 description_words=matching.segment(description), industry_code=industry,
                 category=category, region=region)


def test_segmentation_cuts_real_words_and_drops_only_empty_ones():
    assert matching.segment("需要激光切割加工") == ["激光", "切割", "加工"]
    words = matching.segment("提供精密激光切割加工服务")
    assert words == ["精密", "激光", "切割", "加工", "服务"]  # 服务 kept: it means something
    assert "数控" in matching.segment("求购数控机床") and "机床" in matching.segment("求购数控机床")
    assert matching.segment("的 了 和，。！") == []
    assert matching.segment("承接CNC精密零部件加工")[:2] == ["cnc", "精密"]  # NFKC, lower case
    assert matching.segment("ＣＮＣ加工") == ["cnc", "加工"]


def test_the_acceptance_demand_ranks_the_laser_cutting_offer_first_and_says_why():
    demand = probe("需要激光切割加工", industry="C33")
    offers = [
        listing("fresh-unrelated", "提供软件开发外包服务", industry="I65", age_days=0),
        listing("laser", "提供精密激光切割加工服务", industry="C3311", age_days=5),
        listing("furniture", "出售二手办公家具", industry="C33", age_days=0),
        listing("logistics", "提供冷链物流运输", category="logistics", age_days=1),
    ]
    ranked = matching.rank(demand, offers, NOW)
    assert ranked[0].candidate.id == "laser"
    best = ranked[0]
    assert best.shared_words == ["激光", "切割", "加工"]
    for other in ranked[1:]:
        assert other.shared_words == []
        assert best.score > other.score
    reasons = {f.factor: f.reason for f in best.explanation}
    assert "激光" in reasons["text"] and "切割" in reasons["text"] and "加工" in reasons["text"]
    assert reasons["industry"] == "same industry division C33"
    assert reasons["freshness"] == "published 5 days ago"
    assert abs(sum(f.points for f in best.explanation) - best.score) < 1e-9
    as_json = best.as_dict()
    assert as_json["shared_words"] == ["激光", "切割", "加工"]
    assert {e["factor"] for e in as_json["explanation"]} == set(matching.WEIGHTS)


def test_more_shared_words_rank_higher_and_title_hits_beat_description_hits():
    demand = probe("需要激光切割加工")
    full = listing("full", "激光切割加工")
    partial = listing("partial", "金属切割刀具")
    in_description = listing("desc", "钣金加工中心", "可承接激光切割")
    ranked = [m.candidate.id for m in matching.rank(demand, [partial, in_description, full], NOW)]
    assert ranked[0] == "full"
    scores = {m.candidate.id: m.score for m in matching.rank(demand, [full, partial], NOW)}
    assert scores["full"] > scores["partial"]
    title_hit = matching.text_factor(demand, listing("t", "激光切割"))[0].value
    description_hit = matching.text_factor(demand, listing("d", "设备", "激光切割"))[0].value
    assert title_hit > description_hit > 0


def test_generic_words_weigh_less_than_specific_ones():
    demand = probe("需要激光切割服务")
    generic = matching.text_factor(demand, listing("g", "提供咨询服务"))[0]
    specific = matching.text_factor(demand, listing("s", "激光设备"))[0]
    assert 0 < generic.value < specific.value


@pytest.mark.parametrize(("a", "b", "value", "reason"), [
    ("C3311", "C3311", 1.0, "same industry C3311"),
    ("C33", "C3311", 0.7, "same industry division C33"),
    ("C33", "C39", 0.3, "same industry section C"),
    ("C33", "I65", 0.0, "different industries (C33, I65)"),
    (None, "C33", 0.0, "industry not given on both sides"),
])
def test_industry_proximity(a, b, value, reason):
    factor = matching.industry_factor(a, b)
    assert (factor.value, factor.reason) == (value, reason)


def test_region_and_category_and_freshness():
    assert matching.region_factor("青岛", "青岛").value == 1.0
    assert matching.region_factor("青岛", "").value == 0.5
    assert matching.region_factor("全国", "济南").value == 0.5
    assert matching.region_factor("青岛", "济南").value == 0.0
    assert matching.category_factor("processing", "processing").value == 1.0
    assert matching.category_factor("processing", "materials").value == 0.0
    fresh = matching.freshness_factor(NOW, NOW)
    month = matching.freshness_factor(NOW - timedelta(days=30), NOW)
    assert fresh.value == 1.0 and abs(month.value - 0.5) < 1e-9
    assert fresh.reason == "published today" and month.reason == "published 30 days ago"


def test_ties_go_to_the_newer_listing_and_duplicates_count_once():
    demand = probe("激光切割")
    old = listing("old", "激光切割", age_days=3)
    new = listing("new", "激光切割", age_days=3)
    new.published_at = old.published_at + timedelta(seconds=1)  # type: ignore[operator]
    new.industry_code = old.industry_code
    ranked = matching.rank(demand, [old, new, old], NOW)
    assert [m.candidate.id for m in ranked] == ["new", "old"]


def test_tsquery_ors_the_words_and_quotes_them():
    assert matching.tsquery(["激光", "切割"]) == "'激光' | '切割'"
    assert matching.tsquery(["it's", "a|b"]) is None  # never produced by segment(): refused
    assert matching.tsquery([]) is None
    words = probe("需要激光切割加工服务", "长期合作，量大从优").query_words()
    assert words[:3] == ["切割", "加工", "激光"] and len(words) <= matching.MAX_QUERY_WORDS


def test_common_words_weigh_less_and_rarer_ones_are_looked_up():
    demand = probe("需要精密激光切割加工")
    shares = {"加工": 0.3, "精密": 0.05}  # from pg_stats: the share of listings holding them
    assert matching.specificity("加工", shares) == 0.25
    assert matching.specificity("精密", shares) == 0.5
    assert matching.specificity("激光", shares) == 1.0  # not listed: rare
    assert demand.query_words(shares) == ["切割", "激光"]
    everything_common = {"激光": 0.1, "切割": 0.05, "加工": 0.3, "精密": 0.03}
    assert demand.query_words(everything_common) == ["精密", "切割"]  # the rarest two
    assert demand.query_words() == ["切割", "加工", "激光", "精密"]  # no statistics: all
    laser = listing("laser", "激光切割")
    machining = listing("machining", "精密加工")
    ranked = matching.rank(demand, [machining, laser], NOW, shares)
    assert ranked[0].candidate.id == "laser"  # the rare words it shares say more

