"""The demo zone's policies (``make run``): a few policies and notices published over the last
months to audiences of the demo zone (by grid, industry, scale), each read by part of its
enterprises, so the policies page, the reach (触达统计), the read receipts and the grid staff's
未读 list have content.

Each is written as a draft with a stable id and published by :func:`services.notification.
policies.publish` (the recipient snapshot, one inbox message per enterprise, the
``policy_published`` event), then set back to the demo's past (published, delivered); its
receipts by :func:`~services.notification.policies.record_reads`, at the moments they were
read.
The audience's members come from the registry (``members``, as the service's
``resolve_audience`` call gives them). Deterministic (uuid5 ids, seeded reads, the same on
every machine for the same day) and idempotent (a policy that exists is left alone).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from services.notification import policies
from services.notification.models import InboxMessage, Policy

NAMESPACE = uuid.UUID("c5e0b8d2-3f6a-4e71-9a0c-7b2d4e6f8a13")
SEED = 2026
#: who published them (a coordinator may publish for any department)
PUBLISHER = Principal(user_id="demo", role=Role.COORDINATOR,
                      department_id="economic_development", name="demo")


@dataclass(frozen=True)
class DemoPolicy:
    key: str
    kind: str  # policy | notice
    title: str
    body: str
    department_id: str
    audience: dict[str, Any]
    days_ago: int  # published this many days before the anchor
    read_share: float  # of its enterprises that have read it


POLICIES = (
    DemoPolicy("rd-subsidy", "policy", "高新区企业研发费用补助实施细则",
               "对上年度研发投入增长的企业，按新增研发费用的10%给予补助，单个企业最高100万元。"
               "申报材料：研发费用专项审计报告、研发项目立项文件。", "science_innovation",
               {"grid_ids": ["INC01", "INC02", "INC03", "INC04", "INC05", "INC06"]}, 120, 0.8),
    DemoPolicy("loan-interest", "policy", "中小微企业流动资金贷款贴息办法",
               "对在合作银行取得流动资金贷款的中小微企业，按贷款市场报价利率的50%给予贴息，"
               "期限不超过一年。", "finance",
               {"scales": ["micro", "small"], "industry_codes": ["C"]}, 75, 0.55),
    DemoPolicy("digital", "policy", "制造业数字化转型奖补政策",
               "对实施智能化改造、数字化车间建设的制造业企业，按设备和软件投入的15%给予奖补。",
               "economic_development", {"industry_codes": ["C39", "C40"]}, 40, 0.45),
    DemoPolicy("fire-check", "notice", "关于开展冬季消防安全检查的通知",
               "请各企业于12月底前完成消防设施自查，消防大队将分网格开展检查。",
               "fire_rescue", {"grid_ids": ["GEO01", "GEO02", "GEO03", "GEO04"]}, 12, 0.35),
    DemoPolicy("survey", "notice", "关于开展企业服务满意度调查的通知",
               "为持续优化营商环境，请各企业在网格员走访时反馈对诉求办理和政策服务的意见建议。",
               "economic_development", {}, 20, 0.5),
    DemoPolicy("tax-filing", "notice", "关于做好年度企业所得税汇算清缴的提醒",
               "请各企业按时完成年度企业所得税汇算清缴，如有疑问可联系税务局高新区办税服务厅。",
               "taxation", {"grid_ids": ["INC07", "INC08", "GEO05", "GEO06"]}, 3, 0.2),
)


def audiences(featured_grids: list[str]) -> dict[str, dict[str, Any]]:
    """The audience of each demo policy: its own, and the grids of the enterprises the demo
    logins act for for the one without (``survey``), so their inboxes hold a policy."""
    return {p.key: p.audience or {"grid_ids": featured_grids or ["GEO01"]} for p in POLICIES}


def stable(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def readers(policy: DemoPolicy, enterprise_ids: list[str], published: datetime,
            anchor: datetime, seed: int = SEED) -> list[tuple[str, datetime]]:
    """Which enterprises read the policy, and when (after publishing, before the anchor)."""
    rng = random.Random(f"{seed}:{policy.key}")
    span = max((anchor - published).total_seconds() - 60, 60)
    chosen = []
    for enterprise_id in sorted(enterprise_ids):
        if rng.random() < policy.read_share:
            # most read it in the first days
            delay = min(span, span * rng.random() ** 3 + 600)
            chosen.append((enterprise_id, published + timedelta(seconds=delay)))
    return chosen


def load(session: Session, members: dict[str, list[dict[str, Any]]],
         departments: dict[str, str], audience: dict[str, dict[str, Any]] | None = None,
         anchor: datetime | None = None, seed: int = SEED) -> dict[str, int]:
    """Publish the demo policies that are missing to ``members`` (by policy key: the
    registry's audience members, id, name, grid_id, industry_code, of the policy's
    ``audience``, default :func:`audiences` of no grid); counts."""
    specs = audience or audiences([])
    moment = anchor or datetime.now(UTC)
    counts = {"demo policies": 0, "demo policy messages": 0, "demo policy reads": 0}
    for demo in POLICIES:
        policy_id = stable("policy", demo.key)
        if session.get(Policy, policy_id) is not None or not members.get(demo.key):
            continue
        published = moment - timedelta(days=demo.days_ago, hours=-2)
        created = published - timedelta(days=2)
        session.add(Policy(
            id=policy_id, kind=demo.kind, title=demo.title, body=demo.body, attachments=[],
            valid_from=published.date(), valid_until=None, department_id=demo.department_id,
            department_name=departments.get(demo.department_id, demo.department_id),
            audience=specs[demo.key], status="draft", version=1, created_by=PUBLISHER.user_id,
            created_at=created, updated_at=created))
        session.flush()
        _policy, delivered = policies.publish(session, PUBLISHER, policy_id, 1,
                                              members[demo.key])
        session.execute(update(Policy).where(Policy.id == policy_id)
                        .values(published_at=published, updated_at=published))
        session.execute(update(InboxMessage).where(InboxMessage.event_id == policy_id)
                        .values(created_at=published))
        reads = readers(demo, [m["id"] for m in members[demo.key]], published, moment, seed)
        policies.record_reads(session, policy_id,
                              [(e, PUBLISHER.user_id, at) for e, at in reads])
        counts["demo policies"] += 1
        counts["demo policy messages"] += delivered or 0
        counts["demo policy reads"] += len(reads)
    return {k: v for k, v in counts.items() if v}
