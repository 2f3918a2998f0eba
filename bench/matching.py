"""Benchmark of the board's matching (供求匹配): top-10 match latency over 100,000 live listings.

    python -m bench.matching                                   # 100,000 listings, 200 queries
    python -m bench.matching --listings 5000 --queries 50 --database gridsvc_bench_small

The issue: "`make bench` prints the top-10 match latency (p50, p95) over 100,000 live listings
(target p95 under 50 ms)."

What it does, on the benchmark database (``gridsvc_bench`` unless ``--database``; migrated,
its ``supplydemand`` tables emptied first, other schemas untouched):

1. Invent 1,200 enterprises in scope (and 40 out of scope) and ``--listings`` live listings,
   half supply and half demand, with realistic Chinese titles and descriptions built from word
   lists (提供精密激光切割加工服务, 求购伺服电机 ...), industry codes, categories, regions,
   validity periods and publication times spread over 90 days; plus 6 % more that must never
   show (hidden, past their end date, of an out-of-scope enterprise), so the queries have rows
   to skip. Words are cut by the service's own :func:`matching.segment`
   (jieba), the rows loaded with COPY and one ``INSERT ... SELECT`` that builds the tsvector.
2. ``ANALYZE``, then ``--queries`` probes: random live listings of both sides, each ranked by the
   service's own :func:`board.matches_for` (candidate SQL on the partial GIN index, then the
   Python re-rank) and cut to the top 10, timed one by one after a warm-up. The SQL part and
   the re-rank are also timed apart.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from common.db import make_engine
from devtools.migrate import upgrade_all

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
DATABASE = "gridsvc_bench"
TARGET_P95_MS = 50.0
SEED = 20260706
#: listings besides the live ones that must never show: hidden, expired, out of scope (a
#: third each)
NOT_LIVE_SHARE = 0.06
OUT_OF_SCOPE_ENTERPRISES = 40

# --------------------------------------------------------------------------- word lists

#: (product or process, category, industry code)
GOODS = [
    ("激光切割", "processing", "C3311"), ("数控车床", "equipment", "C3421"),
    ("注塑模具", "processing", "C3525"), ("钣金", "processing", "C3311"),
    ("不锈钢板材", "materials", "C3140"), ("铝型材", "materials", "C3252"),
    ("3D打印", "processing", "C3491"), ("工业软件", "software", "I6513"),
    ("电路板", "products", "C3982"), ("锂电池", "products", "C3841"),
    ("包装材料", "materials", "C2231"), ("冷链物流", "logistics", "G5431"),
    ("仓储", "logistics", "G5960"), ("检测认证", "services", "M7452"),
    ("工业设计", "services", "M7491"), ("传感器", "products", "C3983"),
    ("伺服电机", "equipment", "C3812"), ("PLC控制系统", "equipment", "C4011"),
    ("工业机器人", "equipment", "C3491"), ("焊接", "processing", "C3311"),
    ("喷涂", "processing", "C3360"), ("阳极氧化", "processing", "C3360"),
    ("电镀", "processing", "C3360"), ("热处理", "processing", "C3360"),
    ("铸造", "processing", "C3391"), ("锻造", "processing", "C3392"),
    ("冲压", "processing", "C3311"), ("紧固件", "products", "C3482"),
    ("轴承", "products", "C3451"), ("齿轮", "products", "C3453"),
    ("液压件", "products", "C3444"), ("阀门", "products", "C3443"),
    ("电线电缆", "products", "C3831"), ("变压器", "equipment", "C3821"),
    ("光伏组件", "products", "C3825"), ("LED照明", "products", "C3872"),
    ("医疗器械", "products", "C3581"), ("检测试剂", "products", "C2770"),
    ("生物发酵", "technology", "C2761"), ("食品添加剂", "materials", "C1495"),
    ("化工原料", "materials", "C2614"), ("环保涂料", "materials", "C2641"),
    ("橡胶制品", "products", "C2919"), ("塑料粒子", "materials", "C2651"),
    ("碳纤维", "materials", "C3062"), ("复合材料", "materials", "C3062"),
    ("纺织面料", "materials", "C1752"), ("服装加工", "processing", "C1810"),
    ("彩色印刷", "services", "C2319"), ("瓦楞纸箱", "products", "C2231"),
    ("木托盘", "products", "C2039"), ("叉车", "equipment", "C3433"),
    ("货车运输", "logistics", "G5430"), ("报关", "services", "G5821"),
    ("跨境电商", "market", "F5292"), ("软件开发", "software", "I6511"),
    ("小程序开发", "software", "I6511"), ("云服务器", "software", "I6450"),
    ("数据标注", "software", "I6550"), ("网络安全", "software", "I6520"),
    ("财务代账", "services", "M7241"), ("知识产权", "services", "M7250"),
    ("专利申请", "technology", "M7520"), ("法律咨询", "services", "L7221"),
    ("人力外包", "talent", "L7263"), ("技术工人", "talent", "L7263"),
    ("研发工程师", "talent", "M7320"), ("标准厂房", "space", "K7040"),
    ("办公场地", "space", "K7040"), ("融资租赁", "finance", "J6631"),
    ("流动资金贷款", "finance", "J6621"), ("展会推广", "market", "L7281"),
    ("市场调研", "market", "L7232"), ("品牌设计", "services", "M7491"),
    ("宣传视频制作", "services", "R8730"), ("芯片封装", "processing", "C3973"),
    ("精密模具", "processing", "C3525"), ("新能源汽车零部件", "products", "C3670"),
]
MODIFIERS = ["精密", "大型", "小批量", "批量", "高精度", "定制", "专业", "快速", "环保", "进口",
             "国产", "二手", "全新", "高端", "自动化", "智能", "节能", "耐高温", "食品级", ""]
SUPPLY_PREFIXES = ["提供", "承接", "供应", "出售", "可提供", "专业承接"]
DEMAND_PREFIXES = ["需要", "求购", "寻找", "采购", "急需", "寻求"]
SERVICES = ["加工", "服务", "生产", "维修", "外包", "租赁", "合作", "解决方案", "检测", "",
            "供应商", "代工"]
PHRASES = [
    "年产能{n}万件", "交期{d}天以内", "可提供样品", "支持来图来样定制", "通过ISO9001认证",
    "长期稳定合作", "价格面议", "量大从优", "需开具增值税专用发票", "要求本地企业优先",
    "有{n}年行业经验", "设备{n}台套", "技术团队{n}人", "可上门服务", "需要提供检测报告",
    "月需求约{n}吨", "包运输到厂", "付款方式月结", "急单可加急处理", "欢迎实地考察",
]
REGIONS = [None, None, "青岛", "青岛", "青岛高新区", "济南", "烟台", "全国", "山东省"]


def _title(rng: random.Random, side: str, good: str) -> str:
    prefix = rng.choice(SUPPLY_PREFIXES if side == "supply" else DEMAND_PREFIXES)
    return f"{prefix}{rng.choice(MODIFIERS)}{good}{rng.choice(SERVICES)}"


NUMBERS = (2, 3, 5, 8, 10, 15, 20, 30, 50, 100, 200, 500)


def _description(rng: random.Random) -> list[str]:
    """Two to four phrases (joined with ， into the description)."""
    return [p.format(n=rng.choice(NUMBERS), d=rng.choice(NUMBERS))
            for p in rng.sample(PHRASES, rng.randint(2, 4))]


# --------------------------------------------------------------------------- fill


def _clear(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE supplydemand.docking_events, supplydemand.dockings, "
                          "supplydemand.matches, supplydemand.moderations, "
                          "supplydemand.listings, supplydemand.enterprises"))


def _tsv(value: Any) -> str:
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


STAGE = """
CREATE TEMP TABLE stage (
  id uuid, side text, enterprise_id uuid, title text, description text, category text,
  industry_code text, region text, valid_from date, valid_until date, status text,
  title_doc text, description_doc text, title_words text, words text, published_at timestamptz
) ON COMMIT DROP
"""
INSERT = """
INSERT INTO supplydemand.listings (
  id, side, enterprise_id, title, description, category, industry_code, industry_division,
  region, valid_from, valid_until, status, hidden_reason, status_before_hidden, title_words,
  words, search, published_at, created_by, created_role, created_at, updated_at, version)
SELECT id, side, enterprise_id, title, description, category, industry_code,
       left(industry_code, 3), region, valid_from, valid_until, status,
       CASE WHEN status = 'hidden' THEN 'bench' END,
       CASE WHEN status = 'hidden' THEN 'published' END,
       string_to_array(title_words, ' '), string_to_array(words, ' '),
       setweight(to_tsvector('simple', title_doc), 'A')
         || setweight(to_tsvector('simple', description_doc), 'B'),
       published_at, 'bench', 'enterprise', published_at, published_at, 1
FROM stage
"""


def fill(engine: Engine, listings: int, rng: random.Random) -> dict[str, Any]:
    """Enterprises and listings (see the module docstring); timings of each phase."""
    from services.supplydemand import board, matching

    started = time.perf_counter()
    matching.initialise()
    _clear(engine)
    enterprises = []
    for i in range(1200 + OUT_OF_SCOPE_ENTERPRISES):
        good = rng.choice(GOODS)
        enterprise_id = str(uuid.UUID(int=rng.getrandbits(128)))
        enterprises.append((enterprise_id, f"青岛基准企业{i:04d}有限公司",
                            f"INC{1 + i % 24:02d}", good[2][:3], i < 1200))
    in_scope = [e for e in enterprises if e[4]]
    out_of_scope = [e for e in enterprises if not e[4]]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO supplydemand.enterprises (id, name, grid_id, "
                          "industry_code, in_scope) VALUES (:i, :n, :g, :c, :s)"),
                     [{"i": e[0], "n": e[1], "g": e[2], "c": e[3], "s": e[4]}
                      for e in enterprises])
    today = board.today()
    now = datetime.now(UTC)
    cache: dict[str, list[str]] = {}

    def words(value: str) -> list[str]:
        if value not in cache:
            cache[value] = matching.segment(value)
        return cache[value]

    buffer = io.StringIO()
    statuses = {"live": 0, "hidden": 0, "expired": 0, "out_of_scope": 0}
    extra = round(listings * NOT_LIVE_SHARE)  # not live, each kind a third: never shown
    kinds = ["live"] * listings + [k for k in ("hidden", "expired", "out_of_scope")
                                   for _ in range(extra // 3)]
    rng.shuffle(kinds)
    segmented = time.perf_counter()
    for i, kind in enumerate(kinds):
        side = "supply" if i % 2 == 0 else "demand"
        good, category, industry = rng.choice(GOODS)
        title = _title(rng, side, good)
        phrases = _description(rng)
        description = "，".join(phrases) + "。"
        # the phrases are cut one by one (the comma separates words anyway): fewer distinct
        # texts for jieba, the same words
        title_words = words(title)
        description_words = [w for phrase in phrases for w in words(phrase)]
        age = rng.uniform(0, 90)
        valid_from = today - timedelta(days=int(age))
        valid_until = today + timedelta(days=rng.randint(1, 270))
        status = "hidden" if kind == "hidden" else "published"
        if kind == "expired":  # past its end date, not yet swept
            valid_until = today - timedelta(days=rng.randint(1, 30))
            valid_from = min(valid_from, valid_until)
        owner = rng.choice(out_of_scope if kind == "out_of_scope" else in_scope)[0]
        statuses[kind] += 1
        row = (uuid.UUID(int=rng.getrandbits(128)), side, owner, title,
               description, category, industry if rng.random() > 0.2 else industry[:3],
               rng.choice(REGIONS), valid_from, valid_until, status,
               " ".join(title_words), " ".join(description_words),
               " ".join(matching.unique(title_words)),
               " ".join(matching.unique(title_words + description_words)),
               (now - timedelta(days=age)).isoformat())
        buffer.write("\t".join(_tsv(v) for v in row) + "\n")
    segment_seconds = time.perf_counter() - segmented
    loaded = time.perf_counter()
    buffer.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute(STAGE)
            cur.copy_expert("COPY stage FROM STDIN", buffer)
            cur.execute(INSERT)
        raw.commit()
    finally:
        raw.close()
    load_seconds = time.perf_counter() - loaded
    analysed = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE supplydemand.listings"))
        conn.execute(text("VACUUM ANALYZE supplydemand.enterprises"))
    return {"listings": listings, "rows": len(kinds), "by_status": statuses,
            "enterprises": len(enterprises),
            "distinct_texts_segmented": len(cache), "segment_seconds": segment_seconds,
            "load_seconds": load_seconds,
            "analyze_seconds": time.perf_counter() - analysed,
            "total_seconds": time.perf_counter() - started}


# --------------------------------------------------------------------------- measure


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(engine: Engine, queries: int, rng: random.Random, warmup: int = 20
            ) -> dict[str, Any]:
    from services.supplydemand import board, candidates, matching
    from services.supplydemand.models import Listing

    with engine.connect() as conn:
        probe_ids = [str(r[0]) for r in conn.execute(text(
            "SELECT l.id FROM supplydemand.listings l JOIN supplydemand.enterprises e "
            "ON e.id = l.enterprise_id WHERE l.status = 'published' AND e.in_scope "
            "AND l.valid_until >= :d ORDER BY l.id"), {"d": board.today()})]
    chosen = rng.sample(probe_ids, min(len(probe_ids), queries + warmup))
    totals: list[float] = []
    sql_times: list[float] = []
    rank_times: list[float] = []
    candidate_counts: list[int] = []
    top_scores: list[float] = []
    load_before = os.getloadavg()[0]
    candidates.WORD_FREQUENCIES.reset()  # read the statistics of the data just analysed
    with Session(engine) as session:
        frequencies = candidates.WORD_FREQUENCIES.get(session)
        for n, listing_id in enumerate(chosen):
            listing = session.get(Listing, listing_id)
            assert listing is not None
            started = time.perf_counter()
            ranked = board.matches_for(session, listing)  # the service's own path
            top = board.page(ranked, 1, 10)
            elapsed = time.perf_counter() - started
            # the two halves again, apart (the SQL is warm now, as in the timed run)
            probe = board.probe_of(listing)
            t0 = time.perf_counter()
            found = candidates.candidates(session, probe, board.opposite(listing.side),
                                          board.today(), exclude_enterprise=listing.enterprise_id,
                                          frequencies=frequencies)
            t1 = time.perf_counter()
            matching.rank(probe, found, board.now(), frequencies)
            t2 = time.perf_counter()
            session.rollback()
            if n < warmup:
                continue
            totals.append(elapsed * 1000)
            sql_times.append((t1 - t0) * 1000)
            rank_times.append((t2 - t1) * 1000)
            candidate_counts.append(len(found))
            if top["items"]:
                top_scores.append(top["items"][0]["score"])
    p95 = _percentile(totals, 95)
    return {
        "queries": len(totals), "warmup": warmup,
        "p50_ms": _percentile(totals, 50), "p95_ms": p95, "p99_ms": _percentile(totals, 99),
        "max_ms": max(totals), "mean_ms": statistics.fmean(totals),
        "sql_p50_ms": _percentile(sql_times, 50), "sql_p95_ms": _percentile(sql_times, 95),
        "rank_p50_ms": _percentile(rank_times, 50), "rank_p95_ms": _percentile(rank_times, 95),
        "candidates_mean": statistics.fmean(candidate_counts),
        "top_score_median": statistics.median(top_scores) if top_scores else None,
        "common_words_known": len(frequencies),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "target_p95_ms": TARGET_P95_MS, "target_met": p95 < TARGET_P95_MS,
    }


def run(listings: int = 100_000, queries: int = 200, database: str = DATABASE,
        seed: int = SEED, refill: bool = True) -> dict[str, Any]:
    """Fill and measure; the figures (``ok`` when p95 is under the target). ``refill=False``
    measures the listings already there (from an earlier run)."""
    url = f"{PG}/{database}"
    upgrade_all(url)
    engine = make_engine(url, "supplydemand", "bench-matching", pool_size=2)
    rng = random.Random(seed)
    try:
        if refill:
            filled = fill(engine, listings, rng)
            print(f"{listings:,} live listings ({filled['rows']:,} rows: "
                  f"{filled['by_status']}) filled in "
                  f"{filled['total_seconds']:.1f} s (segmenting "
                  f"{filled['segment_seconds']:.1f} s, COPY + INSERT "
                  f"{filled['load_seconds']:.1f} s)")
        else:
            with engine.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM supplydemand.listings")
                                     ).scalar_one()
            filled = {"listings": count, "reused": True}
            print(f"measuring the {count:,} listings already in {database}")
        figures = measure(engine, queries, rng)
    finally:
        engine.dispose()
    report(figures)
    return {**figures, "fill": filled, "database": database, "ok": figures["target_met"]}


def report(f: dict[str, Any]) -> None:
    verdict = "met" if f["target_met"] else "MISSED"
    print(f"top-10 matches, {f['queries']} queries: p50 {f['p50_ms']:.1f} ms, "
          f"p95 {f['p95_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, max {f['max_ms']:.1f} ms "
          f"(target p95 < {f['target_p95_ms']:.0f} ms: {verdict})")
    print(f"  candidate SQL p50 {f['sql_p50_ms']:.1f} ms / p95 {f['sql_p95_ms']:.1f} ms; "
          f"re-rank p50 {f['rank_p50_ms']:.1f} ms / p95 {f['rank_p95_ms']:.1f} ms; "
          f"{f['candidates_mean']:.0f} candidates on average; load average "
          f"{f['load_average_1m'][0]} before, {f['load_average_1m'][1]} after "
          f"({os.cpu_count()} CPUs)")


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, value, verdict) rows for ``bench.run``'s table."""
    verdict = ("ok" if r["target_met"]
               else f"MISSED by {r['p95_ms'] - r['target_p95_ms']:.1f} ms")
    return [
        ("matching", "data set", f"{r['fill']['listings']:,} listings, {r['queries']} queries",
         ""),
        ("matching", "top-10 matches p50 / p95",
         f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms",
         f"target p95 {r['target_p95_ms']:.0f} ms: {verdict}"),
        ("matching", "candidate SQL / re-rank p50",
         f"{r['sql_p50_ms']:.1f} / {r['rank_p50_ms']:.1f} ms", ""),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-refill", action="store_true",
                        help="measure the listings an earlier run left")
    args = parser.parse_args(argv)
    run(args.listings, args.queries, args.database, args.seed, refill=not args.no_refill)
    return 0


if __name__ == "__main__":
    sys.exit(main())
