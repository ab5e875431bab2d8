"""One agent check: the connection doctor, then, if it reached a usable card, the
protocol checks. What the command line and the Agent check page both run."""

from __future__ import annotations

from collections.abc import Mapping

from services.agent_check.doctor import diagnose
from services.agent_check.model import AgentCheckReport

__all__ = ["run_agent_check"]


def run_agent_check(
    url: str,
    *,
    binding: str = "",
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    message: str = "ping",
    verify: bool | str = True,
) -> AgentCheckReport:
    """The doctor's checks, then the protocol checks unless a doctor check failed."""
    report = diagnose(
        url, headers=headers, timeout=min(timeout, 10.0), verify=verify, binding=binding
    )
    if any(check.status == "fail" for check in report.checks):
        return report
    try:
        from services.agent_check.protocol import run_protocol_checks
    except ImportError:  # this install has the doctor only
        return report
    return run_protocol_checks(
        report,
        url,
        binding=binding or None,
        headers=dict(headers or {}),
        timeout=timeout,
        message=message,
    )
