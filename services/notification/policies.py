"""Policy publishing (政策发布): departments write policies (政策) and notices (通知) for a target
audience (目标企业); publishing delivers them to each enterprise's inbox. No broker in here:
the service resolves the audience through the registry and hands the result to :func:`publish`.

Rules:

- **Writers**: the department's liaison (联络员) and head (部门负责人) for their own department;
  coordinators (平台统筹) and admins for any department they name (a coordinator's own by
  default). Everyone else reads.
- **States**: ``draft`` → ``published`` → ``withdrawn`` (撤回). Only a draft changes; every change
  increments ``version``, and a write naming an older version is refused (412).
- **Publishing** stores the recipient snapshot (the in-scope enterprises the audience named at
  that moment, with their grid and industry) and puts one message per enterprise in its inbox
  (``enterprise:<id>``, which all the enterprise's users share; their channel preferences apply
  through the delivery log), all in one transaction with the state change, set-wise. Publishing
  again is a no-op that answers the published policy, so a retried publish delivers once.
- **Who reads what**: enterprises see only published (or withdrawn) policies addressed to them
  (404 for any other); staff see every published or withdrawn policy and the drafts of the
  departments they write for.
- **Read receipts (已读回执)**: the first time one of an enterprise's users opens the policy or
  marks its message read: when, and by which account.
- **Reach (触达统计)**: targeted, delivered, read and read rate, by grid and industry division,
  plus email/WeCom deliveries by state; for the issuing department, coordinators, leaders and
  admins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    null,
    or_,
    select,
    values,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import SHANGHAI
from common.concurrency import stale
from common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    field_error,
)
from common.i18n import label
from common.outbox import record_event
from common.pagination import paginate
from common.validation import is_uuid
from services.notification import inbox, templates
from services.notification.models import (
    Delivery,
    InboxMessage,
    Policy,
    PolicyRead,
    PolicyRecipient,
    outbox,
)

#: who writes policies; the first two only for their own department
WRITERS = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD, Role.COORDINATOR, Role.ADMIN})
DEPARTMENT_BOUND = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})
#: who reads reach statistics and read receipts (department staff: their department's only)
REACH_READERS = WRITERS | {Role.LEADER}
#: grid staff read the receipts of their grids' enterprises (who has not read it yet)
GRID_STAFF = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
RECEIPT_READERS = REACH_READERS | GRID_STAFF
#: inbox message kinds
PUBLISHED_KIND = "policy_published"
WITHDRAWN_KIND = "policy_withdrawn"
#: writable fields of a draft
FIELDS = ("kind", "title", "body", "attachments", "valid_from", "valid_until", "audience")
_WITHDRAWAL = uuid.UUID("5d0c7f55-3d3e-4b53-9a4e-2f5d1f3f7a10")


def today() -> date:
    return datetime.now(SHANGHAI).date()


def withdrawal_event_id(policy_id: str) -> str:
    """The inbox event id of a policy's withdrawal notices (its publication uses its own id)."""
    return str(uuid.uuid5(_WITHDRAWAL, policy_id))


# --------------------------------------------------------------------------- who may do what


def require_writer(principal: Principal) -> None:
    if principal.role not in WRITERS:
        raise Forbidden("{role} may not write policies", code="policy.write_forbidden",
                        params={"role": principal.role_label})


def issuing_department(principal: Principal, requested: str | None) -> str:
    """The department a writer publishes for (发布部门): department staff their own, others the
    one they name (a coordinator's own by default)."""
    require_writer(principal)
    if principal.role in DEPARTMENT_BOUND:
        if not principal.department_id:
            raise Forbidden("your account belongs to no department",
                            code="account.no_department")
        if requested and requested != principal.department_id:
            raise Forbidden("department staff publish for their own department only",
                            code="policy.other_department")
        return principal.department_id
    if requested:
        return requested
    if principal.department_id:
        return principal.department_id
    raise ValidationFailed("name the issuing department", {"department_id": [field_error(
        "field.required", "required for your role")]}, code="policy.department_required")


def may_write(principal: Principal, policy: Policy) -> bool:
    if principal.role not in WRITERS:
        return False
    return principal.role not in DEPARTMENT_BOUND or policy.department_id == principal.department_id


def _recipient(session: Session, policy_id: str, enterprise_id: str) -> bool:
    return session.execute(select(PolicyRecipient.enterprise_id).where(
        PolicyRecipient.policy_id == policy_id,
        PolicyRecipient.enterprise_id == enterprise_id)).first() is not None


def visible(session: Session, principal: Principal, policy_id: str, *,
            lock: bool = False) -> Policy:
    """The policy if the caller may see it, else NotFound (existence does not leak)."""
    if not isinstance(policy_id, str) or not is_uuid(policy_id):
        raise NotFound("no such policy", code="policy.not_found")
    query = select(Policy).where(Policy.id == policy_id)
    if lock:  # and read the row as it is now, not as this session saw it before
        query = query.with_for_update().execution_options(populate_existing=True)
    policy = session.execute(query).scalar_one_or_none()
    if policy is None:
        raise NotFound("no such policy", code="policy.not_found")
    if principal.role == Role.ENTERPRISE:
        if policy.status == "draft" or not principal.enterprise_id or not _recipient(
                session, policy.id, principal.enterprise_id):
            raise NotFound("no such policy", code="policy.not_found")
    elif principal.role == Role.SERVICE:
        raise NotFound("no such policy", code="policy.not_found")
    elif policy.status == "draft" and not may_write(principal, policy):
        raise NotFound("no such policy", code="policy.not_found")
    return policy


def writable(session: Session, principal: Principal, policy_id: str) -> Policy:
    """The policy, locked, if the caller writes for its department; 403 for other writers."""
    if principal.role not in WRITERS:
        raise Forbidden("{role} may not write policies", code="policy.write_forbidden",
                        params={"role": principal.role_label})
    policy = visible(session, principal, policy_id, lock=True)
    if not may_write(principal, policy):
        raise Forbidden("only the issuing department, coordinators and admins change a policy",
                        code="policy.other_department")
    return policy


def _check_version(policy: Policy, expected: int | None) -> None:
    if expected is not None and expected != policy.version:
        raise stale("policy", expected, policy.version)


def _check_validity(valid_from: date | None, valid_until: date | None) -> None:
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationFailed("the policy would end before it starts", {"valid_until": [
            field_error("field.before_start", "must not be before valid_from")]},
            code="policy.ends_before_start")


def _attachments(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: item[k] for k in ("name", "url", "size", "media_type")} for item in items]


# --------------------------------------------------------------------------- writing


def create(session: Session, principal: Principal, data: dict[str, Any],
           department_id: str, department_name: str) -> Policy:
    """A new draft (草稿). ``department_id`` comes from :func:`issuing_department`; the
    audience is the registry's normalised form."""
    if principal.role not in WRITERS:
        raise Forbidden("{role} may not write policies", code="policy.write_forbidden",
                        params={"role": principal.role_label})
    _check_validity(data.get("valid_from"), data.get("valid_until"))
    now = datetime.now(UTC)
    policy = Policy(
        id=str(uuid.uuid4()), kind=data["kind"], title=data["title"], body=data["body"],
        attachments=_attachments(data.get("attachments") or []),
        valid_from=data.get("valid_from"), valid_until=data.get("valid_until"),
        department_id=department_id, department_name=department_name,
        audience=data.get("audience") or {}, status="draft", version=1,
        created_by=principal.user_id, created_at=now, updated_at=now,
    )
    session.add(policy)
    session.flush()
    return policy


def update(session: Session, principal: Principal, policy_id: str, data: dict[str, Any],
           department: tuple[str, str] | None = None) -> Policy:
    """Change a draft; a stale ``version`` is 412, a published policy 409.
    ``department`` is the new (id, name) when the caller moves it to another department."""
    policy = writable(session, principal, policy_id)
    expected = data.pop("version", None)
    if policy.status != "draft":
        raise Conflict("only a draft can be changed; this policy is {status}",
                       code="policy.not_draft",
                       params={"status": label("policy_status", policy.status)})
    _check_version(policy, expected)
    changes = {k: v for k, v in data.items() if k in FIELDS}
    if "attachments" in changes:
        changes["attachments"] = _attachments(changes["attachments"])
    _check_validity(changes.get("valid_from", policy.valid_from),
                    changes.get("valid_until", policy.valid_until))
    changed = {k for k, v in changes.items() if getattr(policy, k) != v}
    if department and department[0] != policy.department_id:
        policy.department_id, policy.department_name = department
        changed.add("department_id")
    if not changed:
        return policy
    for key in changed - {"department_id"}:
        setattr(policy, key, changes[key])
    policy.version += 1
    policy.updated_at = datetime.now(UTC)
    session.flush()
    return policy


def check_publishable(session: Session, principal: Principal, policy_id: str,
                      expected_version: int | None = None) -> Policy:
    """Before the audience is resolved: the caller may publish this policy and it is a draft
    in force (or already published: publishing again answers it unchanged)."""
    policy = writable(session, principal, policy_id)
    if policy.status == "published":
        return policy
    if policy.status == "withdrawn":
        raise Conflict("a withdrawn policy cannot be published again; write a new one",
                       code="policy.withdrawn")
    _check_version(policy, expected_version)
    if policy.valid_until is not None and policy.valid_until < today():
        raise ValidationFailed("the policy is no longer in force", {"valid_until": [
            field_error("policy.expired", "already passed")]}, code="policy.expired")
    return policy


def publish(session: Session, principal: Principal, policy_id: str, seen_version: int,
            recipients: list[dict[str, Any]], call_id: str | None = None
            ) -> tuple[Policy, int | None]:
    """发布: store the recipient snapshot, put one message in each enterprise's inbox, mark
    the policy published and raise ``policy_published``, in the caller's transaction.

    ``recipients`` are the registry's audience members (id, name, grid_id, industry_code) as
    resolved for version ``seen_version``; if the draft changed since, 409 (resolve again).
    Returns the policy and how many messages were delivered now: None when it was published
    already (a retried publish delivers nothing twice)."""
    policy = writable(session, principal, policy_id)
    if policy.status == "published":
        return policy, None
    if policy.status != "draft":
        raise Conflict("a policy that is {status} cannot be published",
                       code="policy.not_draft",
                       params={"status": label("policy_status", policy.status)})
    if policy.version != seen_version:
        raise Conflict("the draft changed while it was being published; publish it again",
                       code="policy.changed_while_publishing")
    rows = list({r["id"]: {"policy_id": policy.id, "enterprise_id": r["id"],
                           "enterprise_name": (r.get("name") or None),
                           "grid_id": r.get("grid_id"), "industry_code": r.get("industry_code")}
                 for r in recipients}.values())
    if rows:
        store_recipients(session, policy.id, rows)
    title, body, link = templates.policy_published(
        policy.id, policy.kind, policy.title, policy.body, policy.department_name,
        policy.valid_from, policy.valid_until, len(policy.attachments or []))
    delivered = inbox.deliver_to_policy_audience(
        session, policy.id, PUBLISHED_KIND, policy.id, title, body, link)
    now = datetime.now(UTC)
    policy.status = "published"
    policy.published_at = now
    policy.published_by = principal.user_id
    policy.recipient_count = len(rows)
    policy.version += 1
    policy.updated_at = now
    record_event(session, outbox, "notification", "policy_published", {
        "policy_id": policy.id, "kind": policy.kind, "title": policy.title,
        "department_id": policy.department_id, "recipient_count": len(rows),
        "published_at": now.isoformat(),
    }, call_id)
    session.flush()
    return policy, delivered


def store_recipients(session: Session, policy_id: str, rows: list[dict[str, Any]]) -> None:
    """The recipient snapshot in one ``INSERT ... SELECT`` over arrays of its columns (one
    statement and five parameters for 100,000 enterprises, where an executemany sends them
    in pages of rows)."""
    columns = ("enterprise_id", "enterprise_name", "grid_id", "industry_code")
    arrays = {c: [r[c] for r in rows] for c in columns}
    session.execute(_STORE_RECIPIENTS, {"policy_id": policy_id, **arrays})


def _store_recipients_statement() -> Any:
    table = PolicyRecipient.__table__
    names = ("enterprise_id", "enterprise_name", "grid_id", "industry_code")
    rows = func.unnest(*(bindparam(n, type_=ARRAY(String)) for n in names)).table_valued(
        *names).render_derived("snapshot")
    return insert(table).from_select(  # Core: the ORM would take the parameters for rows
        ["policy_id", *names],
        select(bindparam("policy_id", type_=table.c.policy_id.type),
               cast(rows.c.enterprise_id, table.c.enterprise_id.type),
               rows.c.enterprise_name, rows.c.grid_id, rows.c.industry_code))


_STORE_RECIPIENTS = _store_recipients_statement()


def withdraw(session: Session, principal: Principal, policy_id: str, reason: str,
             expected_version: int | None = None, call_id: str | None = None
             ) -> tuple[Policy, int]:
    """撤回: the policy leaves the enterprises' lists and each enterprise that received it is
    told why. Withdrawing again is a no-op; a draft cannot be withdrawn (409)."""
    policy = writable(session, principal, policy_id)
    if policy.status == "withdrawn":
        return policy, 0
    if policy.status != "published":
        raise Conflict("only a published policy can be withdrawn",
                       code="policy.not_published")
    _check_version(policy, expected_version)
    title, body, link = templates.policy_withdrawn(
        policy.id, policy.kind, policy.title, policy.department_name, reason)
    told = inbox.deliver_to_policy_audience(
        session, policy.id, WITHDRAWN_KIND, withdrawal_event_id(policy.id), title, body, link)
    now = datetime.now(UTC)
    policy.status = "withdrawn"
    policy.withdrawn_at = now
    policy.withdrawn_by = principal.user_id
    policy.withdraw_reason = reason
    policy.version += 1
    policy.updated_at = now
    record_event(session, outbox, "notification", "policy_withdrawn", {
        "policy_id": policy.id, "kind": policy.kind, "department_id": policy.department_id,
        "reason": reason, "withdrawn_at": now.isoformat(),
    }, call_id)
    session.flush()
    return policy, told


# --------------------------------------------------------------------------- reading


def record_read(session: Session, policy_id: str, enterprise_id: str, account_id: str) -> bool:
    """已读回执: the enterprise's first read of the policy (later reads change nothing); its
    inbox message is marked read too. True if this was the first read."""
    return record_reads(session, policy_id, [(enterprise_id, account_id, None)]) == 1


def record_reads(session: Session, policy_id: str,
                 reads: Sequence[tuple[str, str, datetime | None]]) -> int:
    """已读回执 of many enterprises at once, each ``(enterprise_id, account_id, at)`` (``at``
    None: now): an enterprise's first read only (later reads change nothing), and its inbox
    message marked read. Two statements whatever the count; how many were first reads."""
    if not reads:
        return 0
    first = session.execute(
        pg_insert(PolicyRead)
        .values([{"policy_id": policy_id, "enterprise_id": enterprise_id,
                  "read_by": account_id,
                  "first_read_at": at if at is not None else func.now()}
                 for enterprise_id, account_id, at in reads])
        .on_conflict_do_nothing()
        .returning(PolicyRead.policy_id)
    ).all()
    moments = values(column("recipient", String), column("at", DateTime(timezone=True)),
                     name="read_moments").data(
        [(f"enterprise:{enterprise_id}", at) for enterprise_id, _account, at in reads])
    session.execute(
        sql_update(InboxMessage)
        .where(InboxMessage.event_id == policy_id,
               InboxMessage.recipient == moments.c.recipient,
               InboxMessage.read_at.is_(None))
        .values(read_at=func.coalesce(cast(moments.c.at, DateTime(timezone=True)),
                                      func.now())))
    return len(first)


def read_from_message(session: Session, principal: Principal, message: InboxMessage
                      ) -> str | None:
    """An enterprise user marked a policy's message read: its read receipt. The policy's kind
    if this was the enterprise's first read, else None."""
    if (message.kind != PUBLISHED_KIND or principal.role != Role.ENTERPRISE
            or not principal.enterprise_id):
        return None
    if not record_read(session, message.event_id, principal.enterprise_id, principal.user_id):
        return None
    return session.execute(select(Policy.kind).where(Policy.id == message.event_id)).scalar()


def _read_at(session: Session, policy_id: str, enterprise_id: str) -> datetime | None:
    return session.execute(select(PolicyRead.first_read_at).where(
        PolicyRead.policy_id == policy_id, PolicyRead.enterprise_id == enterprise_id)
    ).scalar_one_or_none()


def get(session: Session, principal: Principal, policy_id: str
        ) -> tuple[dict[str, Any], bool]:
    """One policy as the caller may see it, and whether this was an enterprise's first read
    (an enterprise user opening a published policy leaves a read receipt)."""
    policy = visible(session, principal, policy_id)
    first = False
    read_at = None
    if principal.role == Role.ENTERPRISE and principal.enterprise_id:
        if policy.status == "published":
            first = record_read(session, policy.id, principal.enterprise_id, principal.user_id)
        read_at = _read_at(session, policy.id, principal.enterprise_id)
    return as_dict(policy) | {"read_at": read_at}, first


def as_dict(policy: Policy) -> dict[str, Any]:
    return {c: getattr(policy, c) for c in (
        "id", "kind", "title", "body", "attachments", "valid_from", "valid_until",
        "department_id", "department_name", "audience", "status", "version",
        "recipient_count", "created_by", "created_at", "updated_at", "published_at",
        "withdrawn_at", "withdraw_reason")}


def _listed(principal: Principal, q: dict[str, Any]) -> Select:
    if principal.role == Role.ENTERPRISE:
        reads = PolicyRead.__table__
        query = (
            select(Policy, reads.c.first_read_at)
            .join(PolicyRecipient, and_(PolicyRecipient.policy_id == Policy.id,
                                        PolicyRecipient.enterprise_id == principal.enterprise_id))
            .outerjoin(reads, and_(reads.c.policy_id == Policy.id,
                                   reads.c.enterprise_id == principal.enterprise_id))
            .where(Policy.status == "published")
        )
        if q.get("unread") is not None:
            query = query.where(reads.c.first_read_at.is_(None) if q["unread"]
                                else reads.c.first_read_at.is_not(None))
    else:
        query = select(Policy, null().cast(DateTime(timezone=True)))
        if principal.role in (Role.COORDINATOR, Role.ADMIN):
            pass
        elif principal.role in DEPARTMENT_BOUND:
            query = query.where(or_(Policy.status != "draft",
                                    Policy.department_id == principal.department_id))
        else:
            query = query.where(Policy.status != "draft")
        if q.get("status"):
            query = query.where(Policy.status == q["status"])
    if q.get("kind"):
        query = query.where(Policy.kind == q["kind"])
    if q.get("department_id"):
        query = query.where(Policy.department_id == q["department_id"])
    if q.get("q"):
        words = q["q"].split()
        for word in words:
            query = query.where(or_(Policy.title.icontains(word, autoescape=True),
                                    Policy.body.icontains(word, autoescape=True)))
    if q.get("valid_now") is not None:
        day = today()
        in_force = and_(or_(Policy.valid_from.is_(None), Policy.valid_from <= day),
                        or_(Policy.valid_until.is_(None), Policy.valid_until >= day))
        query = query.where(in_force if q["valid_now"] else ~in_force)
    return query


def page(session: Session, principal: Principal, q: dict[str, Any]) -> dict[str, Any]:
    """Policies the caller may see, newest first: enterprises those addressed to them
    (published), staff all (drafts of their own department); searchable by words."""
    if principal.role == Role.SERVICE or (
            principal.role == Role.ENTERPRISE and not principal.enterprise_id):
        return {"items": [], "total": 0, "page": q["page"], "per_page": q["per_page"]}
    query = _listed(principal, q)
    found = paginate(session, query, q, order_by=[
        func.coalesce(Policy.published_at, Policy.updated_at).desc(), Policy.id])

    def item(row: Any) -> dict[str, Any]:
        p, read_at = row
        return {**as_dict(p), "excerpt": templates.excerpt(p.body, 120),
                "attachment_count": len(p.attachments or []), "read_at": read_at}
    return found.map(item).as_dict()


def _reach_readable(session: Session, principal: Principal, policy_id: str) -> Policy:
    if principal.role not in REACH_READERS:
        raise Forbidden("{role} may not read a policy's reach", code="policy.reach_forbidden",
                        params={"role": principal.role_label})
    policy = visible(session, principal, policy_id)
    if principal.role in DEPARTMENT_BOUND and policy.department_id != principal.department_id:
        raise Forbidden("department staff read the reach of their own department's policies",
                        code="policy.other_department")
    return policy


def reach(session: Session, principal: Principal, policy_id: str) -> dict[str, Any]:
    """触达统计: targeted, delivered (inbox messages), read and read rate, deliveries on the
    other channels by state, and the same by grid and by industry division."""
    policy = _reach_readable(session, principal, policy_id)
    reads = PolicyRead.__table__
    was_read = case((reads.c.first_read_at.is_not(None), 1), else_=0)

    def grouped(key: Any) -> list[dict[str, Any]]:
        rows = session.execute(
            select(key.label("key"), func.count().label("targeted"),
                   func.sum(was_read).label("read"))
            .select_from(PolicyRecipient)
            .outerjoin(reads, and_(reads.c.policy_id == PolicyRecipient.policy_id,
                                   reads.c.enterprise_id == PolicyRecipient.enterprise_id))
            .where(PolicyRecipient.policy_id == policy.id)
            .group_by(key).order_by(func.count().desc(), key)
        ).all()
        return [{"key": r.key, "targeted": r.targeted, "read": int(r.read or 0)} for r in rows]

    by_grid = grouped(PolicyRecipient.grid_id)
    by_industry = grouped(func.substr(PolicyRecipient.industry_code, 1, 3))
    targeted = sum(g["targeted"] for g in by_grid)
    read = sum(g["read"] for g in by_grid)
    delivered = session.execute(select(func.count()).select_from(InboxMessage).where(
        InboxMessage.event_id == policy.id)).scalar_one()
    channels = session.execute(
        select(Delivery.channel, Delivery.state, func.count())
        .join(InboxMessage, InboxMessage.id == Delivery.message_id)
        .where(InboxMessage.event_id == policy.id)
        .group_by(Delivery.channel, Delivery.state).order_by(Delivery.channel, Delivery.state)
    ).all()
    return {
        "policy_id": policy.id, "status": policy.status, "targeted": targeted,
        "delivered": delivered, "read": read,
        "read_rate": round(read / targeted, 4) if targeted else 0.0,
        "channels": [{"channel": c, "state": s, "count": n} for c, s, n in channels],
        "by_grid": by_grid, "by_industry": by_industry,
    }


def receipts(session: Session, principal: Principal, policy_id: str, q: dict[str, Any]
             ) -> dict[str, Any]:
    """已读回执: every enterprise of the snapshot with its first read (if any), by name. Grid
    staff read those of their grids' enterprises only (a published or withdrawn policy)."""
    if principal.role in GRID_STAFF:
        policy = visible(session, principal, policy_id)  # drafts are not found
    else:
        policy = _reach_readable(session, principal, policy_id)
    reads = PolicyRead.__table__
    query = (
        select(PolicyRecipient, reads.c.first_read_at, reads.c.read_by)
        .outerjoin(reads, and_(reads.c.policy_id == PolicyRecipient.policy_id,
                               reads.c.enterprise_id == PolicyRecipient.enterprise_id))
        .where(PolicyRecipient.policy_id == policy.id)
    )
    if principal.role in GRID_STAFF:
        query = query.where(PolicyRecipient.grid_id.in_(list(principal.grid_ids)))
    if q.get("read") is not None:
        query = query.where(reads.c.first_read_at.is_not(None) if q["read"]
                            else reads.c.first_read_at.is_(None))
    if q.get("grid_id"):
        query = query.where(PolicyRecipient.grid_id == q["grid_id"])
    found = paginate(session, query, q, order_by=[
        reads.c.first_read_at.desc().nulls_last(), PolicyRecipient.enterprise_name,
        PolicyRecipient.enterprise_id])

    def item(row: Any) -> dict[str, Any]:
        r, read_at, read_by = row
        return {"enterprise_id": r.enterprise_id, "enterprise_name": r.enterprise_name,
                "grid_id": r.grid_id, "industry_code": r.industry_code, "read_at": read_at,
                "read_by": read_by}
    return found.map(item).as_dict()


def audience_summary(members: list[dict[str, Any]]) -> dict[str, Any]:
    """An audience preview: the count, by grid and by industry division (largest first)."""
    def grouped(key: Any) -> list[dict[str, Any]]:
        counts: dict[str | None, int] = {}
        for m in members:
            k = key(m)
            counts[k] = counts.get(k, 0) + 1
        return [{"key": k, "count": n}
                for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))]

    return {"count": len(members),
            "by_grid": grouped(lambda m: m.get("grid_id")),
            "by_industry": grouped(lambda m: (m.get("industry_code") or "")[:3] or None)}
