"""The Agent check page's runs: the connected agent checked with its own credentials and
binding, on a worker thread so the page can show the checks as they arrive; runs kept in
the workspace (the latest 20) to read again and compare."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from services.agent_check import AgentCheckReport, run_agent_check
from services.client.tls import ClientCertificate
from services.errors import AppError
from services.session import _keys as keys
from services.session._agents import agent_url, current_agent
from services.session._oauth import token_keeper
from services.session._resources import client_certificates, recorder
from services.session._store import store, workspace_id
from services.store import Store, StoreError

__all__ = [
    "AgentCheckRun",
    "agent_check_runs",
    "check_is_against_demo",
    "finish_agent_check",
    "running_agent_check",
    "start_agent_check",
]

log = logging.getLogger(__name__)
RUNS_KEPT = 5  # in the session, when the workspace's database is down
RUN_BUDGET = 60.0  # seconds for the protocol checks (each doctor step gets at most 10)


@dataclass
class AgentCheckRun:
    """A run in progress: its report fills check by check on the worker thread; the page
    reads it (a list only ever appended to) and `done` says when it has ended."""

    report: AgentCheckReport = field(default_factory=AgentCheckReport)
    done: threading.Event = field(default_factory=threading.Event)
    problem: str = ""  # one sentence if the run itself broke


def check_is_against_demo() -> bool:
    """The connected agent is the embedded demo agent (no confirmation needed)."""
    entry = current_agent()
    return entry is not None and entry.source == "demo"


def start_agent_check(message: str = "ping") -> AgentCheckRun:
    """Start the doctor and the protocol checks against the connected agent, with the
    session's credentials and binding for it; the run is kept in the workspace when it
    ends, even if the page is gone by then."""
    entry = current_agent()
    if entry is None:
        raise AppError("Connect to an agent first.")
    if (running := running_agent_check()) is not None and not running.done.is_set():
        return running  # one run at a time per session
    run = AgentCheckRun()
    # Everything the worker needs, read now: it must not touch Streamlit.
    url, binding, jwks_url = agent_url(), entry.binding, entry.jwks_url
    headers = dict(entry.credentials.header_items()) if entry.credentials else {}
    signed_in = token_keeper().get(entry.url)
    if signed_in is not None and signed_in.token is not None:  # the Sign-in page's token
        headers["Authorization"] = f"Bearer {signed_in.token.access_token}"
    certificate = client_certificates().get(url)
    if not isinstance(certificate, ClientCertificate):
        certificate = None
    kept, workspace, traffic = store(), workspace_id(), recorder()

    def work() -> None:
        try:
            run_agent_check(
                url,
                binding=binding,
                jwks_url=jwks_url,
                headers=headers,
                client_certificate=certificate,
                timeout=RUN_BUDGET,
                message=message.strip() or "ping",
                recorder=traffic,  # a finding's exchange opens in this session's inspector
                report=run.report,
            )
        except Exception:  # noqa: BLE001 - the page says so in one sentence
            log.warning("the agent check broke", exc_info=True)
            run.problem = "The check stopped on an unexpected error; what it found is kept."
        finally:
            _keep(kept, workspace, url, run.report)
            run.done.set()

    keys.AGENT_CHECK_RUNNING.set(run)
    threading.Thread(target=work, name="a2a-agent-check", daemon=True).start()
    return run


def _keep(kept: Store | None, workspace: str, url: str, report: AgentCheckReport) -> None:
    if kept is None:
        return
    try:
        kept.save_check_run(workspace, url, report.created_at, report.to_stored())
    except StoreError:
        log.warning("an agent check could not be kept: the workspace's database failed")


def running_agent_check() -> AgentCheckRun | None:
    """The run this session started last, ended or not (None once finished)."""
    return keys.AGENT_CHECK_RUNNING.get()


def finish_agent_check() -> AgentCheckReport | None:
    """Take an ended run off the session's hands: its report joins the session's runs."""
    run = keys.AGENT_CHECK_RUNNING.get()
    if run is None or not run.done.is_set():
        return None
    keys.AGENT_CHECK_RUNNING.pop()
    runs = keys.AGENT_CHECKS.setdefault(list)
    runs.insert(0, run.report)
    del runs[RUNS_KEPT:]
    return run.report


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
