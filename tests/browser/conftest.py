"""Browser tests of the web console: Playwright for Python driving Debian's Chromium
(``/usr/bin/chromium``; Playwright's own browser download is not reachable here) against the
test platform, whose gateway serves ``web/dist`` (built by ``make web``). Every test here is
marked ``browser`` (tests/conftest.py, by folder); screenshots of the main pages go to
``artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.enterprise.demo_load import DEMO_PASSWORD

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
ARTIFACTS = ROOT / "artifacts" / "browser"
#: Debian's Chromium in a container: no sandbox, no GPU, nothing fetched from outside
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 860}
#: how long one step may wait for the page (the platform shares two cores with the suite)
STEP_MS = 20_000
#: seconds one journey may take in all (pytest-timeout; the suite's default is 300)
BROWSER_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            # a journey is many steps of several people; on a busy machine each takes seconds
            item.add_marker(pytest.mark.timeout(BROWSER_TIMEOUT))


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium "
                    "(devtools/ensure_tools.sh), or `apt-get install chromium`")
    return found


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    playwright_api.expect.set_options(timeout=STEP_MS)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_url(healthy_platform) -> str:
    if not (DIST / "index.html").exists():
        pytest.fail("the console is not built: run `make web` (make test does)")
    return healthy_platform.gateway_url()


@dataclass
class Screen:
    """One signed-in person's browser tab, with what went wrong on it."""

    page: object
    base: str
    who: str
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def sign_in(self, username: str, password: str = DEMO_PASSWORD, then: str | None = None
                ) -> None:
        self.goto("/login" if then is None else then)
        self.page.wait_for_url(re.compile(r".*/login.*"))
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(lambda url: "/login" not in url)

    def shot(self, name: str) -> None:
        """A screenshot of the page as it is (a test artifact, not compared)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def choose(self, select: str, option: str) -> None:
        """Pick ``option`` (its text) in the Element Plus select ``select`` (a CSS selector)."""
        self.page.locator(select).first.click()
        item = self.page.locator(".el-select-dropdown:visible .el-select-dropdown__item",
                                 has_text=option).first
        item.click()

    def no_horizontal_scroll(self) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.page.viewport_size["width"], (
            f"{self.page.url} scrolls sideways: {width}px at "
            f"{self.page.viewport_size['width']}px")


def _open_screen(chromium, base: str, who: str, phone: bool = False) -> tuple[object, Screen]:
    """A new tab in a browser context of its own (its own session), its page errors and
    Content Security Policy violations kept in ``problems``."""
    context = chromium.new_context(viewport=PHONE if phone else DESKTOP, locale="zh-CN",
                                   timezone_id="Asia/Shanghai")
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    screen = Screen(page, base, who)
    page.on("pageerror", lambda exc: screen.problems.append(f"page error: {exc}"))

    def console_message(message) -> None:
        if message.type == "error" and ("Content Security Policy" in message.text
                                        or "Refused to" in message.text):
            screen.problems.append(f"CSP: {message.text}")
    page.on("console", console_message)
    return context, screen


@pytest.fixture
def screens(chromium, console_url) -> Iterator[Callable[..., Screen]]:
    """``screens("企业", phone=True)``: a new tab in a context of its own (its own session)."""
    opened: list[tuple[object, Screen]] = []

    def open_screen(who: str, phone: bool = False) -> Screen:
        opened.append(_open_screen(chromium, console_url, who, phone))
        return opened[-1][1]

    yield open_screen
    problems = [f"{s.who}: {p}" for _, s in opened for p in s.problems]
    for context, _ in opened:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def _module_tabs(chromium, platform) -> Iterator[tuple[object, dict[str, tuple[object, Screen]]]]:
    opened: dict[str, tuple[object, Screen]] = {}
    yield chromium, opened
    for context, _ in opened.values():
        context.close()


@pytest.fixture
def signed_in(_module_tabs, console_url) -> Iterator[Callable[[str, str], Screen]]:
    """``signed_in("coordinator.economic_development", "统筹")``: that demo account's desktop
    tab, signed in once for the whole module (a test goes to its own page first); each test
    fails on the page errors and CSP violations of its own steps."""
    chromium, opened = _module_tabs
    used: list[Screen] = []

    def tab(username: str, who: str) -> Screen:
        if username not in opened:
            opened[username] = _open_screen(chromium, console_url, who)
            opened[username][1].sign_in(username)
        screen = opened[username][1]
        if screen not in used:
            screen.problems.clear()
            used.append(screen)
        return screen

    yield tab
    problems = [f"{s.who}: {p}" for s in used for p in s.problems]
    assert not problems, "\n".join(problems)


@dataclass(frozen=True)
class DemoEnterprise:
    username: str
    enterprise_id: str
    name: str
    grid_id: str


@pytest.fixture(scope="session")
def demo_enterprises(db: Engine) -> list[DemoEnterprise]:
    """The demo zone's enterprise users (``ent.<credit code>``), each with its grid."""
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.username, e.id, e.name, e.grid_id FROM enterprise.accounts a "
            "JOIN enterprise.enterprises e ON e.id = a.enterprise_id "
            "WHERE a.role = 'enterprise' AND a.username LIKE 'ent.%' AND NOT a.disabled "
            "ORDER BY a.username")).all()
    return [DemoEnterprise(*row) for row in rows]


@pytest.fixture(scope="session")
def grid_worker_of(db: Engine) -> Callable[[str], str]:
    """The username of a demo grid worker of a grid."""

    def find(grid_id: str) -> str:
        with db.connect() as conn:
            return conn.execute(text(
                "SELECT a.username FROM enterprise.grid_staff s "
                "JOIN enterprise.accounts a ON a.id = s.account_id "
                "WHERE s.grid_id = :grid AND s.duty = 'worker' ORDER BY a.username LIMIT 1"),
                {"grid": grid_id}).scalar_one()

    return find


@dataclass(frozen=True)
class ServedDemand:
    """A demand of this year played through by demo people over the API: recorded by a grid
    worker, triaged to 财政金融部, accepted and completed by its liaison, rated satisfied."""

    demand_id: str
    number: str
    worker_name: str
    liaison_name: str
    grid_id: str


@pytest.fixture
def served_demand(client, token, db: Engine, demo_enterprises, grid_worker_of
                  ) -> ServedDemand:
    from common.auth import Role

    def bearer(tok: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tok}"}

    enterprise = demo_enterprises[0]
    with db.connect() as conn:
        def person(username: str) -> tuple[str, str, str | None]:
            return tuple(conn.execute(text(
                "SELECT id, name, department_id FROM enterprise.accounts "
                "WHERE username = :u"), {"u": username}).one())
        worker_id, worker_name, _ = person(grid_worker_of(enterprise.grid_id))
        liaison_id, liaison_name, _ = person("liaison.finance")
    worker = bearer(token(Role.GRID_WORKER, user_id=str(worker_id),
                          grid_ids=(enterprise.grid_id,)))
    created = client.post("/api/v1/demands", headers=worker, json={
        "channel": "grid_worker", "enterprise_id": str(enterprise.enterprise_id),
        "title": "研发补贴申报咨询", "description": "希望了解区级研发补贴的申报条件和时间。"})
    assert created.status_code == 201, created.text
    demand = created.json()
    triaged = client.post(f"/api/v1/demands/{demand['id']}/triage",
                          headers=bearer(token(Role.COORDINATOR)), json={
                              "category": "funding", "proposed_opinion": "请财政金融部办理",
                              "departments": [{"department_id": "finance"}]})
    assert triaged.status_code == 200, triaged.text
    task_id = triaged.json()["tasks"][0]["id"]
    liaison = bearer(token(Role.LIAISON, user_id=str(liaison_id), department_id="finance"))
    result = {"result": "已讲解申报条件并协助准备材料。"}
    for step, body in (("accept", None), ("complete", result)):
        answer = client.post(f"/api/v1/tasks/{task_id}/{step}", headers=liaison, json=body)
        assert answer.status_code == 200, (step, answer.text)
    rated = client.post(f"/api/v1/demands/{demand['id']}/rating", headers=bearer(token(
        Role.ENTERPRISE, enterprise_id=str(enterprise.enterprise_id))), json={
            "efficiency": 5, "attitude": 5, "quality": 4, "comment": "很及时"})
    assert rated.status_code == 201, rated.text
    return ServedDemand(demand["id"], demand["number"], worker_name, liaison_name,
                        enterprise.grid_id)
