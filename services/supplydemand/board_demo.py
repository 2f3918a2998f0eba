"""The demo zone's supply/demand board (供求信息, ``make run``): live listings of demo
enterprises on both sides, most of them with a counterpart, their matches, and dockings in
every state (requested, accepted with both parties' contacts, declined), plus a closed
listing and one hidden by staff, so the board, the matches with their reasons and the
dockings pages have content.

The board's copy of each enterprise is written from the registry's record
(:func:`services.supplydemand.directory.upsert`, as the service does on a publish); each
listing's words are segmented as :func:`services.supplydemand.board.publish` does, and its
matches are found and recorded by :func:`services.supplydemand.board.notify_matches` (the
``listing_matched`` events follow: the enterprises hear of live matches). Dockings and their
steps are written as :mod:`services.supplydemand.docking` leaves them, without events
(nobody is told of the demo's past).

Deterministic (uuid5 ids, the same enterprises and moments on every machine for the same
day) and idempotent (a listing that exists is left alone).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from services.supplydemand import board, directory, matching
from services.supplydemand.docking import _step
from services.supplydemand.models import Docking, Listing, Moderation

NAMESPACE = uuid.UUID("e7a1d3c9-6b20-4f58-8c4e-1d9f2b3a5c60")
#: the staff account that hid a listing
STAFF = Principal(user_id="demo", role=Role.COORDINATOR, department_id="economic_development",
                  name="demo")


@dataclass(frozen=True)
class DemoListing:
    key: str
    side: str  # supply | demand
    category: str
    title: str
    description: str
    days_ago: int  # published this many days before the anchor
    quantity: float | None = None
    unit: str | None = None
    region: str | None = None
    status: str = "published"  # published | closed | hidden


LISTINGS = (
    DemoListing("laser-supply", "supply", "processing", "承接激光切割钣金加工",
                "拥有6kW光纤激光切割机3台、数控折弯机5台，可承接不锈钢、碳钢钣金加工，交期7天。",
                20, 500, "件/月", "青岛"),
    DemoListing("laser-demand", "demand", "processing", "寻找激光切割钣金加工合作方",
                "设备机箱外壳需委托激光切割和折弯加工，每月约300件，要求交期稳定。", 6, 300,
                "件"),
    DemoListing("pcb-supply", "supply", "materials", "供应PCB电路板及SMT贴片加工",
                "4-12层PCB打样与小批量生产，提供SMT贴片和元器件代采服务。", 35),
    DemoListing("pcb-demand", "demand", "materials", "采购PCB电路板及SMT贴片加工",
                "智能传感器项目需6层PCB电路板及贴片加工，首批2000片。", 9, 2000, "片"),
    DemoListing("test-supply", "supply", "services", "提供电磁兼容检测与CE认证服务",
                "具备CNAS资质的电磁兼容实验室，可出具检测报告并辅导CE、FCC认证。", 50),
    DemoListing("test-demand", "demand", "services", "需要电磁兼容检测及CE认证辅导",
                "出口欧洲的工业控制器需要做电磁兼容检测，希望有认证辅导经验的机构。", 12),
    DemoListing("software-supply", "supply", "software", "MES生产执行系统定制开发与实施",
                "为制造企业定制MES生产执行系统，支持设备联网和数据采集。", 28),
    DemoListing("software-demand", "demand", "software", "寻求MES生产执行系统实施服务商",
                "车间计划上线MES生产执行系统，实现工单、质量追溯和设备联网。", 4),
    DemoListing("space-supply", "supply", "space", "高新区标准厂房出租1200平方米",
                "单层标准厂房，层高9米，配备5吨行车，可分割出租。", 40, 1200, "平方米",
                "青岛高新区"),
    DemoListing("space-demand", "demand", "space", "求租800平方米以上标准厂房",
                "扩产需要租用标准厂房，面积800平方米以上，层高不低于8米。", 15, 800, "平方米",
                "青岛高新区"),
    DemoListing("talent-demand", "demand", "talent", "招聘嵌入式软件工程师",
                "负责工业控制器嵌入式软件开发，熟悉ARM和RTOS，3年以上经验。", 8, 3, "人"),
    DemoListing("logistics-supply", "supply", "logistics", "提供园区冷链仓储与配送服务",
                "2000平方米冷库，支持生物医药样品和试剂的冷链仓储与同城配送。", 25),
    DemoListing("logistics-demand", "demand", "logistics", "寻找生物医药冷链仓储配送合作",
                "生物试剂产品需要2-8摄氏度冷链仓储和青岛市内配送服务。", 3),
    DemoListing("equipment-supply", "supply", "equipment", "闲置三坐标测量仪转让",
                "因产线调整转让三坐标测量仪一台，九成新，可现场查看。", 60,
                status="closed"),
    DemoListing("finance-supply", "supply", "finance", "高息理财内部认购",
                "保本高收益理财产品，内部名额有限。", 10, status="hidden"),
)
#: dockings: (requester's listing key or None, the listing asked about, status, days ago)
DOCKINGS = (
    ("laser-demand", "laser-supply", "accepted", 5),
    ("pcb-demand", "pcb-supply", "accepted", 7),
    ("test-demand", "test-supply", "requested", 2),
    ("software-demand", "software-supply", "declined", 3),
    ("space-demand", "space-supply", "accepted", 12),
    ("logistics-demand", "logistics-supply", "requested", 1),
    (None, "talent-demand", "requested", 4),
    (None, "space-supply", "declined", 20),
)
REPLIES = {"accepted": "欢迎联系，可安排现场考察。", "declined": "暂时产能已满，谢谢关注。"}
MESSAGES = ("您好，我们对贵司发布的信息很感兴趣，希望进一步沟通。",
            "看到贵司的信息，想了解报价和交期。")


def stable(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def owners(enterprises: Sequence[Mapping[str, Any]], featured: Sequence[str] = ()
           ) -> dict[str, dict[str, Any]]:
    """The enterprise of each listing and of each docking's requester without a listing, by
    key: distinct in-scope enterprises (the registry's records), the ``featured`` ones (the
    demo logins') first, then others spread over the zone in a stable order."""
    live = {e["id"]: e for e in enterprises if e.get("in_scope")}
    first = [live[e] for e in featured if e in live]
    rest = sorted((e for e in live.values() if e["id"] not in set(featured)),
                  key=lambda e: e["id"])
    keys = [d.key for d in LISTINGS] + [f"requester-{i}" for i, (own, *_rest)
                                         in enumerate(DOCKINGS) if own is None]
    step = max(len(rest) // (len(keys) + 1), 1)
    pool = first + [rest[(i * step) % len(rest)] for i in range(len(keys))] if rest else first
    return dict(zip(keys, pool, strict=False)) if len(pool) >= len(keys) else {}


def load(session: Session, enterprises: Sequence[Mapping[str, Any]], threshold: float,
         anchor: datetime | None = None, featured: Sequence[str] = ()) -> dict[str, int]:
    """Write the demo board unless its first listing is there; counts. ``enterprises``: the
    registry's records (id, name, grid_id, industry_code, in_scope, contacts); ``featured``:
    the enterprises of the demo logins, given the first listings (:func:`owners`)."""
    moment = anchor or datetime.now(UTC)
    if session.get(Listing, stable("listing", LISTINGS[0].key)) is not None:
        return {}
    by_key = owners(enterprises, featured)
    if not by_key:
        return {}
    copies = {record["id"]: directory.upsert(session, record) for record in by_key.values()}
    listings: dict[str, Listing] = {}
    for demo in LISTINGS:
        owner = by_key[demo.key]
        published = moment - timedelta(days=demo.days_ago, hours=3)
        listing = Listing(
            id=stable("listing", demo.key), side=demo.side, enterprise_id=owner["id"],
            title=demo.title, description=demo.description, category=demo.category,
            industry_code=owner.get("industry_code"), quantity=demo.quantity,
            unit=demo.unit, region=demo.region, valid_from=published.date(),
            valid_until=(moment + timedelta(days=90 - demo.days_ago)).date(),
            status="published", published_at=published, created_by="demo",
            created_role=str(Role.ENTERPRISE), created_at=published, updated_at=published,
            version=1)
        listing.industry_division = matching.division(listing.industry_code)
        board._set_words(listing)  # as publish segments them
        session.add(listing)
        listings[demo.key] = listing
    for demo in LISTINGS:
        listing = listings[demo.key]
        if demo.status == "closed":
            listing.status, listing.version = "closed", 2
            listing.updated_at = listing.published_at + timedelta(days=30)
        elif demo.status == "hidden":
            reason = "涉嫌非法集资宣传，已下架。"
            listing.status, listing.status_before_hidden = "hidden", "published"
            listing.hidden_reason, listing.version = reason, 2
            listing.updated_at = listing.published_at + timedelta(hours=5)
            session.add(Moderation(listing_id=listing.id, action="hide", reason=reason,
                                   actor_id=STAFF.user_id, actor_role=str(STAFF.role),
                                   at=listing.updated_at))
    session.flush()
    matched = 0
    for demo in LISTINGS:  # oldest first, as they were published
        if demo.status == "published":
            listing = listings[demo.key]
            matched += len(board.notify_matches(session, listing, copies[listing.enterprise_id],
                                                threshold))
    dockings = 0
    for i, (own, asked, status, days_ago) in enumerate(DOCKINGS):
        listing = listings[asked]
        requester = by_key[own] if own else by_key[f"requester-{i}"]
        owner = by_key[asked]
        at = moment - timedelta(days=days_ago, hours=1)
        message = MESSAGES[i % len(MESSAGES)]
        docking = Docking(
            id=stable("docking", f"{i}"), listing_id=listing.id, listing_title=listing.title,
            requester_enterprise_id=requester["id"], owner_enterprise_id=owner["id"],
            message=message, status="requested", created_by="demo", created_at=at, version=1)
        session.add(docking)
        asker = Principal(user_id="demo", role=Role.ENTERPRISE, enterprise_id=requester["id"])
        _step(session, docking, asker, "requested", message, at)
        if status != "requested":
            answer = Principal(user_id="demo", role=Role.ENTERPRISE, enterprise_id=owner["id"])
            decided = at + timedelta(hours=20)
            docking.status, docking.reply = status, REPLIES[status]
            docking.decided_by, docking.decided_at, docking.version = "demo", decided, 2
            if status == "accepted":  # each party gets the other's contacts
                docking.requester_contacts = _contacts(requester)
                docking.owner_contacts = _contacts(owner)
            _step(session, docking, answer, status, REPLIES[status], decided)
        dockings += 1
    session.flush()
    present = session.execute(select(Listing.id).where(
        Listing.id.in_([listing.id for listing in listings.values()]))).all()
    return {"demo listings": len(present), "demo matches": matched,
            "demo dockings": dockings}


def _contacts(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The contacts the board passes on (as the docking entrypoint's ``contacts_of``)."""
    keys = ("name", "title", "phone", "email")
    return [{k: c.get(k) for k in keys} for c in record.get("contacts") or []
            if isinstance(c, dict)]
