"""Push notifications end to end: the client's push service against the real demo agent.

The demo agent (a2a-sdk's push sender and config store) runs on loopback, and so does a
tiny Starlette webhook that records every POST it gets. Both bindings, no mocks: the
agent really calls the webhook, with the token in the header a2a-sdk uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.client import agent, push, resources, tasks
from services.demo_agent import PUSH_CONFIGS_TABLE, DemoAgentServer, DemoTiming, LoopbackServer
from services.demo_agent.push import is_loopback_url, push_url_policy
from services.errors import AppError
from services.inspector.capture import frames
from services.replies import Reply
from services.runtime import SessionRuntime
from tests.agents import header_recorder, scripted_app

pytestmark = pytest.mark.timeout(60)

BINDINGS = ["JSONRPC", "HTTP+JSON"]
TOKEN_HEADER = "x-a2a-notification-token"  # what a2a-sdk's BasePushNotificationSender sends
# The background job, but quick: 4 steps a quarter second apart (a second in all).
JOB = DemoTiming(token_delay=0.002, step_delay=0.02, job_steps=4, job_interval=0.25)
WAIT = 15.0  # seconds for any notification to arrive


@dataclass(frozen=True)
class Notification:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        (kind,) = self.body  # a StreamResponse: task, statusUpdate or artifactUpdate
        return kind

    @property
    def task_id(self) -> str:
        payload = self.body[self.kind]
        return str(payload["id"] if self.kind == "task" else payload["taskId"])

    @property
    def state(self) -> str:
        payload = self.body[self.kind]
        return str(payload.get("status", {}).get("state", ""))

    @property
    def text(self) -> str:
        payload = self.body[self.kind]
        message = payload.get("status", {}).get("message", {})
        parts = message.get("parts") or payload.get("artifact", {}).get("parts", [])
        return "".join(p.get("text", "") for p in parts)


class Webhook:
    """A receiver on loopback that records every POST (and answers 204)."""

    def __init__(self) -> None:
        self.got: list[Notification] = []
        self._lock = threading.Lock()

    def app(self, _base_url: str) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.json()
            with self._lock:
                self.got.append(Notification(request.url.path, dict(request.headers), body))
            return Response(status_code=204)

        return Starlette(routes=[Route("/hook/{name}", hook, methods=["POST"])])

    def for_task(self, task_id: str) -> list[Notification]:
        with self._lock:
            return [n for n in self.got if n.task_id == task_id]


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[Webhook, str]]:
    hook = Webhook()
    with LoopbackServer(hook.app, thread_name="push-webhook") as server:
        yield hook, server.url


@pytest.fixture(scope="module")
def job_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=JOB) as server:
        yield server


def wait_for(what: str, condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def read(stream: Any) -> Reply:
    reply = Reply()
    for event in stream:
        reply.apply(event)
    reply.finish()
    return reply


def recorded_text(runtime: SessionRuntime) -> str:
    """Everything the inspector would show of this session's records, as it shows it."""
    recorder = resources.recorder(runtime)
    shown = []
    for record in recorder.streams():
        shown.append(record.label)
        for exchange in record.exchanges:
            shown += [exchange.url, exchange.request_body, repr(exchange.request_headers)]
            shown += [frame.data for frame in frames(exchange, recorder.redactor)]
    return "\n".join(shown)


def trip_task(runtime: SessionRuntime, url: str) -> str:
    """A task that stays open (input-required), to hang push configs on."""
    reply = read(agent.send_message(runtime, url, "Book a trip"))
    assert reply.state == "input-required"
    return reply.task_id


# --- configs ---------------------------------------------------------------------------


@pytest.mark.parametrize("binding", BINDINGS)
def test_push_configs_round_trip_without_showing_tokens(runtime, job_agent, webhook, binding):
    _, hook_url = webhook
    url = job_agent.url
    agent.connect(runtime, url, binding)
    task_id = trip_task(runtime, url)
    token, credentials = f"tok-{binding}-8c1f0e", "cred-5d2a9b"

    created = push.create_push_config(
        runtime,
        url,
        task_id,
        f"{hook_url}/hook/crud",
        token,
        config_id="first",
        auth=("Bearer", credentials),
    )
    assert created == push.PushConfig(
        "first", task_id, f"{hook_url}/hook/crud", True, "Bearer", token=token
    )
    assert token not in repr(created)
    second = push.create_push_config(runtime, url, task_id, f"{hook_url}/hook/other")
    assert second.id and second.id != "first" and not second.has_token

    got = push.get_push_config(runtime, url, task_id, "first")
    assert got == push.PushConfig("first", task_id, f"{hook_url}/hook/crud", True, "Bearer")
    assert got.token == ""
    listed = push.list_push_configs(runtime, url, task_id)
    assert sorted(c.id for c in listed) == sorted(["first", second.id])
    assert all(c.token == "" for c in listed)

    push.delete_push_config(runtime, url, task_id, "first")
    assert [c.id for c in push.list_push_configs(runtime, url, task_id)] == [second.id]
    with pytest.raises(AppError):
        push.get_push_config(runtime, url, task_id, "first")

    # Each call is a record in the inspector; the token and credentials are masked there.
    shown = recorded_text(runtime)
    assert f"Push config for task {task_id[:8]}" in shown
    assert "pushNotificationConfig" in shown or "PushNotificationConfig" in shown
    assert token not in shown and credentials not in shown

    # A session that never saw the token reads it back from the agent: masked there too.
    other = SessionRuntime(label="other")
    try:
        agent.connect(other, url, binding)
        kept = push.create_push_config(runtime, url, task_id, f"{hook_url}/hook/b", token)
        assert push.get_push_config(other, url, task_id, kept.id).has_token
        assert "Get push config" in recorded_text(other)
        assert token not in recorded_text(other)
        other_token = "tok-other-6e0f"
        push.create_push_config(runtime, url, task_id, f"{hook_url}/hook/c", other_token)
        assert push.list_push_configs(other, url, task_id)
        assert "List push configs" in recorded_text(other)
        assert other_token not in recorded_text(other)
    finally:
        other.close()


@pytest.mark.parametrize("binding", BINDINGS)
def test_the_agent_refuses_private_webhooks_in_a_sentence(runtime, job_agent, binding):
    agent.connect(runtime, job_agent.url, binding)
    task_id = trip_task(runtime, job_agent.url)
    for private in ("http://10.0.0.1/hook", "http://169.254.169.254/latest", "ftp://127.0.0.1/"):
        with pytest.raises(AppError, match="refused the webhook URL") as refused:
            push.create_push_config(runtime, job_agent.url, task_id, private, "tok-private")
        assert "\n" not in str(refused.value)
    assert push.list_push_configs(runtime, job_agent.url, task_id) == []


def test_config_ids_that_would_bend_a_rest_path_are_refused_before_sending(runtime, job_agent):
    with pytest.raises(AppError, match="push config id"):
        push.get_push_config(runtime, job_agent.url, "task", "../../tasks")


# --- the background job ------------------------------------------------------------------


@pytest.mark.parametrize("binding", BINDINGS)
def test_a_background_job_returns_at_once_and_notifies_the_webhook(
    runtime, job_agent, webhook, binding
):
    hook, hook_url = webhook
    url = job_agent.url
    agent.connect(runtime, url, binding)
    token = f"tok-bg-{binding}-41d7"

    started = time.monotonic()
    job = push.send_in_background(
        runtime, url, "Start a background job", None, f"{hook_url}/hook/{binding}", token
    )
    took = time.monotonic() - started
    assert job.task_id and job.state in ("submitted", "working"), job
    assert job.event.kind == "task" and job.push_config_id
    # The job takes a second; the call came back before it ended.
    assert took < JOB.job_steps * JOB.job_interval
    assert not any(n.state == "TASK_STATE_COMPLETED" for n in hook.for_task(job.task_id))

    def finished() -> bool:
        return any(n.state == "TASK_STATE_COMPLETED" for n in hook.for_task(job.task_id))

    wait_for("the completed status at the webhook", finished)
    got = hook.for_task(job.task_id)
    assert {n.path for n in got} == {f"/hook/{binding}"}
    assert all(n.headers.get(TOKEN_HEADER) == token for n in got)
    assert "authorization" not in got[0].headers  # no authentication in the config

    kinds = [n.kind for n in got]
    assert kinds[0] == "task" and got[0].state == "TASK_STATE_SUBMITTED"
    assert kinds[-1] == "statusUpdate" and got[-1].state == "TASK_STATE_COMPLETED"
    assert kinds.count("artifactUpdate") == 1
    progress = [n.text for n in got if n.kind == "statusUpdate" and "Step" in n.text]
    assert progress == [f"Step {k} of {JOB.job_steps} done." for k in range(1, 5)]
    artifact = next(n for n in got if n.kind == "artifactUpdate")
    assert artifact.body["artifactUpdate"]["artifact"]["name"] == "job-result"

    # The agent stored what it notified; the config is the one the send attached.
    detail = tasks.get_task(runtime, url, job.task_id)
    assert detail.state == "completed" and "Background job finished" in detail.reply.text
    (config,) = push.list_push_configs(runtime, url, job.task_id)
    assert (config.id, config.has_token) == (job.push_config_id, True)
    assert token not in recorded_text(runtime)


def test_the_background_job_streams_when_sent_normally(runtime, job_agent, webhook):
    hook, _ = webhook
    reply = read(agent.send_message(runtime, job_agent.url, "Start a background job"))
    assert reply.state == "completed" and not reply.error
    steps = [f"Step {k} of {JOB.job_steps} done." for k in range(1, 5)]
    assert [line for line in reply.status_log if line.startswith("Step")] == steps
    assert reply.status_log[-1] == "The background job is done."
    (result,) = reply.artifacts.values()
    assert result.name == "job-result" and "Background job finished" in result.text
    assert hook.for_task(reply.task_id) == []  # no push config, no notification


def test_an_agent_without_push_gets_a_sentence_before_any_request(runtime):
    seen: list[dict[str, str]] = []
    script = [{"message": {"messageId": "m1", "role": "ROLE_AGENT", "parts": [{"text": "hi"}]}}]
    with LoopbackServer(header_recorder(scripted_app(script), seen)) as server:
        calls: list[Callable[[], object]] = [
            lambda: push.send_in_background(
                runtime, server.url, "Start a background job", None, "http://127.0.0.1:9/h", "t"
            ),
            lambda: push.create_push_config(runtime, server.url, "task-1", "http://x.test/h"),
            lambda: push.list_push_configs(runtime, server.url, "task-1"),
            lambda: push.get_push_config(runtime, server.url, "task-1", "c1"),
            lambda: push.delete_push_config(runtime, server.url, "task-1", "c1"),
        ]
        for call in calls:
            with pytest.raises(AppError, match="does not offer push notifications") as refused:
                call()
            assert "\n" not in str(refused.value)
    # The card, read once to connect; no push request, no message.
    assert [r[""] for r in seen] == ["/.well-known/agent-card.json"]


def test_the_demo_card_offers_push(runtime, job_agent):
    info = agent.connect(runtime, job_agent.url)
    assert info.push_notifications and info.card["capabilities"]["pushNotifications"] is True
    assert any(s.name.startswith("Background job") for s in info.skills)


# --- the agent's URL policy and its database store -----------------------------------------


def test_loopback_webhooks_only_for_an_agent_bound_to_loopback():
    async def verdicts(allow_loopback: bool) -> dict[str, bool]:
        check = push_url_policy(allow_loopback=allow_loopback)
        urls = [
            "http://127.0.0.1:8501/hook",
            "http://localhost/hook",
            "http://[::1]:9/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://10.0.0.1/hook",
            "http://192.168.1.2/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:10.0.0.1]/hook",
            "http://0.0.0.0/hook",
            "ftp://127.0.0.1/hook",
            "http:///nohost",
            "https://93.184.215.14/hook",  # a public address (no lookup for a literal)
        ]
        return {u: await check(u) for u in urls}

    allowed = asyncio.run(verdicts(True))
    assert [u for u, ok in allowed.items() if ok] == [
        "http://127.0.0.1:8501/hook",
        "http://localhost/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https://93.184.215.14/hook",
    ]
    strict = asyncio.run(verdicts(False))
    assert [u for u, ok in strict.items() if ok] == ["https://93.184.215.14/hook"]

    assert is_loopback_url("http://127.0.0.1:9999") and is_loopback_url("http://localhost:1")
    assert is_loopback_url("http://[::1]:8000")
    assert not is_loopback_url("http://0.0.0.0:9999")
    assert not is_loopback_url("http://192.168.1.5:9999")
    assert not is_loopback_url("https://agent.example.com")


def test_with_a_database_push_configs_outlive_a_restart(tmp_path, webhook):
    hook, hook_url = webhook
    database_url = f"sqlite:///{tmp_path / 'agent.db'}"
    token = "tok-database-93ab"
    first = SessionRuntime(label="before")
    try:
        with DemoAgentServer(timing=JOB, database_url=database_url) as server:
            task_id = trip_task(first, server.url)
            push.create_push_config(first, server.url, task_id, f"{hook_url}/hook/db", token)
            job = push.send_in_background(
                first, server.url, "Start a long job", None, f"{hook_url}/hook/db", token
            )

            def finished() -> bool:
                return any(n.state == "TASK_STATE_COMPLETED" for n in hook.for_task(job.task_id))

            wait_for("the completed status at the webhook", finished)
    finally:
        first.close()
    with sqlite3.connect(tmp_path / "agent.db") as db:
        rows = db.execute(f"SELECT task_id, config_id FROM {PUSH_CONFIGS_TABLE}").fetchall()
    assert {row[0] for row in rows} == {task_id, job.task_id}
    assert all(token not in str(row) for row in rows)  # the token is in config_data only

    second = SessionRuntime(label="after")
    try:
        with DemoAgentServer(timing=JOB, database_url=database_url) as server:
            (config,) = push.list_push_configs(second, server.url, task_id)
            assert (config.url, config.has_token) == (f"{hook_url}/hook/db", True)
    finally:
        second.close()
