"""The Agent check page in Chromium, against the embedded demo agent: a run whose checks
arrive while it goes, filters, the JSON export, and a check's exchange opened in the
inspector."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import METRICS_AND_TABLE_JS, AppServer, app_server, assert_clean_log, wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LOAD = 60_000  # ms for a page to draw
RUN_TIMEOUT = 90.0  # seconds for a whole run (doctor and protocol) on a busy machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with app_server(tmp_path_factory.mktemp("agent-check"), watch_files=False) as running:
        yield running


def shown(page: Page) -> dict[str, Any]:
    return page.evaluate(METRICS_AND_TABLE_JS)


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_a_run_shows_its_checks_filters_exports_and_opens_an_exchange(
    server: AppServer, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    try:
        page.goto(server.url + "/agent_check")
        page.get_by_role("heading", name="Agent check", exact=True).wait_for(timeout=LOAD)
        # The embedded demo agent needs no consent: the button is live at once.
        run = page.get_by_role("button", name="Run the check")
        run.wait_for(timeout=LOAD)
        message = page.get_by_role("textbox", name="The message the run sends")
        message.fill("hello from the check")
        message.press("Enter")
        run.click()

        # The checks arrive while the run goes (the poll draws them), then the summary.
        progress = page.get_by_text(re.compile(r"Checking… \d+ check\(s\) so far"))
        progress.wait_for(timeout=LOAD)
        assert wait_for(lambda: len(shown(page)["metrics"]) == 4, RUN_TIMEOUT), shown(page)
        assert wait_for(lambda: shown(page)["rows"]), shown(page)  # the grid draws after
        page.screenshot(path=str(tmp_path / "agent-check.png"), full_page=True)
        figures = shown(page)
        assert figures["metrics"]["fail"] == "0", figures
        rows = {row["check"]: row for row in figures["rows"]}
        assert rows["doctor.url"]["status"] == "pass", rows
        assert rows["rpc.send-message.jsonrpc"]["status"] == "pass", rows
        assert rows["rpc.send-message.rest"]["status"] == "pass", rows
        passed = int(figures["metrics"]["pass"])
        assert sum(row["status"] == "pass" for row in rows.values()) == passed

        # Filtering by status: without "pass", only the other checks are listed.
        page.get_by_role("button", name="pass", exact=True).click()
        assert wait_for(lambda: len(shown(page)["rows"]) == len(rows) - passed), shown(page)
        assert {row["status"] for row in shown(page)["rows"]} <= {"warn", "skip"}
        page.get_by_role("button", name="pass", exact=True).click()
        assert wait_for(lambda: len(shown(page)["rows"]) == len(rows)), shown(page)

        # The JSON export is the command's shape, with what the page showed.
        with page.expect_download() as download:
            page.get_by_role("button", name="Export JSON").click()
        exported = json.loads(Path(download.value.path()).read_text())
        assert set(exported) == {"agent", "checks", "summary"}
        assert exported["summary"]["pass"] == passed
        titles = {check["id"]: check["title"] for check in exported["checks"]}

        # A check's exchange, opened in the inspector.
        picker = page.get_by_role("combobox", name="A check's exchange")
        picker.click()
        page.get_by_role("option", name=re.compile(r"^rpc\.send-message\.rest ")).click()
        link = page.get_by_role("link", name="Open rpc.send-message.rest in the inspector")
        link.click()
        stream = page.get_by_role("combobox", name="Stream")
        stream.wait_for(timeout=LOAD)
        picked = stream.input_value()
        assert titles["rpc.send-message.rest"] in picked, picked
        assert_clean_log(server)
    finally:
        page.close()
