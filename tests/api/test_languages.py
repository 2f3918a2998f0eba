"""The API speaks to people in their language: the same refusal in Chinese (the default, or
``Accept-Language: zh-CN``) and in English, with the same stable codes; field errors coded;
codes inside texts shown by their labels; import row errors in the reader's language. On the
real platform (``client``); the texts services write themselves: tests/unit/test_texts.py."""

from __future__ import annotations

import pytest
from helpers import bearer, demand_body, new_enterprise_id
from test_importer import HEADER, ensure_grids, make_xlsx, sample_rows

from common.auth import Role
from common.i18n import EN, ZH
from services.enterprise.spreadsheet import XLSX_MIME

ENGLISH = {"Accept-Language": "en"}
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def three_ways(send):
    """The answer without Accept-Language (the deployment's default, zh-CN), with zh-CN and
    with en."""
    return send({}), send(CHINESE), send(ENGLISH)


def test_a_role_refusal_in_chinese_and_english_with_one_code(client, token):
    worker = bearer(token(Role.GRID_WORKER, grid_ids=("GEO01",)))
    grid = {"id": "TLANG01", "name": "语言测试网格", "kind": "incubator"}
    default, chinese, english = three_ways(
        lambda lang: client.post("/api/v1/grids", json=grid, headers=worker | lang))
    for answer in (default, chinese, english):
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "auth.role_refused"
    assert default.json() == chinese.json()
    assert default.headers["content-language"] == chinese.headers["content-language"] == ZH
    assert chinese.json()["title"] == "无权操作"
    assert chinese.json()["detail"] == "网格员无权新建网格"
    assert english.headers["content-language"] == EN
    assert english.json()["title"] == "Forbidden"
    assert english.json()["detail"] == "Grid worker may not create a grid"


def test_a_service_refusal_names_the_status_by_its_label(client, token):
    enterprise = bearer(token(Role.ENTERPRISE, enterprise_id=new_enterprise_id()))
    demand = client.post("/api/v1/demands", json=demand_body(), headers=enterprise).json()
    rating = {"efficiency": 5, "attitude": 5, "quality": 5}
    default, chinese, english = three_ways(lambda lang: client.post(
        f"/api/v1/demands/{demand['id']}/rating", json=rating, headers=enterprise | lang))
    for answer in (default, chinese, english):
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "demand.not_ratable"
    assert default.json()["detail"] == chinese.json()["detail"] == \
        "诉求当前为“待分理”状态，不能评价"
    assert english.json()["detail"] == "a demand that is Received cannot be rated"


def test_field_errors_carry_codes_and_texts_in_both_languages(client, token):
    enterprise = bearer(token(Role.ENTERPRISE, enterprise_id=new_enterprise_id()))
    body = {"channel": "fax", "title": "长" * 201, "priority": "high"}
    chinese, english = (client.post("/api/v1/demands", json=body, headers=enterprise | lang)
                        for lang in (CHINESE, ENGLISH))
    assert chinese.status_code == english.status_code == 422
    assert chinese.json()["code"] == english.json()["code"] == "validation_failed"
    zh, en = chinese.json()["errors"], english.json()["errors"]
    assert {field: [r["code"] for r in reasons] for field, reasons in zh.items()} == {
        "channel": ["field.not_one_of"], "title": ["field.too_long"],
        "description": ["field.required"], "priority": ["field.unknown"]}
    assert {field: [r["code"] for r in reasons] for field, reasons in en.items()} == \
        {field: [r["code"] for r in reasons] for field, reasons in zh.items()}
    assert zh["description"][0]["message"] == "此项为必填项"
    assert en["description"][0]["message"] == "Missing data for required field."
    assert zh["title"][0]["message"] == "长度应在 1 至 200 之间"
    assert zh["priority"][0]["message"] == "不支持此字段"
    assert zh["channel"][0]["message"].startswith("应为以下之一：grid_worker")
    assert chinese.json()["detail"] == \
        "以下字段填写有误：channel、description、priority、title"
    assert english.json()["detail"] == \
        "invalid fields: channel, description, priority, title"


def test_nested_field_errors_are_named_by_their_dotted_path(client, token):
    coordinator = bearer(token(Role.COORDINATOR, department_id="economic_development"))
    answer = client.post("/api/v1/meetings", headers=coordinator | ENGLISH, json={
        "theme": "语言测试", "starts_at": "2099-01-01T10:00:00+08:00", "place": "高新区会议中心",
        "organiser_department_id": "economic_development",
        "audience": {"grid_ids": ["NO-SUCH-GRID"]}})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == {"audience.grid_ids": [
        {"code": "meeting.unknown_grid", "message": "no such grid: NO-SUCH-GRID"}]}


def test_the_check_digit_of_a_credit_code_is_coded(client, token):
    admin = bearer(token(Role.ADMIN))
    answer = client.post("/api/v1/enterprises", headers=admin | ENGLISH, json={
        "credit_code": "91370212MA3C0XXXX0", "name": "校验测试有限公司", "address": "高新区",
        "industry_code": "C39", "scale": "small"})
    assert answer.status_code == 422, answer.text
    reason = answer.json()["errors"]["credit_code"][0]
    assert reason["code"].startswith("enterprise.credit_code_")
    assert answer.json()["code"] == "validation_failed"


@pytest.fixture
def grids(db):
    ensure_grids(db)
    return db


def test_import_row_errors_come_in_the_readers_language(client, token, grids):
    rows = sample_rows(2, "130199")
    rows[1][6] = "巨型"  # row 3: no such scale
    content = make_xlsx(HEADER, rows)
    admin = token(Role.ADMIN)
    answers = [client.post("/api/v1/enterprises/import", content=content,
                           params={"dry_run": "true"},
                           headers=bearer(admin) | {"Content-Type": XLSX_MIME} | lang)
               for lang in (CHINESE, ENGLISH)]
    for answer in answers:
        assert answer.status_code == 200, answer.text
    (zh,), (en,) = (answer.json()["errors"] for answer in answers)
    assert (zh["row"], zh["code"]) == (en["row"], en["code"]) == (3, "import.unknown_scale")
    assert zh["reason"].startswith("企业规模 '巨型' 无法识别")
    assert en["reason"].startswith("unknown scale '巨型': use 微型")
