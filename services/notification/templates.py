"""Message templates (站内消息模板): an event's data in, (title, body, link) out.

Plain functions, no broker and no database: every fact a recipient needs is in the event data,
plus the enterprise's and the department's names when the registry could tell them. Every
text is an English message id translated from the platform's catalogs (common/i18n.py) into
the recipient's ``language``: Chinese unless the recipient's language is known (the platform
records none yet, so inbox messages, e-mails and WeCom messages are written in Chinese). Times
are written in Asia/Shanghai, ``YYYY年MM月DD日 HH:MM`` in Chinese.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from common.calendar import SHANGHAI
from common.i18n import DEFAULT_LANGUAGE, EN, N_, Translator

Message = tuple[str, str, str]

#: who a task escalation (督办升级) goes to, by level
LEVEL_NAMES = {1: N_("the department head"), 2: N_("the leader in charge"),
               3: N_("the leading group's office")}
CLOSURE_TEXT = {
    "rated": N_("You were satisfied with the result; the demand is closed."),
    "internal": N_("The platform reviewed the handling department's written report; the "
                   "demand is closed internally."),
    "unrated": N_("No rating came in time; the demand is closed without a rating."),
}
CLOSED = N_("The demand is closed.")
#: how each language writes a moment and a day
TIME_FORMATS = {EN: ("%Y-%m-%d %H:%M", "%Y-%m-%d")}
CHINESE_FORMATS = ("%Y年%m月%d日 %H:%M", "%Y年%m月%d日")


def local_time(iso: str, language: str = DEFAULT_LANGUAGE) -> str:
    """``2025-09-28T10:00:00+08:00`` → ``2025年09月28日 10:00`` (Asia/Shanghai)."""
    moment = datetime.fromisoformat(iso).astimezone(SHANGHAI)
    return moment.strftime(TIME_FORMATS.get(language, CHINESE_FORMATS)[0])


def local_date(iso: str | date, language: str = DEFAULT_LANGUAGE) -> str:
    """``2025-09-28`` → ``2025年09月28日``."""
    day = iso if isinstance(iso, date) else date.fromisoformat(iso[:10])
    return day.strftime(TIME_FORMATS.get(language, CHINESE_FORMATS)[1])


def _demand_of(t: Translator, enterprise_name: str | None, number: str) -> str:
    if enterprise_name:
        return t("the demand of 「{enterprise}」 (number {number})", enterprise=enterprise_name,
                 number=number)
    return t("an enterprise's demand (number {number})", number=number)


def _sentence(t: Translator, *parts: str) -> str:
    return t("{text}.", text=_capitalised("".join(parts)))


def task_assigned(data: dict[str, Any], enterprise_name: str | None = None,
                  language: str = DEFAULT_LANGUAGE) -> Message:
    """To the liaison (联络员): a new task for the department, to accept in time."""
    t = Translator(language)
    title = t("New task to accept: {number}", number=data["number"])
    parts = [t("{demand} was assigned to your department",
               demand=_demand_of(t, enterprise_name, data["number"]))]
    if data.get("accept_due_at"):
        parts.append(t(", please confirm acceptance by {time}",
                       time=local_time(data["accept_due_at"], t.language)))
    if data.get("handling_workdays"):
        parts.append(t(", to be handled within {days} working days of acceptance",
                       days=data["handling_workdays"]))
    return title, _sentence(t, *parts), f"/tasks/{data['task_id']}"


def task_reassigned(data: dict[str, Any], enterprise_name: str | None = None,
                    language: str = DEFAULT_LANGUAGE) -> Message:
    """To the new department's liaison: a coordinator named this department (协调改派)."""
    t = Translator(language)
    title = t("Reassigned task to accept: {number}", number=data["number"])
    parts = [t("After coordination by the platform, {demand} is now handled by your "
               "department", demand=_demand_of(t, enterprise_name, data["number"]))]
    if data.get("reason"):
        parts.append(t(" (reason: {reason})", reason=data["reason"]))
    if data.get("accept_due_at"):
        parts.append(t(", please confirm acceptance by {time}",
                       time=local_time(data["accept_due_at"], t.language)))
    return title, _sentence(t, *parts), f"/tasks/{data['task_id']}"


def deadline_reminder(data: dict[str, Any], enterprise_name: str | None = None,
                      language: str = DEFAULT_LANGUAGE) -> Message:
    """To the liaison: the handling deadline (办理时限) is near."""
    t = Translator(language)
    title = t("Task due soon: {number}", number=data["number"])
    demand = _demand_of(t, enterprise_name, data["number"])
    if data.get("due_at"):
        body = t("The handling deadline of {demand} is {time}; please complete it in time.",
                 demand=demand, time=local_time(data["due_at"], t.language))
    else:
        body = t("The handling deadline of {demand} is near; please complete it in time.",
                 demand=demand)
    return title, body, f"/tasks/{data['task_id']}"


def triage_overdue(data: dict[str, Any], enterprise_name: str | None = None,
                   department_name: str | None = None,
                   language: str = DEFAULT_LANGUAGE) -> Message:
    """To the owning department's coordinators: a demand was not triaged by its deadline
    (分理超时, 10:00 of the next working day)."""
    t = Translator(language)
    title = t("Triage overdue: {number}", number=data["number"])
    demand = _demand_of(t, enterprise_name, data["number"])
    if data.get("due_at"):
        body = t("{demand} was due to be triaged by {time} and is still waiting; please "
                 "triage it now ({department}).", demand=demand,
                 time=local_time(data["due_at"], t.language),
                 department=department_name or "")
    else:
        body = t("{demand} is still waiting to be triaged; please triage it now.",
                 demand=demand)
    return title, body, f"/demands/{data['demand_id']}"


def task_escalated(data: dict[str, Any], enterprise_name: str | None = None,
                   department_name: str | None = None,
                   language: str = DEFAULT_LANGUAGE) -> Message:
    """To the level's recipients: a task is escalated (督办升级) for being overdue or for
    being reopened again (多次未办结)."""
    t = Translator(language)
    level = int(data["level"])
    to = t(LEVEL_NAMES[level]) if level in LEVEL_NAMES else t("level {level}", level=level)
    title = t("Escalated to {to}: {number}", to=to, number=data["number"])
    task = t("the task of {demand} handled by {department}",
             demand=_demand_of(t, enterprise_name, data["number"]),
             department=department_name or data["department_id"])
    if data.get("cause") == "reopened":
        count = data.get("reopen_count")
        if count:
            body = t("{task} has been handled again {count} times after the enterprise was "
                     "dissatisfied and is still not done; please see that it is handled.",
                     task=task, count=count)
        else:
            body = t("{task} was handled again several times after the enterprise was "
                     "dissatisfied and is still not done; please see that it is handled.",
                     task=task)
    elif data.get("due_at"):
        body = t("{task} is past its handling deadline ({time}) and not done; it is now "
                 "escalated to {to}; please see that it is handled.", task=task,
                 time=local_time(data["due_at"], t.language), to=to)
    else:
        body = t("{task} is past its handling deadline and not done; it is now escalated to "
                 "{to}; please see that it is handled.", task=task, to=to)
    return title, _capitalised(body), f"/tasks/{data['task_id']}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def rating_requested(data: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> Message:
    """To the enterprise: every task is done (办结), please rate the outcome."""
    t = Translator(language)
    if data.get("reminder"):
        title = t("Reminder: please rate how your demand was handled: {number}",
                  number=data["number"])
    else:
        title = t("Please rate how your demand was handled: {number}", number=data["number"])
    parts = [t("Every task of your demand (number {number}) is done; please rate the "
               "efficiency, the attitude and the result", number=data["number"])]
    if data.get("close_unrated_at"):
        parts.append(t("; a demand not rated by {time} is closed without a rating",
                       time=local_time(data["close_unrated_at"], t.language)))
        if data.get("close_unrated_provisional"):
            parts.append(t(" (deadline counted on provisional working days)"))
    return title, _sentence(t, *parts), f"/demands/{data['demand_id']}"


def demand_closed(data: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> Message:
    """To the enterprise: the demand is closed (销号), and how."""
    t = Translator(language)
    title = t("Demand closed: {number}", number=data["number"])
    if data.get("closed_at"):
        done = t("Your demand (number {number}) was completed on {time}.",
                 number=data["number"], time=local_time(data["closed_at"], t.language))
    else:
        done = t("Your demand (number {number}) was completed.", number=data["number"])
    how = CLOSURE_TEXT.get(str(data.get("closure")), CLOSED)
    return title, t("{first} {second}", first=done, second=t(how)), \
        f"/demands/{data['demand_id']}"


def obligation(data: dict[str, Any], overdue: bool, enterprise_name: str | None = None,
               language: str = DEFAULT_LANGUAGE) -> Message:
    """To the owning department: a committee obligation of a contract is due or overdue."""
    t = Translator(language)
    due = local_date(data["due_on"], t.language)
    if enterprise_name:
        contract = t("your department's contract with 「{enterprise}」",
                     enterprise=enterprise_name)
    else:
        contract = t("your department's contract")
    if overdue:
        title = t("A contract obligation is overdue")
        body = t("The committee's obligation under {contract} fell due on {day} and is not "
                 "fulfilled; please see to it at once.", contract=contract, day=due)
    else:
        title = t("A contract obligation falls due soon")
        body = t("The committee's obligation under {contract} falls due on {day}; please "
                 "fulfil it in time.", contract=contract, day=due)
    return title, _capitalised(body), f"/contracts/{data['contract_id']}"


# --------------------------------------------------------------------------- policies (政策发布)

KIND_NAMES = {"policy": N_("policy"), "notice": N_("notice")}
#: characters of a policy's body quoted in its inbox message
EXCERPT_CHARS = 80


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of a text, on one line, with … when cut."""
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def _validity(t: Translator, valid_from: date | None, valid_until: date | None) -> str:
    if valid_from and valid_until:
        return t(" Valid from {start} to {end}.", start=local_date(valid_from, t.language),
                 end=local_date(valid_until, t.language))
    if valid_until:
        return t(" Valid until {end}.", end=local_date(valid_until, t.language))
    if valid_from:
        return t(" In force from {start}.", start=local_date(valid_from, t.language))
    return ""


def _kind(t: Translator, kind: str) -> str:
    return t(KIND_NAMES.get(kind, KIND_NAMES["policy"]))


def policy_published(policy_id: str, kind: str, title: str, body: str, department_name: str,
                     valid_from: date | None = None, valid_until: date | None = None,
                     attachments: int = 0, language: str = DEFAULT_LANGUAGE) -> Message:
    """To each enterprise of the audience: a department published a policy or notice."""
    t = Translator(language)
    name = _kind(t, kind)
    text = (t("{department} published the {kind} 「{title}」: {excerpt}",
              department=department_name, kind=name, title=title, excerpt=excerpt(body))
            + _validity(t, valid_from, valid_until)
            + (t(" {count} attachment(s).", count=attachments) if attachments else "")
            + t(" Sign in to the platform to read it in full."))
    return (t("[{kind}] {title}", kind=_capitalised(name), title=title)[:200], text,
            f"/policies/{policy_id}")


def policy_withdrawn(policy_id: str, kind: str, title: str, department_name: str,
                     reason: str, language: str = DEFAULT_LANGUAGE) -> Message:
    """To each enterprise that received it: the policy or notice was withdrawn (撤回)."""
    t = Translator(language)
    name = _kind(t, kind)
    text = t("{department} withdrew the {kind} 「{title}」 (reason: {reason}); do not act on "
             "it any more.", department=department_name, kind=name, title=title, reason=reason)
    return (t("[{kind} withdrawn] {title}", kind=_capitalised(name), title=title)[:200], text,
            f"/policies/{policy_id}")


# --------------------------------------------------------------------------- supply/demand board


def _score(t: Translator, score: Any) -> str:
    """A match score as a percentage: 0.87 → 87%, 87 → 87%; empty when unknown."""
    try:
        value = float(score)
    except (TypeError, ValueError):
        return ""
    percent = value * 100 if value <= 1 else value
    return t(" (match {percent}%)", percent=f"{percent:.0f}")


def listing_matched(data: dict[str, Any], own_title: str, other_title: str,
                    own_listing_id: str, language: str = DEFAULT_LANGUAGE) -> Message:
    """To each of the two enterprises: the board matched its listing with another (智能匹配)."""
    t = Translator(language)
    title = t("Supply and demand match: {title}", title=own_title)[:200]
    body = t("Your listing 「{own}」 matches 「{other}」{score}; you may ask to dock on the "
             "platform.", own=own_title, other=other_title, score=_score(t, data.get("score")))
    return title, body, f"/listings/{own_listing_id}"


def docking_requested(data: dict[str, Any], requester_name: str | None = None,
                      language: str = DEFAULT_LANGUAGE) -> Message:
    """To the listing's owner: an enterprise asks to dock (对接请求)."""
    t = Translator(language)
    if requester_name:
        who = t("「{enterprise}」", enterprise=requester_name)
    else:
        who = t("an enterprise")
    parts = [t("{who} would like to dock with you about your listing 「{title}」", who=who,
               title=data["listing_title"])]
    if data.get("message"):
        parts.append(t(", with the message: {message}", message=data["message"]))
    body = _capitalised(_sentence(t, *parts)) + t(" Please answer in time.")
    return (t("Docking request: {title}", title=data["listing_title"])[:200], body,
            f"/dockings/{data['docking_id']}")


def docking_answered(data: dict[str, Any], accepted: bool, owner_name: str | None = None,
                     language: str = DEFAULT_LANGUAGE) -> Message:
    """To the requester: the owner accepted (or declined) the docking request."""
    t = Translator(language)
    if owner_name:
        who = t("「{enterprise}」", enterprise=owner_name)
    else:
        who = t("the other enterprise")
    if accepted:
        title = t("Docking request accepted: {title}", title=data["listing_title"])
        body = t("{who} accepted your docking request about 「{title}」; please contact them.",
                 who=who, title=data["listing_title"])
    else:
        title = t("Docking request not accepted: {title}", title=data["listing_title"])
        body = t("{who} has not accepted your docking request about 「{title}」.", who=who,
                 title=data["listing_title"])
    return title[:200], _capitalised(body), f"/dockings/{data['docking_id']}"


# --------------------------------------------------------------------------- meetings (政企座谈)


def meeting_invited(data: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> Message:
    """To each invited enterprise: a government-enterprise meeting (政企座谈会)."""
    t = Translator(language)
    when = local_time(data["starts_at"], t.language)
    if data.get("place"):
        body = t("Your enterprise is invited to the government-enterprise meeting on 「{theme}」"
                 " at {place} on {time}; please be there on time.", theme=data["theme"],
                 place=data["place"], time=when)
    else:
        body = t("Your enterprise is invited to the government-enterprise meeting on 「{theme}」"
                 " on {time}; please be there on time.", theme=data["theme"], time=when)
    return (t("Invitation to a government-enterprise meeting: {theme}",
              theme=data["theme"])[:200], body, f"/meetings/{data['meeting_id']}")


def meeting_cancelled(data: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> Message:
    """To each invited enterprise: the meeting it was invited to will not take place."""
    t = Translator(language)
    when = local_time(data["starts_at"], t.language)
    if data.get("place"):
        meeting = t("The government-enterprise meeting on 「{theme}」 planned at {place} on "
                    "{time}", theme=data["theme"], place=data["place"], time=when)
    else:
        meeting = t("The government-enterprise meeting on 「{theme}」 planned on {time}",
                    theme=data["theme"], time=when)
    if data.get("reason"):
        body = t("{meeting} is cancelled, for this reason: {reason}.", meeting=meeting,
                 reason=data["reason"])
    else:
        body = t("{meeting} is cancelled.", meeting=meeting)
    body += t(" We apologise for the inconvenience.")
    return (t("Government-enterprise meeting cancelled: {theme}", theme=data["theme"])[:200],
            body, f"/meetings/{data['meeting_id']}")


# ------------------------------------------------------------------ zone resources (区域资源)


def project_milestone_delayed(data: dict[str, Any], language: str = DEFAULT_LANGUAGE
                              ) -> Message:
    """To the responsible department (liaison and head): a project's milestone passed its
    planned day and is not done."""
    t = Translator(language)
    project = data["project_name"]
    milestone = t.label("project_milestone", data["milestone"])
    planned = local_date(data["planned_on"], t.language)
    title = t("Project milestone delayed: {project}", project=project)
    if data.get("days_late"):
        body = t("{milestone} of the project 「{project}」 was planned for "
                 "{day} and is not done ({days} days late); please follow up on the project.",
                 milestone=milestone, project=project, day=planned, days=data["days_late"])
    else:
        body = t("{milestone} of the project 「{project}」 was planned for "
                 "{day} and is not done; please follow up on the project.",
                 milestone=milestone, project=project, day=planned)
    return title[:200], body, f"/zone/projects/{data['project_id']}"


def project_in_production(data: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> Message:
    """To the grid staff of the investor's grid: it entered scope on starting production."""
    t = Translator(language)
    title = t("Enterprise newly in scope: {enterprise}", enterprise=data["enterprise_name"])
    if data.get("grid_name"):
        body = t("The project 「{project}」 passed completion acceptance and started "
                 "production; its investor 「{enterprise}」 is now in the platform's service "
                 "scope, in the grid 「{grid}」. Please visit it soon.",
                 project=data["project_name"], enterprise=data["enterprise_name"],
                 grid=data["grid_name"])
    else:
        body = t("The project 「{project}」 passed completion acceptance and started "
                 "production; its investor 「{enterprise}」 is now in the platform's service "
                 "scope. Please visit it soon.",
                 project=data["project_name"], enterprise=data["enterprise_name"])
    return title[:200], body, f"/enterprises/{data['enterprise_id']}"
