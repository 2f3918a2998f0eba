"""Who hears of each event (the routing rules of notification). Pure: no broker, no database.

The handlers of :mod:`services.notification.service` look up the accounts (the registry's
department and enterprise recipients) and put the messages in their inboxes; the choices of
who is told live here.

- 督办升级 (``task_escalated``): level 1 (and a task reopened again) → the department head
  (部门负责人), level 2 → the leader in charge (分管领导), level 3 → the leading group office
  (领导小组办公室, the registry's ``leading_group_office``). The levels are ticketing's ladder
  (:mod:`services.ticketing.ladder`).
- A task assigned, reassigned or near its deadline → the department's liaisons (联络员).
- A committee obligation due or overdue, a project milestone delayed → the department's
  liaisons and head, each once.
- A meeting invitation or cancellation → each invited enterprise, once.
- A match → each of the two enterprises, of its own listing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from common.validation import is_uuid
from services.notification import templates

#: (recipient, kind, title, body, link) of one inbox message
Delivery = tuple[str, str, str, str, str]
#: a handler's plan: the messages an event's data asks for
Plan = Callable[[dict[str, Any]], list[Delivery]]

#: who hears of a 督办 escalation at each level: a field of the registry's department
#: recipients, or the leading group office
EscalationAudience = Literal["head", "leader_in_charge", "leading_group_office"]
LEADING_GROUP_OFFICE: EscalationAudience = "leading_group_office"


def escalation_audience(level: int) -> EscalationAudience:
    """Who a 督办 escalation at ``level`` is for (1 and below: the department head)."""
    if level >= 3:
        return LEADING_GROUP_OFFICE
    if level == 2:
        return "leader_in_charge"
    return "head"


def liaisons_and_head(department: Mapping[str, Sequence[str]]) -> list[str]:
    """The department's liaisons then its head(s), each account once."""
    return list(dict.fromkeys([*department["liaison"], *department["head"]]))


def to_users(accounts: Sequence[str], kind: str, message: templates.Message) -> list[Delivery]:
    """The same message to each staff account."""
    return [(f"user:{a}", kind, *message) for a in accounts]


def enterprise_ids(value: Any) -> list[str]:
    """Enterprise ids from event data, each a UUID, without repeats (ValueError otherwise)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and is_uuid(v) for v in value):
        raise ValueError("enterprise ids must be a list of UUIDs")
    return list(dict.fromkeys(value))


def enterprise_id(value: Any) -> str:
    return enterprise_ids([value])[0]


def matched_pair(value: Any) -> tuple[str, str]:
    """The owners of a matched listing and of the listing it matched, in that order."""
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("listing_matched names exactly two enterprise ids")
    return enterprise_id(value[0]), enterprise_id(value[1])


def to_invitees(kind: str, build: Callable[[dict[str, Any]], templates.Message]) -> Plan:
    """The plan of a meeting event: the same message to each enterprise it names."""
    def plan(data: dict[str, Any]) -> list[Delivery]:
        message = build(data)
        return [(f"enterprise:{e}", kind, *message)
                for e in enterprise_ids(data["enterprise_ids"])]
    return plan


def listing_matched(data: dict[str, Any]) -> list[Delivery]:
    """智能匹配: each of the two enterprises hears that its listing matches the other's."""
    first, second = matched_pair(data["enterprise_ids"])
    mine, theirs = str(data["listing_title"]), str(data["matched_listing_title"])
    return [
        (f"enterprise:{first}", "listing_matched", *templates.listing_matched(
            data, mine, theirs, str(data["listing_id"]))),
        (f"enterprise:{second}", "listing_matched", *templates.listing_matched(
            data, theirs, mine, str(data["matched_listing_id"]))),
    ]
