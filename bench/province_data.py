"""The generated province of ``make bench ONLY=province`` (:mod:`bench.province`): 100,000
enterprises in 3,000 grids with 5,000 grid workers and a year of 1,000,000 demands, on its own
database (``gridsvc_bench_province``), generated set-wise (``INSERT ... SELECT`` over
``generate_series``) once and reused while its marker row says it is complete.

    python -m bench.province_data                      # generate if missing
    python -m bench.province_data --regenerate         # drop and generate again
    python -m bench.province_data --demands 200000     # fewer demands

What it holds, on top of the demo zone (its departments, 39 grids and 1,200 enterprises, loaded
first so that every department, category and account of the demo exists):

- grids up to ``GRIDS`` (3,000): geographic squares of a lattice, none overlapping, each with a
  GeoJSON boundary (the coverage report checks overlaps), owned by the departments in turn;
- enterprises up to ``ENTERPRISES`` (100,000), spread over the grids, ten per cent in the
  division C39 (computers, communication and electronics: the "one industry division of about
  10,000"), the rest over 14 other divisions; 2 % out of scope; names built from word lists
  (the keyword search finds about 1/40 of them by a trade word); output value and tax for 2024
  and 2025 (four profile rows each);
- ``WORKERS`` (5,000) grid worker accounts, each on the staff of one grid (so 2,000 grids have
  two workers and 1,000 one), and one grid leader for every grid;
- channel preferences: 30 % of the enterprises get their messages by email too, 10 % on WeCom
  (so a policy to everyone also writes about 40,000 channel deliveries);
- ``DEMANDS`` (1,000,000) demands received in 2026 up to now, each recorded by one of the grid
  workers in the worker's grid for an enterprise of that grid, 95 % closed (rated, internal or
  unrated), with one task each and a rating for each rated closure; 3 % of the tasks have a
  return (退回) in the ledger.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from sqlalchemy import Engine, create_engine, text

from common.db import make_engine
from devtools.migrate import ensure_database, load_demo, upgrade_all
from services.ticketing.appraisal import rollup

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
DATABASE = "gridsvc_bench_province"
ENTERPRISES = 100_000
GRIDS = 3_000
WORKERS = 5_000
DEMANDS = 1_000_000
#: the division of about a tenth of the province (audience "one industry division")
DIVISION = "C39"
#: the trade word of the keyword search scenario (in about 1/40 of the names)
KEYWORD = "精密"

OTHER_DIVISIONS = ["I65", "C35", "C27", "M73", "C40", "C38", "I64", "M74", "M75", "C26",
                   "C34", "C37", "L72", "F51"]
PLACES = ["青岛", "崂山", "黄岛", "即墨", "胶州", "平度", "莱西", "城阳", "李沧", "市北",
          "市南", "西海岸", "蓝谷", "鳌山", "琅琊", "灵山", "藏马", "沙子口", "王哥庄", "北宅",
          "惜福镇", "夏庄", "流亭", "红岛", "河套", "上马", "棘洪滩", "大沽河", "店埠", "云溪",
          "海泊", "浮山", "太平", "汇泉", "八大", "台东", "四方", "沧口", "楼山", "湘潭"]
TRADES = ["电子科技", "精密", "微电子", "软件", "信息技术", "数据科技", "智能装备", "海洋装备",
          "机械设备", "医疗器械", "生物医药", "药业", "科技研发", "仪器仪表", "传感技术",
          "新能源科技", "电力设备", "网络科技", "云计算", "检测技术", "工程技术", "设计咨询",
          "科技服务", "新材料", "化工科技", "流体设备", "船舶科技", "航空科技", "轨道交通设备",
          "企业管理咨询", "商务服务", "知识产权代理", "贸易", "供应链管理", "进出口", "光电科技",
          "通信技术", "自动化设备", "数字科技", "环保科技"]
BRANDS = list("海蓝创智华鑫瑞博远达科信聚恒泰源微芯诺康明晟睿启航润宇越星辰云景天合新安普德隆"
              "融拓翔盛峰岳澜泓汇锦晨昊凯璟卓尚弘和嘉佳益立舜禾川钧沃")
SCALES = ["micro", "micro", "micro", "small", "small", "small", "medium", "large"]
CHANNELS = ["web", "app", "wechat", "hotline", "window", "visit", "web"]
CATEGORIES = ["talent", "education", "economy", "technology", "finance", "funding",
              "construction", "city_operation", "approval", "licence", "police", "traffic",
              "fire", "planning", "environment", "tax", "investment", "general"]
DIFFICULTIES = ["easy", "normal", "hard"]
CLOSURES = ["rated", "rated", "rated", "internal", "unrated"]
#: lattice of the generated grids: 60 columns of 0.01° squares
COLUMNS = 60

GRIDS_SQL = """
INSERT INTO enterprise.grids (id, name, kind, owner_department_id, boundary, lon, lat,
                              opened_on, version)
SELECT 'P' || lpad(g::text, 4, '0'),
       (:places)[1 + g % 40] || '第' || g || '网格',
       'geographic',
       (SELECT id FROM enterprise.departments ORDER BY id
        OFFSET g % (SELECT count(*) FROM enterprise.departments) LIMIT 1),
       jsonb_build_object('type', 'Polygon', 'coordinates', jsonb_build_array(jsonb_build_array(
         jsonb_build_array(x0, y0), jsonb_build_array(x0 + 0.01, y0),
         jsonb_build_array(x0 + 0.01, y0 + 0.01), jsonb_build_array(x0, y0 + 0.01),
         jsonb_build_array(x0, y0)))),
       x0 + 0.005, y0 + 0.005, date '2025-01-01', 1
FROM generate_series(1, :n) AS g,
LATERAL (SELECT 121.0 + (g % :columns) * 0.01 AS x0, 37.0 + (g / :columns) * 0.01 AS y0) AS p
"""

ENTERPRISES_SQL = """
INSERT INTO enterprise.enterprises (
  id, credit_code, name, address, lon, lat, industry_code, scale, incubator_id, grid_id,
  grid_source, in_scope, operating, has_revenue, pays_tax, contacts, tags, strengths, upstream,
  downstream, version, created_at, updated_at)
SELECT gen_random_uuid(),
       '91370299' || lpad(i::text, 10, '0'),
       (:places)[1 + i % 40] || (:brands)[1 + (i / 40) % 60] || (:brands)[1 + (i / 7) % 60]
         || (:trades)[1 + (i / 3) % 40] || '有限公司' || i,
       '山东省青岛市' || (:places)[1 + i % 40] || '区' || (i % 300) || '号',
       g.lon, g.lat,
       CASE WHEN i % 10 = 0 THEN :division || (11 + i % 9)::text
            ELSE (:divisions)[1 + (i / 10) % 14] || (10 + i % 9)::text END,
       (:scales)[1 + i % 8], NULL, g.id, 'location', i % 50 <> 0, true, true, true,
       jsonb_build_array(jsonb_build_object('name', '联系人' || i, 'phone',
                                            '139' || lpad((i % 100000000)::text, 8, '0'))),
       CASE WHEN i % 20 = 0 THEN ARRAY['高新技术企业']::varchar[]
            WHEN i % 20 = 1 THEN ARRAY['专精特新']::varchar[]
            WHEN i % 97 = 0 THEN ARRAY['上市企业']::varchar[] ELSE ARRAY[]::varchar[] END,
       ARRAY[(:trades)[1 + (i / 3) % 40] || '研发与生产']::varchar[],
       ARRAY[]::varchar[], ARRAY[]::varchar[], 1, now(), now()
FROM generate_series(1, :n) AS i
JOIN (SELECT id, lon, lat, row_number() OVER (ORDER BY id) - 1 AS k
      FROM enterprise.grids) AS g ON g.k = i % :grids
"""

PROFILE_SQL = """
INSERT INTO enterprise.profile_values (enterprise_id, year, indicator, value, source, entered_by,
                                       entered_at)
SELECT e.id, y, ind, round((100 + abs(hashtext(e.credit_code || ind || y)) % 50000)::numeric
                           / CASE ind WHEN 'tax' THEN 10 ELSE 1 END, 2),
       'registration', 'bench', now()
FROM enterprise.enterprises e, generate_series(2024, 2025) AS y,
     unnest(ARRAY['output_value', 'tax']) AS ind
WHERE e.credit_code LIKE '91370299%'
"""

ACCOUNTS_SQL = """
INSERT INTO enterprise.accounts (id, username, password_hash, role, name, title, phone,
                                 disabled, created_by, version)
SELECT gen_random_uuid(), :prefix || lpad(i::text, 5, '0'), '!bench-no-login', :role,
       :label || i, NULL, '138' || lpad(i::text, 8, '0'), false, 'bench', 1
FROM generate_series(1, :n) AS i
"""

STAFF_SQL = """
INSERT INTO enterprise.grid_staff (grid_id, account_id, duty)
SELECT g.id, a.id, :duty
FROM (SELECT id, row_number() OVER (ORDER BY username) - 1 AS k FROM enterprise.accounts
      WHERE username LIKE :prefix || '%') AS a
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM enterprise.grids) AS g
  ON g.k = a.k % :grids
ON CONFLICT DO NOTHING
"""

PREFERENCES_SQL = """
INSERT INTO notification.channel_preferences (recipient, channel, address, enabled)
SELECT 'enterprise:' || id, 'email', 'e' || right(credit_code, 6) || '@bench.example', true
FROM enterprise.enterprises WHERE abs(hashtext(credit_code)) % 10 < 3
UNION ALL
SELECT 'enterprise:' || id, 'wecom',
       'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=' || right(credit_code, 6), true
FROM enterprise.enterprises WHERE abs(hashtext(credit_code)) % 10 = 9
ON CONFLICT DO NOTHING
"""

#: the workers and their grids' enterprises, numbered, for the demands
WORKERS_TABLE = """
CREATE TABLE bench.workers AS
SELECT row_number() OVER (ORDER BY account_id) - 1 AS k, account_id, grid_id, enterprises
FROM (SELECT s.account_id::text AS account_id, s.grid_id,
             (SELECT array_agg(e.id::text ORDER BY e.id) FROM enterprise.enterprises e
              WHERE e.grid_id = s.grid_id AND e.in_scope) AS enterprises
      FROM enterprise.grid_staff s WHERE s.duty = 'worker') AS w
WHERE cardinality(enterprises) > 0
"""

DEMANDS_SQL = """
INSERT INTO ticketing.demands (
  id, number, enterprise_id, channel, category, title, description, urgency, attachments,
  status, received_at, triage_due_at, triage_due_provisional, recorded_by, recorded_role,
  version, created_at, grid_id, difficulty, proposed_opinion, triaged_at, triaged_by,
  closure, completed_at, closed_at)
SELECT gen_random_uuid(),
  'PV' || lpad(i::text, 9, '0'),
  w.enterprises[1 + i % cardinality(w.enterprises)],
  (:channels)[1 + i % 7],
  (:categories)[1 + i % 18],
  '诉求 ' || i || '：' || (:categories)[1 + i % 18],
  '企业反映的问题与诉求（压测数据） ' || md5(i::text),
  CASE WHEN i % 10 = 0 THEN 'urgent' ELSE 'normal' END,
  '[]'::jsonb,
  CASE WHEN r.open THEN 'in_progress' ELSE 'closed' END,
  r.at, r.at + interval '1 day', false, w.account_id, 'grid_worker',
  4, r.at, w.grid_id,
  (:difficulties)[1 + i % 3],
  '拟办意见（压测）',
  r.at + CASE WHEN i % 17 = 0 THEN interval '30 hours' ELSE interval '20 hours' END,
  'coordinator.bench',
  CASE WHEN NOT r.open THEN (:closures)[1 + i % 5] END,
  CASE WHEN NOT r.open THEN r.at + interval '12 days' END,
  CASE WHEN NOT r.open THEN r.at + interval '15 days' END
FROM generate_series(1, :n) AS i
JOIN bench.workers w ON w.k = i % :workers,
LATERAL (SELECT :start + (i - 1) * ((:end - :start) / :n) AS at,
                i % 20 = 0 OR i > :n - :n / 30 AS open) AS r
"""

TASKS_SQL = """
INSERT INTO ticketing.tasks (
  id, demand_id, department_id, status, opinion, difficulty, handling_workdays, accept_due_at,
  due_at, due_provisional, accepted_at, accepted_by, result, completed_at, reopen_count,
  escalation_level, version, created_at)
SELECT gen_random_uuid(), d.id, (:departments)[1 + abs(hashtext(d.number)) % 14],
  CASE WHEN d.status = 'closed' THEN 'completed' ELSE 'accepted' END,
  '拟办意见（压测）', d.difficulty, 10, d.triaged_at + interval '1 day',
  d.triaged_at + interval '14 days', false,
  d.triaged_at + CASE WHEN abs(hashtext(d.number)) % 13 = 0 THEN interval '30 hours'
                      ELSE interval '4 hours' END,
  'liaison.bench', CASE WHEN d.status = 'closed' THEN '已办结（压测）' END,
  d.completed_at, CASE WHEN abs(hashtext(d.number)) % 41 = 0 THEN 1 ELSE 0 END, 0, 3,
  d.triaged_at
FROM ticketing.demands d WHERE d.number LIKE 'PV%'
"""

RATINGS_SQL = """
INSERT INTO ticketing.ratings (id, demand_id, round, efficiency, attitude, quality, comment,
                               satisfied, rated_by, created_at)
SELECT gen_random_uuid(), d.id, 1, 3 + abs(hashtext(d.number)) % 3,
       2 + abs(hashtext(d.number || 'a')) % 4, 3 + abs(hashtext(d.number || 'q')) % 3, NULL,
       abs(hashtext(d.number || 'a')) % 4 <> 0, 'enterprise.bench', d.closed_at
FROM ticketing.demands d WHERE d.number LIKE 'PV%' AND d.closure = 'rated'
"""

LEDGER_SQL = """
INSERT INTO ticketing.ledger (demand_id, task_id, department_id, action, from_state,
                                      to_state, actor, actor_role, reason, at)
SELECT t.demand_id, t.id, t.department_id, 'return', 'assigned', 'returned', 'liaison.bench',
       'liaison', '不属于本部门职责（压测）', t.created_at + interval '2 hours'
FROM ticketing.tasks t JOIN ticketing.demands d ON d.id = t.demand_id
WHERE d.number LIKE 'PV%' AND abs(hashtext(d.number || 'r')) % 33 = 0
"""

DEPARTMENTS = ["party_people", "economic_development", "science_innovation", "finance",
               "construction", "approval_service", "investment_promotion", "general_office",
               "public_security", "traffic_police", "fire_rescue", "natural_resources",
               "ecology_environment", "taxation"]


def url(database: str = DATABASE) -> str:
    return f"{PG}/{database}"


def drop(database: str = DATABASE) -> None:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _vacuum_analyze(engine: Engine, times: dict[str, float]) -> None:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("enterprise.grids", "enterprise.enterprises", "enterprise.profile_values",
                      "enterprise.accounts", "enterprise.grid_staff",
                      "notification.channel_preferences", "ticketing.demands",
                      "ticketing.tasks", "ticketing.ratings", "ticketing.ledger"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    times["vacuum_analyze"] = time.perf_counter() - started


def complete(engine: Engine) -> dict[str, Any] | None:
    """The marker row of a complete province (its sizes), or None."""
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT to_regclass('bench.province') IS NOT NULL")).scalar_one()
        if not found:
            return None
        row = conn.execute(text("SELECT sizes FROM bench.province")).first()
    return dict(row[0]) if row else None


def _step(engine: Engine, times: dict[str, float], name: str, sql: str,
          **params: Any) -> int:
    started = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(text(sql), params).rowcount
    times[name] = time.perf_counter() - started
    print(f"  {name}: {rows:,} rows in {times[name]:.1f} s", flush=True)
    return rows


def generate(engine: Engine, demands: int) -> dict[str, Any]:
    """Fill a migrated database holding the demo zone; returns the sizes and step times."""
    times: dict[str, float] = {}
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS bench"))
        conn.execute(text("DROP TABLE IF EXISTS bench.workers, bench.province"))
        grids = conn.execute(text("SELECT count(*) FROM enterprise.grids")).scalar_one()
        enterprises = conn.execute(text(
            "SELECT count(*) FROM enterprise.enterprises")).scalar_one()
    _step(engine, times, "grids", GRIDS_SQL, n=GRIDS - grids, places=PLACES, columns=COLUMNS)
    _step(engine, times, "enterprises", ENTERPRISES_SQL, n=ENTERPRISES - enterprises,
          places=PLACES, brands=BRANDS, trades=TRADES, division=DIVISION,
          divisions=OTHER_DIVISIONS, scales=SCALES, grids=GRIDS)
    _step(engine, times, "profile_values", PROFILE_SQL)
    _step(engine, times, "grid_workers", ACCOUNTS_SQL, prefix="pw", role="grid_worker",
          label="网格员", n=WORKERS)
    _step(engine, times, "grid_leaders", ACCOUNTS_SQL, prefix="pl", role="grid_leader",
          label="网格长", n=GRIDS)
    _step(engine, times, "worker_staff", STAFF_SQL, prefix="pw", duty="worker", grids=GRIDS)
    _step(engine, times, "leader_staff", STAFF_SQL, prefix="pl", duty="leader", grids=GRIDS)
    _step(engine, times, "channel_preferences", PREFERENCES_SQL)
    _step(engine, times, "workers_table", WORKERS_TABLE)
    with engine.begin() as conn:
        workers = conn.execute(text("SELECT count(*) FROM bench.workers")).scalar_one()
        start, end = conn.execute(text(
            "SELECT timestamptz '2026-01-01 00:00+08', now() - interval '1 hour'")).one()
    _step(engine, times, "demands", DEMANDS_SQL, n=demands, workers=workers, start=start,
          end=end, channels=CHANNELS, categories=CATEGORIES, difficulties=DIFFICULTIES,
          closures=CLOSURES)
    _step(engine, times, "tasks", TASKS_SQL, departments=DEPARTMENTS)
    _step(engine, times, "ratings", RATINGS_SQL)
    _step(engine, times, "ledger", LEDGER_SQL)
    # statistics first: planned without them (the tables were empty at the last ANALYZE),
    # the rollup's first month ran 23 minutes and was cancelled
    _vacuum_analyze(engine, times)
    started = time.perf_counter()
    with engine.begin() as conn:  # closed here, not by closure._close: the appraisal rollup
        rollup.backfill(conn)
    times["appraisal_rollup"] = time.perf_counter() - started
    with engine.begin() as conn:
        sizes = dict(conn.execute(text("""
            SELECT (SELECT count(*) FROM enterprise.enterprises) AS enterprises,
                   (SELECT count(*) FROM enterprise.enterprises WHERE in_scope) AS in_scope,
                   (SELECT count(*) FROM enterprise.grids) AS grids,
                   (SELECT count(*) FROM enterprise.grid_staff WHERE duty = 'worker')
                     AS grid_workers,
                   (SELECT count(*) FROM ticketing.demands) AS demands,
                   (SELECT count(*) FROM ticketing.tasks) AS tasks,
                   (SELECT count(*) FROM ticketing.ratings) AS ratings,
                   (SELECT count(*) FROM notification.channel_preferences) AS preferences
        """)).one()._mapping)
        sizes = {k: int(v) for k, v in sizes.items()}
        sizes["generation_seconds"] = {k: round(v, 1) for k, v in times.items()}
        sizes["generation_total_seconds"] = round(sum(times.values()), 1)
        conn.execute(text("CREATE TABLE bench.province (sizes jsonb NOT NULL)"))
        conn.execute(text("INSERT INTO bench.province VALUES (CAST(:s AS jsonb))"),
                     {"s": __import__("json").dumps(sizes)})
    return sizes


def prepare(database: str = DATABASE, demands: int = DEMANDS,
            regenerate: bool = False) -> tuple[str, dict[str, Any], bool]:
    """(URL, sizes, generated now?) of the province database, generated if missing."""
    if regenerate:
        drop(database)
    address = url(database)
    ensure_database(address)
    engine = make_engine(address, "enterprise", "bench-province", pool_size=1)
    try:
        sizes = complete(engine)
        if sizes is not None:
            upgrade_all(address)  # the services' newer migrations, on the data as it is
            return address, sizes, False
        drop(database)  # a partial one: start over
        ensure_database(address)
        upgrade_all(address)
        load_demo(address)
        print(f"generating the province in {database} ...", flush=True)
        return address, generate(engine, demands), True
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--demands", type=int, default=DEMANDS)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    _, sizes, generated = prepare(args.database, args.demands, args.regenerate)
    print(("generated: " if generated else "present: ") + str(sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
