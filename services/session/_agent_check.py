"""The Agent check page's runs: the connected agent checked with its own credentials and
binding, the session's last few runs kept to compare."""

from __future__ import annotations

from services.agent_check import AgentCheckReport, run_agent_check
from services.errors import AppError
from services.session import _keys as keys
from services.session._agents import agent_url, current_agent
from services.session._resources import recorder

__all__ = ["agent_check_runs", "check_is_against_demo", "check_agent"]

RUNS_KEPT = 5


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
    return report


def agent_check_runs() -> list[AgentCheckReport]:
    """This session's last runs, newest first."""
    return list(keys.AGENT_CHECKS.get_or([]))
