"""The Agent check page's runs: the connected agent checked with its own credentials and
binding; runs kept in the workspace (the latest 20) to read again and compare."""

from __future__ import annotations

from services.agent_check import AgentCheckReport, run_agent_check
from services.errors import AppError
from services.session import _keys as keys
from services.session._agents import agent_url, current_agent
from services.session._resources import recorder
from services.session._store import store, workspace_id
from services.store import StoreError

__all__ = ["agent_check_runs", "check_is_against_demo", "check_agent"]

RUNS_KEPT = 5  # in the session, when the workspace's database is down


def check_is_against_demo() -> bool:
    """The connected agent is the embedded demo agent (no confirmation needed)."""
    entry = current_agent()
    return entry is not None and entry.source == "demo"


def check_agent(message: str = "ping", *, timeout: float = 60.0) -> AgentCheckReport:
    """Run the doctor and the protocol checks against the connected agent, with the
    session's credentials and binding for it; the report is kept with the last few."""
    entry = current_agent()
    if entry is None:
        raise AppError("Connect to an agent first.")
    headers = dict(entry.credentials.header_items()) if entry.credentials else {}
    report = run_agent_check(
        agent_url(),
        binding=entry.binding,
        headers=headers,
        timeout=timeout,
        message=message.strip() or "ping",
        recorder=recorder(),  # a finding's exchange opens in this session's inspector
    )
    runs = keys.AGENT_CHECKS.setdefault(list)
    runs.insert(0, report)
    del runs[RUNS_KEPT:]
    if (kept := store()) is not None:
        try:
            kept.save_check_run(workspace_id(), agent_url(), report.created_at, report.to_stored())
        except StoreError:
            pass  # the run is shown all the same; the sidebar says the database is down
    return report


def agent_check_runs() -> list[AgentCheckReport]:
    """The workspace's kept runs, newest first (this session's, without a database)."""
    kept = store()
    if kept is None:
        return list(keys.AGENT_CHECKS.get_or([]))
    try:
        stored = kept.check_runs(workspace_id())
    except StoreError:
        return list(keys.AGENT_CHECKS.get_or([]))
    return [r for r in map(AgentCheckReport.from_stored, stored) if r is not None]
