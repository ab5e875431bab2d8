"""The Agent check page under AppTest, against the real demo agent on loopback: a run,
its checks and exports, the consent an agent other than the demo agent needs, and two
runs compared."""

from __future__ import annotations

import json
import time

from streamlit.testing.v1 import AppTest

from services.agent_check.model import AgentCheckReport
from services.session import _store as session_store
from tests.conftest import APP, close_runtime

PAGE = "app_pages/agent_check.py"


def wait_for_run(at: AppTest, runs: int = 1, timeout: float = 60.0) -> None:
    """Rerun the page until the run in progress has ended (a browser's poll does this)."""
    deadline = time.monotonic() + timeout
    while (
        len(at.session_state["agent_check_runs"] if "agent_check_runs" in at.session_state else [])
        < runs
    ):
        assert time.monotonic() < deadline, "the agent check did not end"
        time.sleep(0.1)
        at.run()
        assert not at.exception, at.exception


def open_page(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("A2A_AGENT_URL", url)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_a_run_against_the_connected_agent_shows_its_checks_and_exports(monkeypatch, demo_agent):
    at = open_page(monkeypatch, demo_agent.url)
    try:
        # The configured agent is not the embedded demo agent: the run asks first.
        assert at.button(key="check_run").disabled
        at.checkbox(key="check_consent").check().run()
        assert not at.button(key="check_run").disabled
        at.button(key="check_run").click().run()
        assert not at.exception, at.exception
        wait_for_run(at)
        runs: list[AgentCheckReport] = at.session_state["agent_check_runs"]
        assert len(runs) == 1
        report = runs[0]
        ids = [c.id for c in report.checks]
        assert ids[:3] == ["doctor.url", "doctor.dns", "doctor.tcp"], ids
        assert not report.must_failed, [c for c in report.checks if c.status == "fail"]
        metrics = {m.label: m.value for m in at.metric}
        assert int(metrics["pass"]) == report.summary["pass"] > 0
        exported = json.loads(json.dumps(report.as_json()))
        assert set(exported) == {"agent", "checks", "summary"}
        assert {b.label for b in at.get("download_button")} >= {"Export JSON", "Export JUnit XML"}

        # A second run can be compared with the first.
        at.button(key="check_run").click().run()
        wait_for_run(at, runs=2)
        assert len(at.session_state["agent_check_runs"]) == 2
        assert not at.exception, at.exception
        assert at.selectbox(key="check_compare") is not None
    finally:
        close_runtime(at)


def test_without_consent_the_run_waits(monkeypatch, demo_agent):
    at = open_page(monkeypatch, demo_agent.url)
    try:
        assert at.button(key="check_run").disabled
        assert "agent_check_runs" not in at.session_state
    finally:
        close_runtime(at)


def test_the_embedded_demo_agent_needs_no_consent(monkeypatch):
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    try:
        assert not at.exception, at.exception
        assert not at.checkbox  # no consent box for the app's own demo agent
        assert not at.button(key="check_run").disabled
    finally:
        close_runtime(at)


def test_runs_are_kept_in_the_workspace_and_come_back_in_a_new_session(monkeypatch, demo_agent):
    first = open_page(monkeypatch, demo_agent.url)
    workspace = first.session_state["workspace_id"]
    try:
        first.checkbox(key="check_consent").check().run()
        first.button(key="check_run").click().run()
        wait_for_run(first)
        ran = first.session_state["agent_check_runs"][0]
    finally:
        close_runtime(first)
    # A reload: a new session of the same workspace reads the run back from the database.
    monkeypatch.setenv("A2A_AGENT_URL", demo_agent.url)
    again = AppTest.from_file(APP, default_timeout=120)
    again.session_state["workspace_id"] = workspace
    again.run()
    again.switch_page(PAGE).run()
    try:
        assert not again.exception, again.exception
        assert "agent_check_runs" not in again.session_state  # nothing run in this session
        metrics = {m.label: m.value for m in again.metric}
        assert int(metrics["pass"]) == ran.summary["pass"]
        store = session_store.route_store()
        assert store is not None
        kept = [AgentCheckReport.from_stored(t) for t in store.check_runs(workspace)]
        assert kept and kept[0] is not None and kept[0].checks == ran.checks
    finally:
        close_runtime(again)


def test_a_workspace_keeps_its_latest_runs_and_forgets_them_with_itself(tmp_path):
    from services.store import Store
    from services.store.store import CHECK_RUNS_KEPT

    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        for number in range(CHECK_RUNS_KEPT + 3):
            report = AgentCheckReport(agent={"url": "http://a", "n": number})
            store.save_check_run("w1", "http://a", report.created_at, report.to_stored())
        store.save_check_run("w2", "http://b", 0.0, AgentCheckReport().to_stored())
        kept = store.check_runs("w1")
        assert len(kept) == CHECK_RUNS_KEPT
        newest = AgentCheckReport.from_stored(kept[0])
        assert newest is not None and newest.agent["n"] == CHECK_RUNS_KEPT + 2
        store.forget("w1").result(timeout=10)
        assert store.check_runs("w1") == [] and len(store.check_runs("w2")) == 1
    finally:
        store.close()
