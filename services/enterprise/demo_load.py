"""Load the demo data set (:mod:`services.enterprise.demo_data`) into the registry's tables.

Idempotent: run twice, changes nothing the second time (rows are keyed by their natural ids:
department code, category code, username, grid id, credit code). Used by ``make run``.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.calendar import zone_today
from services.enterprise.accounts import hash_password
from services.enterprise.demo_data import DemoData
from services.enterprise.models import (
    Account,
    Category,
    Department,
    Enterprise,
    Grid,
    GridStaff,
    LeadingGroupMember,
    ProfileValue,
    ScopeChange,
)
from services.enterprise.registry import search_document

DEMO_PASSWORD = "gridsvc-demo-2026"
NAMESPACE = uuid.UUID("6f1c2a52-8d0e-4b8e-9f5e-3c1d2b7a9e10")


def stable_id(kind: str, key: str) -> str:
    """The same demo row gets the same id on every machine (tokens and links stay valid)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


GRID_STAFF_ROLES = ("grid_worker", "grid_leader")


def work_phone(username: str) -> str:
    """A demo staff member's work phone: a Qingdao landline, stable per username."""
    digest = int(hashlib.sha256(username.encode()).hexdigest(), 16)
    return f"0532-8{digest % 10_000_000:07d}"


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超")
TITLES = ("总经理", "行政主管", "财务负责人", "项目经理", "办公室主任")


def demo_contacts(credit_code: str) -> list[dict[str, str]]:
    """Two contacts of a demo enterprise (a manager and an office contact), with mobile
    numbers from the 138 0000 test range; stable per credit code."""
    digest = int(hashlib.sha256(credit_code.encode()).hexdigest(), 16)
    contacts = []
    for i in range(2):
        n = digest >> (16 * i)
        contacts.append({
            "name": SURNAMES[n % len(SURNAMES)] + GIVEN[(n >> 5) % len(GIVEN)],
            "title": TITLES[0] if i == 0 else TITLES[1 + (n >> 9) % (len(TITLES) - 1)],
            "phone": f"1380000{(n >> 12) % 10000:04d}", "email": None})
    return contacts


def load(session: Session, data: DemoData) -> dict[str, int]:
    """Insert what is missing; returns how many rows of each kind were added."""
    added: dict[str, int] = {}

    def put(model, rows: list[dict], key: str) -> None:
        if rows:
            result = session.execute(insert(model).values(rows).on_conflict_do_nothing()
                                     .returning(getattr(model, key)))
            added[model.__tablename__] = added.get(model.__tablename__, 0) + len(result.all())

    put(Department, [
        {"id": d.code, "name": d.name, "kind": d.kind, "head_name": d.head_name,
         "head_title": d.head_title} for d in data.departments], "id")
    put(Category, [{"code": c.code, "name": c.name, "department_id": c.department}
                   for c in data.categories], "code")
    password_hash = hash_password(DEMO_PASSWORD)  # one hash: demo accounts share it
    put(Account, [
        {"id": stable_id("account", s.username), "username": s.username,
         "password_hash": password_hash, "role": s.role, "name": s.name, "title": s.title,
         "department_id": s.department, "created_by": "demo"} for s in data.staff], "id")
    # grid staff have a work phone (网格化服务联系方式), the same on every machine; every
    # other grid worker agreed to publish it on the public list
    for i, member in enumerate(s for s in data.staff if s.role in GRID_STAFF_ROLES):
        session.execute(update(Account).where(
            Account.id == stable_id("account", member.username), Account.phone.is_(None),
            Account.created_by == "demo").values(phone=work_phone(member.username),
                                                 publish_contact=i % 2 == 0))
    accounts = dict(session.execute(select(Account.username, Account.id)).all())
    for d in data.departments:
        dept = session.get(Department, d.code)
        dept.liaison_account_id = dept.liaison_account_id or accounts.get(d.liaison_username)
        dept.head_account_id = dept.head_account_id or accounts.get(d.head_username)
        dept.leader_account_id = dept.leader_account_id or accounts.get(d.leader_in_charge)
    if session.execute(select(LeadingGroupMember.id).limit(1)).first() is None:
        for i, m in enumerate(data.leading_group.members):
            session.add(LeadingGroupMember(
                name=m.name, group_role=m.role, title=m.title, position=i,
                account_id=accounts.get(m.username), department_id=m.department,
                is_office_director=m.username == data.leading_group.office_director))
    put(Grid, [
        {"id": g.grid_id, "name": g.name, "kind": g.kind,
         "owner_department_id": g.owner_department, "boundary": g.polygon_geojson,
         "address": g.address, "lon": g.location[0] if g.location else None,
         "lat": g.location[1] if g.location else None} for g in data.grids], "id")
    staff_rows = []
    for g in data.grids:
        staff_rows.append({"grid_id": g.grid_id, "account_id": accounts[g.leader],
                           "duty": "leader"})
        staff_rows += [{"grid_id": g.grid_id, "account_id": accounts[w], "duty": "worker"}
                       for w in g.workers]
    put(GridStaff, staff_rows, "grid_id")
    now = datetime.now(UTC)
    rows = [
        {"id": stable_id("enterprise", e.credit_code), "credit_code": e.credit_code,
         "name": e.name, "address": e.address, "lon": e.lon, "lat": e.lat,
         "industry_code": e.industry_code, "scale": e.scale, "incubator_id": e.incubator_id,
         "grid_id": e.grid_id, "grid_source": "incubator" if e.incubator_id else "location",
         "in_scope": True, "operating": True, "has_revenue": True, "pays_tax": True,
         "contacts": [], "tags": [], "strengths": [], "upstream": [], "downstream": [],
         "version": 1, "created_at": now, "updated_at": now}
        for e in data.enterprises
    ]
    for row in rows:
        row["search"] = search_document(row["name"])
    put(Enterprise, rows, "id")
    if added.get("enterprises"):
        new = set(session.execute(
            select(Enterprise.id).where(Enterprise.id.in_([r["id"] for r in rows]))
        ).scalars())
        session.add_all(ScopeChange(enterprise_id=r["id"], in_scope=True,
                                    reason="started_operating", effective_on=zone_today(now),
                                    recorded_by="demo", note="demo data")
                        for r in rows if r["id"] in new)
        values = []
        for e in data.enterprises:
            eid = stable_id("enterprise", e.credit_code)
            for y in e.indicators:
                for name in ("output_value", "revenue", "tax", "employees", "rd_spend"):
                    values.append({"enterprise_id": eid, "year": y.year, "indicator": name,
                                   "value": getattr(y, name), "source": "registration",
                                   "entered_by": "demo", "entered_at": now})
        session.execute(insert(ProfileValue), values)
    # every demo enterprise has contacts (a demo docking or grid visit has someone to call);
    # filled where none are recorded, the same on every machine
    table = Enterprise.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("eid"),
                            func.jsonb_array_length(table.c.contacts) == 0)
        .values(contacts=bindparam("new_contacts")),
        [{"eid": stable_id("enterprise", e.credit_code),
          "new_contacts": demo_contacts(e.credit_code)} for e in data.enterprises])
    demo_users = []
    for e in data.enterprises[:10]:
        eid = stable_id("enterprise", e.credit_code)
        username = f"ent.{e.credit_code.lower()}"
        demo_users.append({"id": stable_id("account", username), "username": username,
                           "password_hash": password_hash, "role": "enterprise",
                           "name": f"{e.name}用户", "enterprise_id": eid,
                           "created_by": "demo"})
    put(Account, demo_users, "id")
    session.flush()
    return added
