"""``make run``: migrate, start the four services and the gateway, wait until ready, load demo
data through the API, print where to look. Ctrl-C stops everything."""

from __future__ import annotations

import json
import signal
import sys
import time
import urllib.request

from common.auth import Role
from common.config import SERVICES, load_settings
from devtools.migrate import load_demo, upgrade_all
from devtools.processes import Platform
from devtools.token import token_for
from services.enterprise.demo_load import DEMO_PASSWORD

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


def main() -> None:
    settings = load_settings()
    started = time.monotonic()
    print("migrating", settings.database_url.split("@")[-1], flush=True)
    upgrade_all(settings.database_url)
    added = load_demo(settings.database_url)
    print("demo data:", ", ".join(f"{n} {k}" for k, n in added.items() if n) or "present",
          flush=True)
    # GATEWAY_PORT from the environment: the processes inherit it, readiness polls it too
    platform = Platform(env={"GATEWAY_PORT": str(settings.gateway_port)})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        platform.start_all()
        platform.wait_ready(timeout=60)
        base = platform.gateway_url()
        load_demo_data(base)
        elapsed = time.monotonic() - started
        ports = ", ".join(f"{s} :{settings.metrics_port(s)}" for s in SERVICES)
        print(f"""
  ready in {elapsed:.1f}s
  gateway      {base}         (API under /api/v1/)
  API docs     {base}/docs
  OpenAPI      {base}/openapi.json
  readiness    {base}/readyz
  metrics      {base}/metrics ; services: {ports}

  demo logins  admin / coordinator.economic_development / gridworker.geo01.1 /
               liaison.fire_rescue ... password {DEMO_PASSWORD} (POST /api/v1/auth/token)

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
        platform.stop_all()


if __name__ == "__main__":
    main()
