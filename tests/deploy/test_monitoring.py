"""Monitoring: the Prometheus rules (checked and unit-tested with promtool; every alert has a
unit test and a runbook section in docs/operations.md), the Grafana dashboards (generated from
deploy/grafana/*.py with grafana-foundation-sdk: the committed JSON must be what the modules
build; every query parsed by promtool; house rules of every panel), and, end to end, a real
Prometheus server (the Debian package; ``devtools/ensure_tools.sh`` installs it) scraping the
test platform and RabbitMQ's Prometheus plugin and answering every dashboard query with data
after a short demand flow with breaches."""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml
from conftest import METRICS_PORTS
from helpers import bearer, demand_body, new_enterprise_id
from prometheus_server import RULES, query, tool
from sqlalchemy import text

from common.auth import Role

ROOT = Path(__file__).resolve().parents[2]
RULE_TESTS = sorted((ROOT / "deploy" / "prometheus").glob("rules_test*.yml"))
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted(GRAFANA.glob("*.json"))
OPERATIONS = ROOT / "docs" / "operations.md"
#: what a Grafana variable stands for when the query runs outside Grafana ("All")
VARIABLES = {"$__rate_interval": "1m", "$__range": "10m", "$__interval": "1m",
             "$department": ".*", "$service": ".+", "$namespace": ".*"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def alerts() -> list[dict]:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # the unit tests take about 15 s of CPU; minutes on a machine busy with other suites
    return subprocess.run([tool("promtool"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def _walk_exprs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _walk_exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_exprs(item)


def substitute(expr: str) -> str:
    for name in sorted(VARIABLES, key=len, reverse=True):  # $__range before $__rate...
        expr = expr.replace(name, VARIABLES[name])
    assert "$" not in expr, f"unknown template variable in {expr!r}"
    return expr


def dashboard_queries() -> list[tuple[str, str]]:
    """(dashboard:panel, PromQL) of every panel target, and the metric each template variable
    reads its values from (``label_values(metric, label)`` → ``metric``)."""
    found: list[tuple[str, str]] = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for expr in _walk_exprs(panel):
                found.append((f"{path.stem}: {panel['title']}", substitute(expr)))
        for var in board["templating"]["list"]:
            query = var.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            match = re.fullmatch(r"label_values\((\w+)(?:\{[^}]*\})?,\s*\w+\)", query or "")
            if var["type"] == "query":
                assert match, f"{path.stem}: variable {var['name']}: {query!r}"
                found.append((f"{path.stem}: variable {var['name']}", match.group(1)))
    return found


def test_dashboards_have_the_template_variables():
    names = {path.stem: {v["name"] for v in json.loads(path.read_text())["templating"]["list"]}
             for path in DASHBOARDS}
    assert names == {"sla-overview": {"datasource", "namespace", "department"},
                     "service-health": {"datasource", "namespace", "service"}}


def test_committed_dashboards_are_what_their_modules_build():
    """deploy/grafana/*.json are generated (``python deploy/grafana/build.py``): stale or
    hand-edited files fail here."""
    built = runpy.run_path(str(GRAFANA / "build.py"))["render"]()
    assert sorted(built) == [p.name for p in DASHBOARDS]
    for name, generated in built.items():
        assert (GRAFANA / name).read_text(encoding="utf-8") == generated, \
            f"deploy/grafana/{name} is stale: run `python deploy/grafana/build.py`"


def panels_of(board: dict) -> list[dict]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_every_panel_speaks_chinese_and_every_stat_has_thresholds_and_a_no_data_text():
    for path in DASHBOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        assert CJK.search(board["title"]) and CJK.search(board["description"])
        for panel in panels_of(board):
            where = f"{path.stem}: {panel['title']}"
            assert CJK.search(panel["title"]), where
            assert CJK.search(panel.get("description", "")), where
            defaults = panel["fieldConfig"]["defaults"]
            assert CJK.search(defaults.get("noValue", "")), where
            if panel["type"] == "stat":
                steps = defaults["thresholds"]["steps"]
                assert len(steps) >= 2 and steps[0]["value"] is None, where
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), path.stem


def test_departments_are_shown_by_their_chinese_name():
    """Every query about departments joins gridsvc_department_info for the ``name`` label,
    and the department variable lists names."""
    board = json.loads((GRAFANA / "sla-overview.json").read_text(encoding="utf-8"))
    variable = next(v for v in board["templating"]["list"] if v["name"] == "department")
    assert variable["query"].endswith(", name)")
    for panel in panels_of(board):
        for target in panel.get("targets", []):
            if "department" in target["expr"]:
                assert "group_left (name)" in target["expr"], panel["title"]
                assert "{{department}}" not in target.get("legendFormat", ""), panel["title"]


def test_every_alert_has_a_runbook_section_and_a_unit_test():
    headings = {re.sub(r"[^a-z0-9-]", "", line[4:].strip().lower())
                for line in OPERATIONS.read_text(encoding="utf-8").splitlines()
                if line.startswith("### ")}
    tested = "\n".join(p.read_text(encoding="utf-8") for p in RULE_TESTS)
    for alert in alerts():
        name = alert["alert"]
        url = alert["annotations"]["runbook_url"]
        assert url.endswith(f"docs/operations.md#{name.lower()}"), name
        assert name.lower() in headings, f"docs/operations.md has no section ### {name}"
        firing = re.search(rf"alertname: {name}\n\s+exp_alerts:\n\s+- exp_labels", tested)
        assert firing, f"no promtool case where {name} fires"
        assert re.search(rf"alertname: {name}\n\s+exp_alerts: \[\]", tested), \
            f"no promtool case where {name} stays quiet"


def test_rules_file_is_valid():
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_unit_tests_pass():
    result = promtool("test", "rules", *map(str, RULE_TESTS), cwd=RULES.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout


def test_every_dashboard_query_parses(tmp_path: Path):
    queries = dashboard_queries()
    assert len(queries) >= 20
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)
    ]}]}
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


# --- end to end: a real Prometheus scraping the test platform ---------------------------------

#: the column of ticketing.tasks that carries each kind of task deadline
TASK_COLUMNS = {"acceptance": "accept_due_at", "handling": "due_at"}


def due_at(db, subject_id: str, kind: str, moment: str) -> None:
    """Let time pass: the pending deadline of this kind (and the task's copy of it) is due at
    ``moment`` (SQL), e.g. a second ago."""
    with db.begin() as conn:
        moved = conn.execute(text(
            f"UPDATE ticketing.deadlines SET due_at = {moment} "
            "WHERE subject_id = :s AND kind = :k AND fired_at IS NULL "
            "AND cancelled_at IS NULL"), {"s": subject_id, "k": kind}).rowcount
        if kind in TASK_COLUMNS:
            conn.execute(text(f"UPDATE ticketing.tasks SET {TASK_COLUMNS[kind]} = {moment} "
                              "WHERE id = :s"), {"s": subject_id})
    assert moved >= 1, f"no pending {kind} deadline for {subject_id}"


def overdue_now(db, subject_id: str, kind: str) -> None:
    due_at(db, subject_id, kind, "now() - interval '1 second'")


def drive_demands(client: httpx.Client, token, db) -> None:
    """Deadlines met and breached of every kind: triage, acceptance, handling."""
    ent = new_enterprise_id(incubator_id="INC01")
    worker = token(Role.GRID_WORKER, grid_ids=("INC01",))
    coordinator = token(Role.COORDINATOR, department_id="economic_development")
    fire = token(Role.LIAISON, department_id="fire_rescue")

    def submit(title: str) -> str:
        r = client.post("/api/v1/demands", headers=bearer(worker), json=demand_body(
            channel="grid_worker", enterprise_id=ent, title=title))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    did = submit("消防验收和税务登记")
    triaged = client.post(f"/api/v1/demands/{did}/triage", headers=bearer(coordinator), json={
        "category": "fire", "difficulty": "normal", "proposed_opinion": "分别办理",
        "departments": [{"department_id": "fire_rescue", "opinion": "指导消防验收"},
                        {"department_id": "taxation", "opinion": "办理税务登记"}]})
    assert triaged.status_code == 200, triaged.text  # triage met
    tasks = {t["department_id"]: t["id"] for t in triaged.json()["tasks"]}
    accept = f"/api/v1/tasks/{tasks['fire_rescue']}/accept"
    assert client.post(accept, headers=bearer(fire)).status_code == 200  # acceptance met
    assert client.post(accept, headers=bearer(fire)).status_code == 409  # a rejected call
    overdue_now(db, tasks["taxation"], "acceptance")  # acceptance breached
    overdue_now(db, tasks["fire_rescue"], "handling")  # handling breached, escalation 1
    overdue_now(db, submit("逾期未分理"), "triage")  # triage breached
    soon = client.post(f"/api/v1/demands/{submit('需在明日前受理')}/triage",
                       headers=bearer(coordinator), json={
                           "category": "fire", "difficulty": "normal", "proposed_opinion": "办理",
                           "departments": [{"department_id": "fire_rescue", "opinion": "受理"}]})
    assert soon.status_code == 200, soon.text
    due_at(db, soon.json()["tasks"][0]["id"], "acceptance", "now() + interval '1 hour'")
    assert client.get("/api/v1/no-such-route").status_code == 404


def test_prometheus_answers_every_dashboard_query(prometheus, client, token, db):
    drive_demands(client, token, db)
    queries = dashboard_queries()
    # an ``or vector(0)`` answers even without its metric: every metric named must exist too
    names = {name for _, expr in queries
             for name in re.findall(r"\b(?:gridsvc|rabbitmq)_[a-z_]+\b", expr)}
    deadline = time.monotonic() + 40
    while True:  # a scrape missed on a busy machine is taken again a second later
        empty = [(where, expr) for where, expr in queries if not query(prometheus, expr)]
        absent = sorted(n for n in names if not query(prometheus, f'count({{__name__="{n}"}})'))
        if not (empty or absent) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not empty, "dashboard queries without data:\n" + "\n".join(
        f"{where}: {expr}" for where, expr in empty)
    assert not absent, f"metrics no target exposes: {absent}"
    up = query(prometheus, "up")
    assert len(up) == len(METRICS_PORTS) + 2 and all(s["value"][1] == "1" for s in up), up
    rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    # the groups run every minute: a rule not evaluated yet is "unknown", never "err"
    assert all(r["health"] != "err" for g in rules for r in g["rules"]), rules
