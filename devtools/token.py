"""Mint a development token: ``make token ROLE=enterprise ENTERPRISE=...``.

Signs with the committed development key pair (common/keys.py), which only development mode
accepts. Refuses outside development mode, so a production signing key is never used from a
laptop by accident.
"""

from __future__ import annotations

import argparse
import sys

from common.auth import Principal, Role, mint_token
from common.config import load_settings


def _personas() -> dict[Role, dict[str, str]]:
    """Demo accounts of the demo zone (``make run`` loads them), so tokens fit the data."""
    from services.enterprise.demo_data import build
    from services.enterprise.demo_load import stable_id

    first = build().enterprises[0]
    account = lambda username: stable_id("account", username)  # noqa: E731
    return {
        Role.ENTERPRISE: {"user": account(f"ent.{first.credit_code.lower()}"),
                          "enterprise": stable_id("enterprise", first.credit_code)},
        Role.GRID_WORKER: {"user": account("gridworker.geo01.1"), "grids": "GEO01"},
        Role.GRID_LEADER: {"user": account("gridleader.geo01"), "grids": "GEO01"},
        Role.LIAISON: {"user": account("liaison.fire_rescue"), "department": "fire_rescue"},
        Role.DEPARTMENT_HEAD: {"user": account("head.fire_rescue"),
                               "department": "fire_rescue"},
        Role.COORDINATOR: {"user": account("coordinator.economic_development"),
                           "department": "economic_development"},
        Role.LEADER: {"user": account("leader.wangzhen")},
        Role.ADMIN: {"user": account("admin")},
    }


def token_for(role: Role, user: str | None = None, enterprise: str | None = None,
              grids: str | None = None, department: str | None = None,
              ttl: int | None = None) -> str:
    settings = load_settings()
    persona = _personas().get(role, {})
    grid_ids = grids or persona.get("grids") or ""
    principal = Principal(
        user_id=user or persona.get("user", f"demo-{role}"),
        role=role,
        enterprise_id=enterprise or persona.get("enterprise"),
        grid_ids=tuple(g for g in grid_ids.split(",") if g),
        department_id=department or persona.get("department"),
        name=f"demo {role}",
    )
    return mint_token(principal, settings.signing_key(), ttl or settings.token_ttl_seconds,
                      settings.jwt_issuer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", required=True, choices=[r.value for r in Role if r != "service"])
    parser.add_argument("--user")
    parser.add_argument("--enterprise")
    parser.add_argument("--grids", help="comma-separated grid ids")
    parser.add_argument("--department")
    parser.add_argument("--ttl", type=int, help="seconds")
    args = parser.parse_args()
    if not load_settings().is_development:
        sys.exit("refusing to mint tokens outside development mode (GRIDSVC_ENV)")
    print(token_for(Role(args.role), args.user, args.enterprise, args.grids, args.department,
                    args.ttl))


if __name__ == "__main__":
    main()
