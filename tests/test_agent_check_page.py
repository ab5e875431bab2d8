"""The Agent check page under AppTest, against the real demo agent on loopback: a run,
its checks and exports, the consent an agent other than the demo agent needs, and two
runs compared."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from services.agent_check.model import AgentCheckReport
from tests.conftest import APP, close_runtime

PAGE = "pages/agent_check.py"


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
