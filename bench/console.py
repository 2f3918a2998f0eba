"""The web console in Chromium (issue 17), as figures, never pass or fail:

- the gzipped JS and CSS the sign-in page loads (budget 300 KB);
- the time from the API's answer to the triage queue's first page on screen, with 1,000 open
  demands (budget 500 ms): the end of the ``GET /api/v1/demands`` response (the browser's
  resource timing) to the first table row in the DOM (a MutationObserver), several loads;
- the API calls each page makes (budget 3), with the session's reference data cached (the
  first page after signing in also loads dictionaries and departments once);
- the leaders' overview (issue 18): the time from navigation to all five charts drawn (budget
  1 s; ECharts' ``finished`` event of each, the page marks ``data-charts-ready``), and from the
  overview API's answer to that; the gzipped JS of the overview's own chunk (ECharts is loaded
  by it alone: the sign-in page's files above do not include it).

Debian's Chromium driven by Playwright (``executable_path``), against the benchmark platform
(:mod:`bench.platform`), signing in with the demo accounts.

    python -m bench.console          # a platform of its own
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench import platform as bp
from common.auth import Role
from services.enterprise.demo_load import DEMO_PASSWORD

OPEN_DEMANDS = 1_000
BUDGET_KB = 300
BUDGET_CHARTS_MS = 1_000
LEADER = "leader.wangzhen"
#: records when the overview marks all its charts drawn (injected by the driver, not the app)
CHARTS_PROBE = """
new MutationObserver((_, observer) => {
  if (document.querySelector('[data-test=overview][data-charts-ready=yes]')) {
    window.__chartsAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true, attributes: true,
                      attributeFilter: ['data-charts-ready']});
"""
BUDGET_RENDER_MS = 500
BUDGET_CALLS = 3
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: records when the triage queue's first row appears (injected by the driver, not the app)
FIRST_ROW_PROBE = """
new MutationObserver((_, observer) => {
  if (document.querySelector('[data-test=triage-queue] .el-table__row')) {
    window.__firstRowAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""
#: pages by role: (username, [paths]); {demand}, {task}, {enterprise} filled in
PAGES = {
    "enterprise": ["/e/demands", "/e/submit", "/e/demands/{demand}"],
    "grid_worker": ["/g/enterprises", "/g/enterprises/{enterprise}", "/g/not-visited",
                    "/g/demands", "/g/demands/{demand}"],
    "coordinator": ["/triage", "/triage/{demand}", "/coordination", "/extensions",
                    "/dissatisfied", "/supervision", "/ledger", "/demands/{demand}"],
    "liaison": ["/tasks", "/tasks/{task}"],
}


def seed(bench: bp.BenchPlatform, count: int) -> dict[str, str]:
    """``count`` open demands of the first demo enterprise (it and its grid's worker are the
    accounts the pages sign in with), and one of them triaged into 财政金融部."""
    enterprise_id = bp.enterprise_ids(1)[0]
    headers = {"Authorization": f"Bearer {bp.token(Role.ENTERPRISE, enterprise_id=enterprise_id)}"}
    body = {"channel": "enterprise", "title": "研发补贴咨询（性能测试）", "category": "funding",
            "description": "希望了解研发补贴的申请条件。"}
    with httpx.Client(base_url=bench.gateway_url, headers=headers, timeout=30) as client:
        def submit(_: int) -> str:
            answer = client.post("/api/v1/demands", json=body,
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
            answer.raise_for_status()
            return answer.json()["id"]

        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(submit, range(count)))
        seconds = time.perf_counter() - started
        coordinator = {"Authorization": f"Bearer {bp.token(Role.COORDINATOR)}"}
        triaged = client.post(f"/api/v1/demands/{ids[0]}/triage", headers=coordinator, json={
            "category": "funding", "proposed_opinion": "请财政金融部办理",
            "departments": [{"department_id": "finance"}]})
        triaged.raise_for_status()
    print(f"seeded {count:,} open demands in {seconds:.1f} s", flush=True)
    grid = bench.scalar("SELECT grid_id FROM enterprise.enterprises WHERE id = :id",
                        id=enterprise_id)
    usernames = {
        "enterprise": bench.scalar("SELECT username FROM enterprise.accounts "
                                   "WHERE enterprise_id = :id LIMIT 1", id=enterprise_id),
        "grid_worker": bench.scalar(
            "SELECT a.username FROM enterprise.grid_staff s JOIN enterprise.accounts a "
            "ON a.id = s.account_id WHERE s.grid_id = :g AND s.duty = 'worker' "
            "ORDER BY a.username LIMIT 1", g=grid),
        "coordinator": "coordinator.economic_development",
        "liaison": "liaison.finance",
    }
    return {"demand": ids[1], "task": triaged.json()["tasks"][0]["id"],
            "enterprise": enterprise_id, "seed_seconds": f"{seconds:.1f}",
            **{f"user:{k}": str(v) for k, v in usernames.items()}}


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    try:
        page.wait_for_selector("input[name=username]", timeout=30_000)
    except Exception:
        page.screenshot(path="/tmp/bench-console-sign-in.png")
        print(page.url, page.content()[:2000], file=sys.stderr)
        raise
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
    page.wait_for_load_state("networkidle")


def sign_in_weight(browser: Any, base: str) -> dict[str, Any]:
    """Bytes of JS and CSS the sign-in page loads, as sent (gzip) and decoded."""
    context = browser.new_context()
    page = context.new_page()
    loaded: list[Any] = []
    page.on("requestfinished", lambda request: loaded.append(request))
    page.goto(f"{base}/login")
    page.wait_for_load_state("networkidle")
    files = []
    for request in loaded:
        if request.resource_type not in ("script", "stylesheet"):
            continue
        response = request.response()
        files.append({"url": request.url.removeprefix(base), "kind": request.resource_type,
                      "gzip_bytes": request.sizes()["responseBodySize"],
                      "bytes": len(response.body()) if response else 0,
                      "encoding": (response.headers.get("content-encoding") if response
                                   else None)})
    context.close()
    return {
        "files": files,
        "js_gzip_bytes": sum(f["gzip_bytes"] for f in files if f["kind"] == "script"),
        "css_gzip_bytes": sum(f["gzip_bytes"] for f in files if f["kind"] == "stylesheet"),
        "gzip_bytes": sum(f["gzip_bytes"] for f in files),
        "bytes": sum(f["bytes"] for f in files),
    }


def triage_render(browser: Any, base: str, username: str, loads: int) -> dict[str, Any]:
    """Milliseconds from the demand list's answer to its first row on screen."""
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    context.add_init_script(FIRST_ROW_PROBE)
    page = context.new_page()
    sign_in(page, base, username)
    samples, totals = [], []
    for _ in range(loads):
        page.goto(f"{base}/triage")
        page.wait_for_selector("[data-test=triage-queue] .el-table__row", timeout=30_000)
        figures = page.evaluate("""() => {
            const api = performance.getEntriesByType('resource')
                .filter(e => e.name.includes('/api/v1/demands?'));
            const nav = performance.getEntriesByType('navigation')[0];
            return {firstRow: window.__firstRowAt, apiEnd: api.length ? api.at(-1).responseEnd
                    : null, rows: document.querySelectorAll(
                    '[data-test=triage-queue] .el-table__row').length,
                    start: nav ? nav.startTime : 0};
        }""")
        if figures["apiEnd"] is not None and figures["firstRow"] is not None:
            samples.append(figures["firstRow"] - figures["apiEnd"])
            totals.append(figures["firstRow"] - figures["start"])
    total = page.evaluate("""() => document.body.innerText.match(/共 ([0-9,]+) 件待分理/)?.[1]""")
    context.close()
    return {"loads": len(samples), "render_ms": samples,
            "render_p50_ms": statistics.median(samples) if samples else None,
            "render_max_ms": max(samples) if samples else None,
            "navigation_to_first_row_p50_ms": statistics.median(totals) if totals else None,
            "open_demands_listed": total}


def overview_render(browser: Any, base: str, loads: int) -> dict[str, Any]:
    """Milliseconds from navigation (and from the overview API's answer) to all charts drawn,
    and the gzipped bytes of the overview's chunk (its JS, ECharts inside)."""
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    context.add_init_script(CHARTS_PROBE)
    page = context.new_page()
    sign_in(page, base, LEADER)
    chunk: set[str] = set()

    def finished(request: Any) -> None:
        if request.resource_type == "script" and "/assets/OverviewView-" in request.url:
            chunk.add(request.url)
    page.on("requestfinished", finished)
    navigation, after_api = [], []
    for _ in range(loads):
        page.goto(f"{base}/overview")
        page.wait_for_selector("[data-test=overview][data-charts-ready=yes]", timeout=30_000)
        figures = page.evaluate("""() => {
            const api = performance.getEntriesByType('resource')
                .filter(e => e.name.includes('/api/v1/overview?'));
            return {charts: window.__chartsAt, apiEnd: api.length ? api.at(-1).responseEnd
                    : null, canvases: document.querySelectorAll(
                    '[data-test=overview] canvas').length};
        }""")
        if figures["charts"] is not None:
            navigation.append(figures["charts"])
            if figures["apiEnd"] is not None:
                after_api.append(figures["charts"] - figures["apiEnd"])
    context.close()
    # as the gateway sends it to a browser that accepts gzip (the cache served the later loads)
    sizes = {url: httpx.get(url, headers={"Accept-Encoding": "gzip"}).num_bytes_downloaded
             for url in sorted(chunk)}
    return {"loads": len(navigation), "charts_ms": navigation, "after_api_ms": after_api,
            "charts_p50_ms": statistics.median(navigation) if navigation else None,
            "charts_max_ms": max(navigation) if navigation else None,
            "after_api_p50_ms": statistics.median(after_api) if after_api else None,
            "chunk_gzip_bytes": sum(sizes.values()), "chunk_files": sizes}


def settle(page: Any, calls: list[str], quiet: float = 1.5) -> None:
    """Until the page has made no API request for ``quiet`` seconds (lazy chunks first load,
    then the page's calls start)."""
    page.wait_for_load_state("networkidle")
    seen, still = -1, time.monotonic()
    while time.monotonic() - still < quiet:
        if len(calls) != seen:
            seen, still = len(calls), time.monotonic()
        page.wait_for_timeout(100)
    page.wait_for_load_state("networkidle")


def api_calls(browser: Any, base: str, users: dict[str, str], ids: dict[str, str]
              ) -> dict[str, Any]:
    """API requests of each page, loaded afresh in a signed-in tab with the session's
    reference data cached; and those of the first page after signing in."""
    out: dict[str, Any] = {}
    for role, paths in PAGES.items():
        context = browser.new_context(viewport={"width": 1366, "height": 860})
        page = context.new_page()
        calls: list[str] = []
        page.on("request", lambda r, calls=calls: calls.append(r.url)
                if "/api/" in r.url else None)
        sign_in(page, base, users[role])
        settle(page, calls)
        first = [c.split("?")[0].removeprefix(base) for c in calls if "/auth/token" not in c]
        for path in paths:
            url = path.format(**ids)
            calls.clear()
            page.goto(base + url)
            settle(page, calls)
            out[path] = {"role": role, "calls": len(calls),
                         "paths": [c.split("?")[0].removeprefix(base) for c in calls]}
        out[f"{role}: first page after sign-in"] = {"role": role, "calls": len(first),
                                                    "paths": first}
        context.close()
    return out


def run(bench: bp.BenchPlatform, loads: int = 7, open_demands: int = OPEN_DEMANDS
        ) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    ids = seed(bench, open_demands)
    users = {k.removeprefix("user:"): v for k, v in ids.items() if k.startswith("user:")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            weight = sign_in_weight(browser, bench.gateway_url)
            render = triage_render(browser, bench.gateway_url, users["coordinator"], loads)
            calls = api_calls(browser, bench.gateway_url, users, ids)
            overview = overview_render(browser, bench.gateway_url, loads)
            version = browser.version
        finally:
            browser.close()
    pages = {k: v for k, v in calls.items() if not k.endswith("after sign-in")}
    return {
        "chromium": version, "open_demands": open_demands, "sign_in": weight,
        "triage_queue": render, "api_calls": calls, "overview": overview,
        "max_calls_per_page": max(v["calls"] for v in pages.values()),
        "budgets": {"sign_in_gzip_kb": BUDGET_KB, "render_ms": BUDGET_RENDER_MS,
                    "calls_per_page": BUDGET_CALLS, "overview_charts_ms": BUDGET_CHARTS_MS},
        "ok": True,  # figures, never pass or fail
    }


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of ``make bench``'s table: (benchmark, figure, value, budget)."""
    w, t, o = r["sign_in"], r["triage_queue"], r["overview"]
    over = [k for k, v in r["api_calls"].items()
            if v["calls"] > BUDGET_CALLS and not k.endswith("after sign-in")]
    return [
        ("console", "sign-in page JS + CSS (gzip)",
         f"{w['gzip_bytes'] / 1024:.0f} KB (JS {w['js_gzip_bytes'] / 1024:.0f}, "
         f"CSS {w['css_gzip_bytes'] / 1024:.0f}; {w['bytes'] / 1024:.0f} KB decoded)",
         f"budget {BUDGET_KB} KB"),
        ("console", f"triage queue: API answer to first page, {r['open_demands']:,} open",
         f"p50 {t['render_p50_ms'] or 0:.0f} ms, max {t['render_max_ms'] or 0:.0f} ms "
         f"({t['loads']} loads)", f"budget {BUDGET_RENDER_MS} ms"),
        ("console", "API calls per page (most)", f"{r['max_calls_per_page']}"
         + (f" ({', '.join(over)})" if over else ""), f"budget {BUDGET_CALLS}"),
        ("console", "overview: navigation to all 5 charts drawn",
         f"p50 {o['charts_p50_ms'] or 0:.0f} ms, max {o['charts_max_ms'] or 0:.0f} ms "
         f"(from the API's answer p50 {o['after_api_p50_ms'] or 0:.0f} ms; {o['loads']} loads)",
         f"budget {BUDGET_CHARTS_MS} ms"),
        ("console", "overview chunk JS (gzip, ECharts inside)",
         f"{o['chunk_gzip_bytes'] / 1024:.0f} KB", "only on the overview"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--open-demands", type=int, default=OPEN_DEMANDS)
    args = parser.parse_args(argv)
    with bp.started() as bench:
        figures = run(bench, args.loads, args.open_demands)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    for row in summary_rows(figures):
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
