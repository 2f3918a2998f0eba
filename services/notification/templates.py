"""Message templates (站内消息模板): an event's data in, (title, body, link) out.

Plain functions, no broker and no database: every fact a recipient needs is in the event data,
plus the enterprise's and the department's names when the registry could tell them. Times are
written in Asia/Shanghai as ``YYYY年MM月DD日 HH:MM``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from common.calendar import SHANGHAI

Message = tuple[str, str, str]

#: who a task escalation (督办升级) goes to, by level
LEVEL_NAMES = {1: "部门负责人", 2: "分管领导", 3: "领导小组办公室"}
CLOSURE_TEXT = {
    "rated": "您对办理结果表示满意，诉求已自动销号。",
    "internal": "经平台统筹审核承办部门的书面汇报材料，诉求已内部销号。",
    "unrated": "因评价期限内未收到评价，诉求已按未评价销号。",
}


def local_time(iso: str) -> str:
    """``2025-09-28T10:00:00+08:00`` → ``2025年09月28日 10:00`` (Asia/Shanghai)."""
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def local_date(iso: str) -> str:
    """``2025-09-28`` → ``2025年09月28日``."""
    return date.fromisoformat(iso[:10]).strftime("%Y年%m月%d日")


def _of(enterprise_name: str | None) -> str:
    return f"「{enterprise_name}」的" if enterprise_name else "企业"


def _department(name: str | None, department_id: str) -> str:
    return name or department_id


def task_assigned(data: dict[str, Any], enterprise_name: str | None = None) -> Message:
    """To the liaison (联络员): a new task for the department, to accept in time."""
    title = f"新任务待受理：{data['number']}"
    body = f"{_of(enterprise_name)}诉求（编号 {data['number']}）已分派本部门办理"
    if data.get("accept_due_at"):
        body += f"，请于{local_time(data['accept_due_at'])}前完成受理确认"
    if data.get("handling_workdays"):
        body += f"，办理时限为受理后 {data['handling_workdays']} 个工作日"
    return title, body + "。", f"/tasks/{data['task_id']}"


def task_reassigned(data: dict[str, Any], enterprise_name: str | None = None) -> Message:
    """To the new department's liaison: a coordinator named this department (协调改派)."""
    title = f"协调改派任务待受理：{data['number']}"
    body = f"经平台统筹协调，{_of(enterprise_name)}诉求（编号 {data['number']}）改由本部门办理"
    if data.get("reason"):
        body += f"（原因：{data['reason']}）"
    if data.get("accept_due_at"):
        body += f"，请于{local_time(data['accept_due_at'])}前完成受理确认"
    return title, body + "。", f"/tasks/{data['task_id']}"


def deadline_reminder(data: dict[str, Any], enterprise_name: str | None = None) -> Message:
    """To the liaison: the handling deadline (办理时限) is near."""
    title = f"任务即将到期：{data['number']}"
    body = f"{_of(enterprise_name)}诉求（编号 {data['number']}）的办理时限为"
    body += local_time(data["due_at"]) if data.get("due_at") else "近期"
    body += "，请按时办结。"
    return title, body, f"/tasks/{data['task_id']}"


def task_escalated(data: dict[str, Any], enterprise_name: str | None = None,
                   department_name: str | None = None) -> Message:
    """To the level's recipients: a task is escalated (督办升级) for being overdue or for
    being reopened again (多次未办结)."""
    level = int(data["level"])
    who = _department(department_name, data["department_id"])
    title = f"督办升级（{LEVEL_NAMES.get(level, f'{level}级')}）：{data['number']}"
    subject = f"{_of(enterprise_name)}诉求（编号 {data['number']}）由{who}承办的任务"
    if data.get("cause") == "reopened":
        count = data.get("reopen_count")
        body = subject + (f"因企业不满意已第 {count} 次重办" if count else "因企业不满意多次重办")
        body += "，仍未办结，请督促办理。"
    else:
        body = subject + "已超过办理时限"
        if data.get("due_at"):
            body += f"（{local_time(data['due_at'])}）"
        body += f"未办结，现升级至{LEVEL_NAMES.get(level, f'第{level}级')}督办，请督促办理。"
    return title, body, f"/tasks/{data['task_id']}"


def rating_requested(data: dict[str, Any]) -> Message:
    """To the enterprise: every task is done (办结), please rate the outcome."""
    again = bool(data.get("reminder"))
    title = f"{'提醒：' if again else ''}请评价诉求办理结果：{data['number']}"
    body = (f"您的诉求（编号 {data['number']}）已全部办结，请对办理效率、服务态度和办理结果"
            "进行评价")
    if data.get("close_unrated_at"):
        body += f"；{local_time(data['close_unrated_at'])}前未评价的，诉求将按未评价销号"
    return title, body + "。", f"/demands/{data['demand_id']}"


def demand_closed(data: dict[str, Any]) -> Message:
    """To the enterprise: the demand is closed (销号), and how."""
    title = f"诉求已销号：{data['number']}"
    body = f"您的诉求（编号 {data['number']}）"
    if data.get("closed_at"):
        body += f"于{local_time(data['closed_at'])}"
    body += "办理完毕。" + CLOSURE_TEXT.get(str(data.get("closure")), "诉求已销号。")
    return title, body, f"/demands/{data['demand_id']}"


def obligation(data: dict[str, Any], overdue: bool, enterprise_name: str | None = None
               ) -> Message:
    """To the owning department: a committee obligation of a contract is due or overdue."""
    due = local_date(data["due_on"])
    party = f"与「{enterprise_name}」签订的" if enterprise_name else ""
    if overdue:
        title = "合同履约事项已逾期"
        body = f"本部门{party}合同中由管委承担的履约事项已于{due}到期，尚未履行，请尽快落实。"
    else:
        title = "合同履约事项即将到期"
        body = f"本部门{party}合同中由管委承担的履约事项将于{due}到期，请按期履行。"
    return title, body, f"/contracts/{data['contract_id']}"


# --------------------------------------------------------------------------- policies (政策发布)

KIND_NAMES = {"policy": "政策", "notice": "通知"}
#: characters of a policy's body quoted in its inbox message
EXCERPT_CHARS = 80


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of a text, on one line, with … when cut."""
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def _validity(valid_from: date | None, valid_until: date | None) -> str:
    if valid_from and valid_until:
        return f"有效期：{valid_from:%Y年%m月%d日}至{valid_until:%Y年%m月%d日}。"
    if valid_until:
        return f"有效期至{valid_until:%Y年%m月%d日}。"
    if valid_from:
        return f"自{valid_from:%Y年%m月%d日}起施行。"
    return ""


def policy_published(policy_id: str, kind: str, title: str, body: str, department_name: str,
                     valid_from: date | None = None, valid_until: date | None = None,
                     attachments: int = 0) -> Message:
    """To each enterprise of the audience: a department published a policy or notice."""
    name = KIND_NAMES.get(kind, "政策")
    text = (f"{department_name}发布{name}「{title}」：{excerpt(body)}"
            + _validity(valid_from, valid_until)
            + (f"附件 {attachments} 个。" if attachments else "")
            + "请登录平台查看全文。")
    return f"【{name}】{title}"[:200], text, f"/policies/{policy_id}"


def policy_withdrawn(policy_id: str, kind: str, title: str, department_name: str,
                     reason: str) -> Message:
    """To each enterprise that received it: the policy or notice was withdrawn (撤回)."""
    name = KIND_NAMES.get(kind, "政策")
    text = f"{department_name}已撤回{name}「{title}」（原因：{reason}），请勿再据此办理。"
    return f"【{name}撤回】{title}"[:200], text, f"/policies/{policy_id}"


# --------------------------------------------------------------------------- supply/demand board


def _score(score: Any) -> str:
    """A match score as a percentage: 0.87 → 87%, 87 → 87%; empty when unknown."""
    try:
        value = float(score)
    except (TypeError, ValueError):
        return ""
    percent = value * 100 if value <= 1 else value
    return f"（匹配度 {percent:.0f}%）"


def listing_matched(data: dict[str, Any], own_title: str, other_title: str,
                    own_listing_id: str) -> Message:
    """To each of the two enterprises: the board matched its listing with another (智能匹配)."""
    title = f"供需匹配：{own_title}"[:200]
    body = (f"您发布的供求信息「{own_title}」与「{other_title}」相匹配{_score(data.get('score'))}，"
            "可在平台发起对接（点对点对接）。")
    return title, body, f"/listings/{own_listing_id}"


def docking_requested(data: dict[str, Any], requester_name: str | None = None) -> Message:
    """To the listing's owner: an enterprise asks to dock (对接请求)."""
    who = f"「{requester_name}」" if requester_name else "有企业"
    body = f"{who}希望就您发布的供求信息「{data['listing_title']}」与您对接"
    if data.get("message"):
        body += f"，留言：{data['message']}"
    return (f"对接请求：{data['listing_title']}"[:200], body + "。请及时回复。",
            f"/dockings/{data['docking_id']}")


def docking_answered(data: dict[str, Any], accepted: bool, owner_name: str | None = None
                     ) -> Message:
    """To the requester: the owner accepted (or declined) the docking request."""
    who = f"「{owner_name}」" if owner_name else "对方企业"
    if accepted:
        title = f"对接请求已接受：{data['listing_title']}"
        body = f"{who}已接受您就「{data['listing_title']}」提出的对接请求，请与对方联系洽谈。"
    else:
        title = f"对接请求未被接受：{data['listing_title']}"
        body = f"{who}暂未接受您就「{data['listing_title']}」提出的对接请求。"
    return title[:200], body, f"/dockings/{data['docking_id']}"


# --------------------------------------------------------------------------- meetings (政企座谈)


def meeting_invited(data: dict[str, Any]) -> Message:
    """To each invited enterprise: a government-enterprise meeting (政企座谈会)."""
    body = f"诚邀贵企业于{local_time(data['starts_at'])}"
    if data.get("place"):
        body += f"在{data['place']}"
    body += f"参加主题为「{data['theme']}」的政企座谈会，请准时出席。"
    return f"政企座谈会邀请：{data['theme']}"[:200], body, f"/meetings/{data['meeting_id']}"


def meeting_cancelled(data: dict[str, Any]) -> Message:
    """To each invited enterprise: the meeting it was invited to will not take place."""
    body = f"原定于{local_time(data['starts_at'])}"
    if data.get("place"):
        body += f"在{data['place']}"
    body += f"召开的主题为「{data['theme']}」的政企座谈会已取消"
    body += f"，原因：{data['reason']}。" if data.get("reason") else "。"
    body += "给您带来不便，敬请谅解。"
    return f"政企座谈会取消：{data['theme']}"[:200], body, f"/meetings/{data['meeting_id']}"
