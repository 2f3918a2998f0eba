"""``make run``: migrate, start the four services and the gateway, wait until ready, load demo
data through the API, print where to look. Ctrl-C stops everything."""

from __future__ import annotations

import json
import signal
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from common.auth import Role
from common.config import SERVICES, load_settings
from devtools.migrate import (
    load_board_demo,
    load_demo,
    load_meetings_demo,
    load_policies_demo,
    load_ticketing_demo,
    load_zone_demo,
    upgrade_all,
)
from devtools.processes import Platform
from devtools.token import token_for
from services.enterprise.demo_load import DEMO_PASSWORD

#: the console's sign-in for each role, in the order of the demand flow
ROLE_TITLES = (
    ("enterprise", "企业用户"), ("grid_worker", "网格员"), ("grid_leader", "网格长"),
    ("coordinator", "平台统筹"), ("liaison", "联络员"), ("department_head", "部门负责人"),
    ("leader", "分管领导"), ("admin", "平台管理员"),
)
#: the demo accounts the console's guide (docs/console.md) names, when they exist
PREFERRED = {"coordinator": "coordinator.economic_development", "liaison": "liaison.finance",
             "department_head": "head.finance", "leader": "leader.wangzhen",
             "grid_worker": "gridworker.inc01.1", "grid_leader": "gridleader.inc01"}


def demo_logins(database_url: str) -> list[tuple[str, str]]:
    """(role title, username) of one enabled demo account per role."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT role, username FROM enterprise.accounts "
                "WHERE NOT disabled AND created_by = 'demo' ORDER BY username")).all()
    finally:
        engine.dispose()
    by_role: dict[str, list[str]] = {}
    for role, username in rows:
        by_role.setdefault(role, []).append(username)
    logins = []
    for role, title in ROLE_TITLES:
        names = by_role.get(role, [])
        if names:
            logins.append((title, PREFERRED[role] if PREFERRED.get(role) in names else names[0]))
    return logins

DEMO_DEMANDS = [
    {"channel": "enterprise", "title": "申请人才公寓",
     "description": "公司新引进三名博士，希望申请园区人才公寓。", "category": "talent"},
    {"channel": "app", "title": "厂房消防验收咨询", "urgency": "urgent",
     "description": "新租厂房装修完毕，想了解消防验收的流程和所需材料。", "category": "fire"},
]


def load_demo_data(base: str) -> None:
    token = token_for(Role.ENTERPRISE)
    for i, demand in enumerate(DEMO_DEMANDS):
        request = urllib.request.Request(
            f"{base}/api/v1/demands", data=json.dumps(demand).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Idempotency-Key": f"demo-demand-{i}"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass


def load_demo_zone(database_url: str) -> dict[str, int]:
    """The demo zone (the registry first), then its resources and activity, each step in its
    own service's schema and independent of the others, three at a time: what each added."""
    added = load_demo(database_url)
    steps = (load_zone_demo, load_ticketing_demo, load_meetings_demo, load_policies_demo,
             load_board_demo)
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="demo") as pool:
        results = list(pool.map(lambda step: step(database_url), steps))
    added |= {f"zone {k}": n for k, n in results[0].items()}
    for result in results[1:]:
        added |= result
    return added


def main() -> None:
    settings = load_settings()
    started = time.monotonic()
    print("migrating", settings.database_url.split("@")[-1], flush=True)
    upgrade_all(settings.database_url)
    loading = time.monotonic()
    added = load_demo_zone(settings.database_url)
    print("demo data:", ", ".join(f"{n} {k}" for k, n in added.items() if n) or "present",
          f"({time.monotonic() - loading:.1f} s)", flush=True)
    # GATEWAY_PORT from the environment: the processes inherit it, readiness polls it too
    platform = Platform(env={"GATEWAY_PORT": str(settings.gateway_port)}, tied_to_parent=True)
    signal.signal(signal.SIGTERM, stop_once)
    signal.signal(signal.SIGINT, stop_once)
    try:
        platform.start_all()
        platform.wait_ready(timeout=60)
        base = platform.gateway_url()
        load_demo_data(base)
        elapsed = time.monotonic() - started
        ports = ", ".join(f"{s} :{settings.metrics_port(s)}" for s in SERVICES)
        logins = "\n".join(f"    {title:<10}{username}"
                           for title, username in demo_logins(settings.database_url))
        print(f"""
  ready in {elapsed:.1f}s
  gateway      {base}         (API under /api/v1/)
  API docs     {base}/docs
  OpenAPI      {base}/openapi.json
  readiness    {base}/readyz
  metrics      {base}/metrics ; services: {ports}

  console      {base}/            (web console: sign in with a demo login below)

  demo logins  password {DEMO_PASSWORD} for every one (development only; docs/console.md)
{logins}

  sample tokens (valid {settings.token_ttl_seconds // 3600} h; more with `make token ROLE=...`):""",
              flush=True)
        for role in (Role.ENTERPRISE, Role.GRID_WORKER, Role.COORDINATOR, Role.ADMIN):
            print(f"    {role:<12} {token_for(role)}")
        print(f"""
  try:  curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/demands
  Ctrl-C stops everything.
""", flush=True)
        while all(p.alive for p in platform.procs.values()):
            time.sleep(0.5)
        dead = [p.name for p in platform.procs.values() if not p.alive]
        print(f"stopping: {', '.join(dead)} exited", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        ignore_stop_signals()
        platform.stop_all()


def ignore_stop_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_once(_signum: int, _frame: object) -> None:
    """The first SIGTERM or Ctrl-C starts the stop; those that follow must not cut it short
    (GNU make sends its child SIGTERM again while it stops, a process manager may too)."""
    ignore_stop_signals()
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
