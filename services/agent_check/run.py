"""One agent check: the connection doctor, then, if no MUST doctor check failed, the
protocol checks. What the command line and the Agent check page both run."""

from __future__ import annotations

from collections.abc import Mapping

from services.agent_check.doctor import diagnose
from services.agent_check.model import AgentCheckReport
from services.agent_check.oauth import client_credentials_token
from services.agent_check.protocol import run_protocol_checks
from services.client.tls import ClientCertificate
from services.inspector.capture import TrafficRecorder

__all__ = ["DOCTOR_TIMEOUT", "run_agent_check"]

DOCTOR_TIMEOUT = 10.0  # seconds per doctor step: DNS, connect, a card


def run_agent_check(
    url: str,
    *,
    binding: str = "",
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    message: str = "ping",
    verify: bool | str = True,
    jwks_url: str = "",
    recorder: TrafficRecorder | None = None,
    report: AgentCheckReport | None = None,
    client_id: str = "",
    client_secret: str = "",
    client_certificate: ClientCertificate | None = None,
) -> AgentCheckReport:
    """The doctor's checks, then the protocol checks unless a MUST doctor check failed
    (a card whose signature does not verify, a SHOULD, still gets them).

    Args:
        binding: "JSONRPC" or "HTTP+JSON" to check one binding; "" checks every one the
            card declares.
        jwks_url: where the card's signature keys are, instead of the signature's `jku`.
        timeout: the protocol run's whole budget, in seconds.
        recorder: where the protocol run's exchanges are kept (the page passes the
            session's, so a finding links to its exchange in the inspector).
        report: the report to fill as the checks are made (a page watching the run reads
            it from another thread); a new one if None.
        client_id, client_secret: sign in with the client credentials grant of the card's
            OAuth 2 / OpenID Connect scheme first, and send the token it gives.
        client_certificate: presented to the agent's origin (and its endpoints on the same
            host) for mutual TLS.
    """
    if client_id:
        token, signed_in = client_credentials_token(url, client_id, client_secret)
        report = report or AgentCheckReport()
        report.checks.append(signed_in)
        if token:
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
    report = diagnose(
        url,
        headers=headers,
        timeout=min(timeout, DOCTOR_TIMEOUT),
        verify=verify,
        binding=binding,
        jwks_url=jwks_url,
        report=report,
        client_certificate=client_certificate,
    )
    if not report.reachable or report.must_failed:
        return report
    return run_protocol_checks(
        report,
        url,
        binding=binding or None,
        headers=dict(headers or {}),
        timeout=timeout,
        message=message,
        recorder=recorder,
        client_certificate=client_certificate,
    )
