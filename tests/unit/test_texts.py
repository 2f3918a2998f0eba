"""Texts a service writes itself come from the same catalogs, in the reader's language: the
supply/demand board's match explanations and the notification templates (Chinese unless the
recipient's language is known)."""

from __future__ import annotations

from common.i18n import EN, ZH
from services.notification import templates
from services.supplydemand import matching


def test_match_explanations_follow_the_catalogs():
    factor = matching.industry_factor("C3311", "C3312")
    assert factor.as_dict(ZH)["reason"] == "行业大类相同：C33"
    assert factor.as_dict(EN)["reason"] == factor.reason == "same industry division C33"
    text = matching.Factor("text", 0.5, 0.6, "shared words: {words} ({count} of {total} words)",
                           {"words": ["激光", "切割"], "count": 2, "total": 3})
    assert text.as_dict(ZH)["reason"] == "相同词语：激光、切割（3 个词中有 2 个相同）"
    assert text.as_dict(EN)["reason"] == "shared words: 激光, 切割 (2 of 3 words)"


def test_notification_texts_come_from_the_catalogs_in_chinese_unless_asked():
    task = {"demand_id": "d1", "number": "SQ20250926-0001", "task_id": "t1",
            "department_id": "fire_rescue", "accept_due_at": "2025-09-29T18:00:00+08:00",
            "handling_workdays": 5}
    title, body, link = templates.task_assigned(task, "青岛测试科技有限公司")
    assert title == "新任务待受理：SQ20250926-0001"
    assert body == ("「青岛测试科技有限公司」的诉求（编号 SQ20250926-0001）已分派本部门办理，"
                    "请于2025年09月29日 18:00前完成受理确认，办理时限为受理后 5 个工作日。")
    title, body, _ = templates.task_assigned(task, "青岛测试科技有限公司", language=EN)
    assert title == "New task to accept: SQ20250926-0001"
    assert body == ("The demand of 「青岛测试科技有限公司」 (number SQ20250926-0001) was assigned "
                    "to your department, please confirm acceptance by 2025-09-29 18:00, to be "
                    "handled within 5 working days of acceptance.")
    _, body, _ = templates.task_escalated({**task, "level": 2, "due_at": task["accept_due_at"]},
                                          None, "消防大队", language=EN)
    assert body.startswith("The task of an enterprise's demand (number SQ20250926-0001) "
                           "handled by 消防大队 is past its handling deadline")


def test_zone_project_notifications_name_the_milestone_by_its_label():
    delayed = {"project_id": "p1", "project_name": "智能装备产业园二期", "milestone":
               "completion_acceptance", "planned_on": "2025-08-31", "days_late": 20,
               "department_id": "construction"}
    title, body, link = templates.project_milestone_delayed(delayed)
    assert title == "在建项目节点延误：智能装备产业园二期"
    assert body == ("在建项目「智能装备产业园二期」的竣工备案节点计划于2025年08月31日完成，"
                    "至今未完成（已延误 20 天），请跟进项目进度。")
    assert link == "/zone/projects/p1"
    _, body, _ = templates.project_milestone_delayed(delayed, language=EN)
    assert body == ("Completion acceptance of the project 「智能装备产业园二期」 was planned for "
                    "2025-08-31 and is not done (20 days late); please follow up on the "
                    "project.")
    production = {"project_id": "p1", "project_name": "智能装备产业园二期",
                  "enterprise_id": "e1", "enterprise_name": "青岛测试科技有限公司",
                  "grid_name": "高新区第一网格"}
    title, body, link = templates.project_in_production(production)
    assert title == "新纳入服务企业：青岛测试科技有限公司"
    assert body == ("在建项目「智能装备产业园二期」已竣工备案并正式投产，"
                    "投资企业「青岛测试科技有限公司」已纳入企业网格化服务范围，"
                    "划入「高新区第一网格」，请及时上门对接服务。")
    assert link == "/enterprises/e1"
    title, _, _ = templates.project_in_production({**production, "grid_name": None}, language=EN)
    assert title == "Enterprise newly in scope: 青岛测试科技有限公司"
