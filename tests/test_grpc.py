"""gRPC, the third binding: the demo agent serves it, the client speaks it on the session's
loop, the inspector records it, the agent check covers it. Real servers on loopback."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from services.agent_check.doctor import diagnose
from services.agent_check.model import AgentCheckReport
from services.agent_check.protocol import run_protocol_checks
from services.client import agent, resources, tasks
from services.client.auth import Credentials, OriginCredentials
from services.client.grpc_channels import GrpcChannels, grpc_target
from services.demo_agent import DemoAgentServer, DemoAuth, DemoTiming
from services.errors import AgentError
from services.inspector.capture import StreamRecord, TrafficRecorder
from services.inspector.grpcurl import grpcurl_command, grpcurl_for
from services.inspector.inspection import inspect
from services.redact import REDACTED, Redactor
from services.runtime import SessionRuntime
from tests.conftest import APP, close_runtime

pytestmark = pytest.mark.timeout(90)

FAST = DemoTiming(token_delay=0.002, step_delay=0.02, slow_interval=0.2, slow_chunks=30)
TOKEN = "grpc-token-7391"
STREAM_METHOD = "/lf.a2a.v1.A2AService/SendStreamingMessage"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=FAST) as server:
        yield server


@pytest.fixture(scope="module")
def guarded() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=FAST, auth=DemoAuth(bearer_token=TOKEN)) as server:
        yield server


@pytest.fixture
def grpc_runtime() -> Iterator[SessionRuntime]:
    runtime = resources.configure(SessionRuntime(label="grpc"))
    yield runtime
    runtime.close()


def authed_runtime(url: str, token: str) -> SessionRuntime:
    credentials = OriginCredentials()
    redactor = Redactor()
    if token:
        given = Credentials(bearer_token=token)
        credentials.set(url, given)
        redactor.add(given.secret_values)
    return resources.configure(
        SessionRuntime(label="grpc-auth"), recorder=TrafficRecorder(redactor), auth=credentials
    )


def last_record(runtime: SessionRuntime) -> StreamRecord:
    return resources.recorder(runtime).streams()[-1]


# --- the demo agent ---------------------------------------------------------------------


def test_the_card_declares_a_grpc_interface_on_loopback(demo):
    card = httpx.get(f"{demo.url}/.well-known/agent-card.json").json()
    interfaces = {i["protocolBinding"]: i["url"] for i in card["supportedInterfaces"]}
    assert interfaces["GRPC"] == demo.grpc_target
    assert demo.grpc_target.startswith("127.0.0.1:")
    assert list(interfaces)[0] == "JSONRPC"  # the card's preference is unchanged


def test_the_grpc_server_stops_with_the_http_server():
    server = DemoAgentServer(timing=FAST)
    host, port = server.grpc_target.rsplit(":", 1)
    server.stop()
    with socket.socket() as probe:  # the port is free again: nothing listens on it
        probe.bind((host, int(port)))


# --- the client over gRPC ---------------------------------------------------------------


def test_connect_stream_send_get_cancel_and_list_over_grpc(demo, grpc_runtime):
    info = agent.connect(grpc_runtime, demo.url, "GRPC")
    assert (info.binding, info.endpoint) == ("GRPC", demo.grpc_target)

    events = list(agent.send_message(grpc_runtime, demo.url, "Explain how A2A streaming works"))
    assert len(events) > 50 and events[-1].state == "completed"
    assert "How A2A streaming works" in "".join(e.text for e in events)

    reply = list(agent.send_message(grpc_runtime, demo.url, "Search for A2A news"))
    task_id = next(e.task_id for e in reply if e.task_id)
    task = tasks.get_task(grpc_runtime, demo.url, task_id)
    assert (task.id, task.state) == (task_id, "completed")
    assert task.history and task.history[0].text == "Search for A2A news"

    slow = agent.send_message(grpc_runtime, demo.url, "Run a slow task")
    first = next(e for e in slow if e.task_id and e.state == "working")
    assert agent.cancel_task(grpc_runtime, demo.url, first.task_id) == "canceled"
    slow.cancel()

    listed = tasks.list_tasks(grpc_runtime, demo.url)
    assert {task_id, first.task_id} <= {t.id for t in listed.tasks}


def test_the_binding_override_picks_grpc_and_automatic_keeps_the_cards_order(demo, grpc_runtime):
    assert agent.connect(grpc_runtime, demo.url).binding == "JSONRPC"
    assert agent.connect(grpc_runtime, demo.url, "GRPC").binding == "GRPC"
    list(agent.send_message(grpc_runtime, demo.url, "hello"))
    assert last_record(grpc_runtime).exchanges[-1].protocol == "grpc"


def test_the_channel_is_made_on_the_sessions_loop_and_closed_with_the_runtime(demo):
    runtime = resources.configure(SessionRuntime(label="grpc-loop"))
    made_on: list[threading.Thread] = []
    original = GrpcChannels._open

    def watched(self: GrpcChannels, agent_url: str, target: str, secure: bool):
        made_on.append(threading.current_thread())
        return original(self, agent_url, target, secure)

    GrpcChannels._open = watched  # type: ignore[method-assign]
    try:
        agent.connect(runtime, demo.url, "GRPC")
        agent.connect(runtime, demo.url, "GRPC")  # a reconnect keeps the one channel open
        list(agent.send_message(runtime, demo.url, "hello"))
        channels = resources.grpc_channels(runtime)
        assert channels is not None and len(channels.channels) == 1
        assert made_on == [runtime.thread]
        runtime.close()
        assert channels.channels == {}
        assert "a2a.grpc" not in runtime.resources
    finally:
        GrpcChannels._open = original  # type: ignore[method-assign]
        runtime.close()


def test_credentials_go_as_metadata_and_a_missing_token_gives_one_sentence(guarded):
    runtime = authed_runtime(guarded.url, TOKEN)
    try:
        agent.connect(runtime, guarded.url, "GRPC")
        events = list(agent.send_message(runtime, guarded.url, "hello"))
        assert events and events[-1].kind in ("message", "status", "task")
        sent = dict(last_record(runtime).exchanges[-1].request_headers)
        assert sent["authorization"] == REDACTED  # it went, and the record masks it
    finally:
        runtime.close()

    bare = authed_runtime(guarded.url, "")
    try:
        agent.connect(bare, guarded.url, "GRPC")  # the card is public
        with pytest.raises(AgentError) as refused:
            list(agent.send_message(bare, guarded.url, "hello"))
        assert str(refused.value) == (
            "The agent refused the call (gRPC UNAUTHENTICATED): it wants credentials. "
            "Set its token or API key under Credentials in the sidebar."
        )
        exchange = last_record(bare).exchanges[-1]
        assert exchange.reason == "UNAUTHENTICATED"
        assert ("www-authenticate", 'Bearer realm="A2A Demo Agent"') in exchange.trailers
    finally:
        bare.close()


def test_credentials_reach_only_their_own_agents_channel(demo, guarded):
    runtime = authed_runtime(guarded.url, TOKEN)
    try:
        agent.connect(runtime, demo.url, "GRPC")
        list(agent.send_message(runtime, demo.url, "hello"))
        sent = dict(last_record(runtime).exchanges[-1].request_headers)
        assert "authorization" not in sent
    finally:
        runtime.close()


# --- the inspector ----------------------------------------------------------------------


def test_the_record_of_a_grpc_stream_passes_the_stream_rules_with_the_token_masked(guarded):
    runtime = authed_runtime(guarded.url, TOKEN)
    try:
        agent.connect(runtime, guarded.url, "GRPC")
        list(agent.send_message(runtime, guarded.url, "Explain how A2A streaming works"))
        record = last_record(runtime)
    finally:
        runtime.close()
    (exchange,) = record.exchanges
    assert (exchange.protocol, exchange.method) == ("grpc", STREAM_METHOD)
    assert exchange.url == f"grpc://{guarded.grpc_target}"
    assert (exchange.status, exchange.reason, exchange.error) == (0, "OK", "")
    assert exchange.trailers == []  # recorded: the demo agent sends none on success
    assert '"parts"' in exchange.request_body and "Explain how A2A" in exchange.request_body
    times = [at for at, _ in exchange.chunks]
    assert times == sorted(times) and len(times) > 50
    inspection = inspect(record)
    assert inspection.findings == []
    assert inspection.summary is not None and inspection.summary.final_state == "completed"
    assert inspection.rows[0].kind in ("task", "status")
    assert all(row.sdk is not None for row in inspection.rows)  # each message met its event
    assert TOKEN not in repr(record)
    assert ("authorization", REDACTED) in exchange.request_headers


def test_grpcurl_command_for_a_recorded_call(guarded):
    runtime = authed_runtime(guarded.url, TOKEN)
    try:
        agent.connect(runtime, guarded.url, "GRPC")
        list(agent.send_message(runtime, guarded.url, "hello"))
        exchange = last_record(runtime).exchanges[-1]
    finally:
        runtime.close()
    command = grpcurl_for(exchange)
    assert TOKEN not in command and REDACTED not in command
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:2] == ["grpcurl", "-plaintext"]
    assert "authorization: Bearer $A2A_TOKEN" in words
    assert "a2a-version: 1.0" in words
    assert words[-2:] == [guarded.grpc_target, STREAM_METHOD.lstrip("/")]
    assert words[words.index("-d") + 1] == exchange.request_body


def test_grpcurl_command_quotes_and_hides_secrets():
    command = grpcurl_command(
        "grpcs://agent.example.com:443",
        "/lf.a2a.v1.A2AService/GetTask",
        '{"id": "it\'s"}',
        [("x-api-key", "k-123456"), ("x-note", "a b")],
        plaintext=False,
    )
    assert "-plaintext" not in command and "k-123456" not in command
    assert shlex.split(command.replace("\\\n", " ")) == [
        "grpcurl",
        "-H",
        "x-api-key: $A2A_API_KEY",
        "-H",
        "x-note: a b",
        "-d",
        '{"id": "it\'s"}',
        "agent.example.com:443",
        "lf.a2a.v1.A2AService/GetTask",
    ]


def test_grpc_targets_from_card_urls():
    assert grpc_target("127.0.0.1:50051") == ("127.0.0.1:50051", False)
    assert grpc_target("grpc.example.com:443") == ("grpc.example.com:443", True)
    assert grpc_target("grpcs://grpc.example.com") == ("grpc.example.com:443", True)
    assert grpc_target("grpc://10.0.0.5:9000") == ("10.0.0.5:9000", False)
    assert grpc_target("https://grpc.example.com/a2a") == ("grpc.example.com:443", True)


# --- the agent check --------------------------------------------------------------------


def test_the_agent_check_binding_grpc_exits_0_against_the_demo_agent(demo):
    done = subprocess.run(
        [sys.executable, "-m", "services.agent_check", demo.url, "--binding", "grpc"],
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Protocol 1.0 over GRPC" in done.stdout
    assert "rpc.send-streaming-message.grpc" in done.stdout


def test_the_doctor_probes_a_grpc_choice_with_a_get_task_over_grpc(guarded):
    refused = diagnose(guarded.url, binding="GRPC", timeout=5)
    assert [(c.status, c.message) for c in refused.checks if c.id == "doctor.auth"] == [
        (
            "warn",
            "The agent answered 401: its card asks for a bearer token (securitySchemes.bearer); "
            "pass --token or set credentials.",
        )
    ]
    accepted = diagnose(
        guarded.url, binding="GRPC", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert not accepted.must_failed and accepted.agent["binding"] == "GRPC"


def test_the_protocol_run_reads_the_task_through_three_bindings(demo):
    report = run_protocol_checks(
        AgentCheckReport(), demo.url, message="Search for A2A news", max_requests=90, timeout=60
    )
    checks = {c.id: c for c in report.checks}
    assert checks["rpc.bindings-agree"].status == "pass"
    assert checks["rpc.get-task.grpc"].status == "pass"


def test_a_grpc_call_past_the_runs_budget_is_a_warning_not_a_crash(demo):
    # grpc.aio raises its own CancelledError when a unary call is cancelled: the run's
    # time budget must still end it as a TimeoutError (see grpc_channels._CancellableUnary).
    report = run_protocol_checks(
        AgentCheckReport(), demo.url, binding="GRPC", message="Run a slow task", timeout=1
    )
    check = {c.id: c for c in report.checks}["rpc.send-message.grpc"]
    assert check.status == "warn" and "time budget" in check.message


# --- the app ----------------------------------------------------------------------------


def test_the_chat_page_with_the_binding_set_to_grpc_gets_a_reply(monkeypatch, demo):
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["agents"] = [{"url": demo.url, "name": "Demo over gRPC", "binding": "GRPC"}]
    try:
        at.run()
        at.chat_input(key="chat_prompt").set_value("My name is Grace").run()
        bubble = at.chat_message[-1]
        assert "Nice to meet you, Grace" in "\n".join(str(m.value) for m in bubble.markdown)
        runtime = at.session_state["runtime"]
        record = last_record(runtime)
        assert record.binding == "GRPC" and record.exchanges[-1].protocol == "grpc"
        at.switch_page("app_pages/inspector.py").run()  # the record, drawn
        assert not at.exception
        labels = [e.label for e in at.get("expander")]
        assert any(STREAM_METHOD in label and "→ 0 OK" in label for label in labels), labels
    finally:
        close_runtime(at)
