"""The supply/demand board (供求信息) in Chromium: an enterprise posts a need that finds another
enterprise's offer, asks to dock, the other accepts, and only then do contacts appear; a
coordinator hides a listing with a reason and restores it."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from browser.conftest import Screen

UUID = r"[0-9a-f-]{36}"


def publish(screen: Screen, side: str, title: str, description: str) -> str:
    """Publish a listing from the form; its id (the page it lands on)."""
    screen.goto("/e/board/new")
    form = screen.page.locator("[data-test=listing-form]")
    form.locator("[data-test=listing-side]").get_by_text(
        "我能提供（供）" if side == "supply" else "我有需求（求）").click()
    screen.choose("[data-test=listing-category]", "加工")
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=description]").fill(description)
    form.get_by_role("button", name="发布").click()
    screen.page.wait_for_url(re.compile(rf".*/e/board/listings/{UUID}$"))
    expect(screen.page.locator("[data-test=listing-title]")).to_contain_text(title)
    return screen.page.url.rsplit("/", 1)[1]


@pytest.fixture
def with_contacts(db, demo_enterprises) -> Iterator[dict[str, list[str]]]:
    """The first two demo enterprises with a contact each (the demo zone records none): the
    phones by enterprise id; the contacts they had afterwards."""
    chosen = [e.enterprise_id for e in demo_enterprises[:2]]
    phones = {str(e): [f"139{random.randrange(10**8):08d}"] for e in chosen}
    with db.begin() as conn:
        kept = {str(e): conn.execute(text(
            "SELECT contacts FROM enterprise.enterprises WHERE id = :id"), {"id": e}).scalar_one()
            for e in chosen}
        for e in chosen:
            conn.execute(text("UPDATE enterprise.enterprises SET contacts = CAST(:c AS jsonb) "
                              "WHERE id = :id"), {"id": e, "c": json.dumps(
                                  [{"name": "王经理", "title": "销售经理",
                                    "phone": phones[str(e)][0]}])})
    yield phones
    with db.begin() as conn:
        for e in chosen:
            conn.execute(text("UPDATE enterprise.enterprises SET contacts = CAST(:c AS jsonb) "
                              "WHERE id = :id"), {"id": e, "c": json.dumps(kept[str(e)])})


def test_a_need_finds_an_offer_and_docks(screens, demo_enterprises, with_contacts, client,
                                         token):
    from common.auth import Role

    asker, owner, third = demo_enterprises[0], demo_enterprises[1], demo_enterprises[2]
    owner_phones = with_contacts[str(owner.enterprise_id)]
    asker_phones = with_contacts[str(asker.enterprise_id)]
    mark = uuid.uuid4().hex[:6]

    offering = screens("供方企业", phone=True)
    offering.sign_in(owner.username)
    offer_title = f"提供精密激光切割加工服务{mark}"
    offer_id = publish(offering, "supply", offer_title,
                       f"不锈钢、铝板激光切割加工，精度高，交期快。{mark}")

    needing = screens("需方企业", phone=True)
    needing.sign_in(asker.username)
    need_id = publish(needing, "demand", f"需要激光切割加工{mark}",
                      f"采购一批不锈钢板激光切割加工，月需求约500件。{mark}")
    # the need's page lists the offer among its matches, with reasons in Chinese
    match = needing.page.locator("[data-test=matches] [data-test=listing-card]",
                                 has_text=offer_title)
    expect(match).to_be_visible()
    reasons = match.locator("[data-test=match-reasons]").inner_text()
    assert "匹配度" in reasons and re.search(r"[\u4e00-\u9fff]{4,}", reasons), reasons
    needing.no_horizontal_scroll()
    needing.shot("board-matches")

    # the board and the offer's page: never the owner's contacts before acceptance
    needing.goto("/e/board")
    expect(needing.page.locator("[data-test=board-list]")).to_be_visible()
    for phone in owner_phones:
        assert phone not in needing.page.content()
    match_link = f"/e/board/listings/{offer_id}"
    needing.goto(match_link)
    expect(needing.page.locator("[data-test=docking-form]")).to_be_visible()
    for phone in owner_phones:
        assert phone not in needing.page.content()
    needing.page.fill("[data-test=docking-form] textarea[name=message]",
                      "我司需要长期激光切割加工，希望进一步沟通。")
    needing.page.get_by_role("button", name="申请对接").click()
    sent = needing.page.locator("[data-test=sent-dockings] [data-test=docking]")
    expect(sent.locator("[data-test=docking-status]")).to_have_text("待答复")
    expect(needing.page.locator("[data-test=docking-contacts]")).to_have_count(0)
    for phone in owner_phones:
        assert phone not in needing.page.content()
    needing.shot("board-docking-requested")

    # a third enterprise asks too (over the API), and the owner declines it (婉拒)
    third_token = {"Authorization": "Bearer " + token(Role.ENTERPRISE,
                                                      enterprise_id=str(third.enterprise_id))}
    asked = client.post("/api/v1/dockings", headers=third_token, json={
        "listing_id": offer_id, "message": "我司也有切割加工需求，想了解报价。"})
    assert asked.status_code == 201, asked.text

    # the other enterprise accepts from its listing's page
    offering.goto("/e/board/mine")
    offering.page.locator("[data-test=my-listings] [data-test=listing-card]",
                          has_text=offer_title).click()
    offering.page.wait_for_url(re.compile(rf".*/e/board/listings/{offer_id}$"))
    declined = offering.page.locator("[data-test=received-dockings] [data-test=docking]",
                                     has_text=third.name)
    declined.get_by_placeholder("回复（可选）").fill("暂无产能，感谢关注。")
    declined.get_by_role("button", name="婉拒").click()
    expect(declined.locator("[data-test=docking-status]")).to_have_text("已婉拒")
    expect(declined.locator("[data-test=docking-contacts]")).to_have_count(0)
    seen = client.get(f"/api/v1/dockings/{asked.json()['id']}", headers=third_token).json()
    assert seen["status"] == "declined"
    assert not any(phone in json.dumps(seen, ensure_ascii=False) for phone in owner_phones)
    received = offering.page.locator("[data-test=received-dockings] [data-test=docking]",
                                     has_text=asker.name)
    expect(received).to_contain_text(asker.name)
    for phone in asker_phones:
        assert phone not in offering.page.content()
    received.get_by_role("button", name="接受对接").click()
    expect(received.locator("[data-test=docking-status]")).to_have_text("已接受")
    expect(received.locator("[data-test=docking-contacts]")).to_contain_text(asker_phones[0])
    offering.shot("board-docking-accepted")

    # and now the asker sees the owner's contacts
    needing.goto(match_link)
    contacts = needing.page.locator("[data-test=docking-contacts]")
    expect(contacts).to_contain_text(owner_phones[0])
    needing.goto("/e/board/mine")
    needing.page.locator("[data-test=mine-tabs]").get_by_text("我的对接").click()
    expect(needing.page.locator("[data-test=my-dockings]")).to_contain_text(owner_phones[0])
    assert need_id != offer_id


def test_a_coordinator_hides_and_restores_a_listing(screens, demo_enterprises):
    mark = uuid.uuid4().hex[:6]
    enterprise = screens("企业", phone=True)
    enterprise.sign_in(demo_enterprises[2].username)
    title = f"出租闲置厂房{mark}"
    publish(enterprise, "supply", title, "厂房两千平米，可分租。")

    coordinator = screens("统筹")
    coordinator.sign_in("coordinator.economic_development")
    coordinator.goto("/board")
    row = coordinator.page.locator("[data-test=moderation-table] .el-table__row", has_text=title)
    row.get_by_role("button", name="屏蔽").click()
    dialog = coordinator.page.locator(".el-dialog:visible")
    dialog.get_by_role("button", name="确定").click()
    expect(dialog.locator(".el-form-item__error")).to_be_visible()  # the reason is required
    dialog.locator("textarea[name=reason]").fill("信息不实，请核实后重新发布")
    dialog.get_by_role("button", name="确定").click()
    expect(row).to_contain_text("信息不实")
    coordinator.shot("board-moderation")
    row.get_by_role("button", name="恢复").click()
    dialog.locator("textarea[name=reason]").fill("已核实")
    dialog.get_by_role("button", name="确定").click()
    expect(row.get_by_role("button", name="屏蔽")).to_be_visible()
