"""The protocol run against real agents on loopback: the demo agent over both bindings,
and demo agents with one fault each, which must fail exactly the check meant for them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from services.agent_check.model import AgentCheckReport, Check
from services.agent_check.protocol import run_protocol_checks
from services.demo_agent import DemoAgentServer, DemoAuth, DemoTiming, LoopbackServer
from services.demo_agent.app import build_app
from services.inspector.capture import TrafficRecorder
from tests.agents import header_spy, legacy_card_app, sse

# The slow task in half a second, so a run can cancel it and still finish quickly.
QUICK = DemoTiming(token_delay=0.002, step_delay=0.01, slow_interval=0.05, slow_chunks=10)
SLOW_TASK = "Run a slow task"  # the demo agent's slow scenario: a task that lasts
BINDINGS = ("jsonrpc", "rest")
TOKEN = "tok-check-42"
AUTH = DemoAuth(bearer_token=TOKEN)  # with auth, the demo agent offers its extended card

# (request path, method, JSON body) -> a response in the agent's place, or None
Rewrite = Callable[[str, str, Any], Response | None]
# (request path, status, JSON body) -> (status, body) to answer instead, or None
Transform = Callable[[str, int, Any], tuple[int, Any] | None]


def faulty_demo(
    rewrite: Rewrite | None = None, transform: Transform | None = None
) -> Callable[[str], Any]:
    """The demo agent, with one fault: requests `rewrite` answers itself, and JSON
    responses `transform` changes (the body is buffered and re-sent)."""

    def factory(base_url: str) -> Any:
        inner = build_app(base_url, QUICK, auth=AUTH)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            try:
                payload = json.loads(body) if body else None
            except ValueError:
                payload = None
            answer = rewrite(scope["path"], scope["method"], payload) if rewrite else None
            if answer is not None:
                await answer(scope, receive, send)
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await inner(scope, replay, _transforming(scope["path"], send, transform))

        return app

    return factory


def _transforming(path: str, send: Send, transform: Transform | None) -> Send:
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if transform is None:
            await send(message)
            return
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if b"json" not in headers.get(b"content-type", b""):
                await send(message)
                return
            start = message
            return
        if start is None:  # not JSON: passed through
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        status, body = start["status"], b"".join(chunks)
        changed = transform(path, status, json.loads(body) if body else None)
        if changed is not None:
            status, body = changed[0], json.dumps(changed[1]).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return wrapped


def _is_stream_call(path: str, payload: Any) -> bool:
    if path.endswith("message:stream"):
        return True
    return isinstance(payload, dict) and payload.get("method") == "SendStreamingMessage"


def refuses_to_stream(path: str, _method: str, payload: Any) -> Response | None:
    """A card that claims streaming, but the streaming call answers a JSON error."""
    if not _is_stream_call(path, payload):
        return None
    if path.endswith("message:stream"):
        error = {"code": 500, "status": "INTERNAL", "message": "Streaming is not available"}
        return JSONResponse({"error": error}, status_code=500)
    error = {"code": -32603, "message": "Streaming is not available"}
    request_id = payload.get("id") if isinstance(payload, dict) else None
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": error})


def hides_not_found(_path: str, status: int, body: Any) -> tuple[int, Any] | None:
    """TaskNotFound (JSON-RPC -32001, REST 404) turned into a generic internal error."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        if error.get("code") == -32001:
            return status, {**body, "error": {"code": -32603, "message": "Internal error"}}
        if status == 404:
            return 500, {"error": {"code": 500, "status": "INTERNAL", "message": "Internal error"}}
    return None


def event_after_final(path: str, _method: str, payload: Any) -> Response | None:
    """The streaming call answers a completed task, then a status update after it."""
    if not _is_stream_call(path, payload):
        return None
    task = {"id": "task-1", "contextId": "ctx-1", "status": {"state": "TASK_STATE_COMPLETED"}}
    late = {"taskId": "task-1", "contextId": "ctx-1", "status": {"state": "TASK_STATE_WORKING"}}
    events = [{"task": task}, {"statusUpdate": late}]
    rest = path.endswith("message:stream")
    request_id = None if rest else payload.get("id")

    async def body() -> AsyncIterator[bytes]:
        for event in events:
            data = event if rest else {"jsonrpc": "2.0", "id": request_id, "result": event}
            yield sse(json.dumps(data))

    return StreamingResponse(body(), media_type="text/event-stream")


def _serve(factory: Callable[[str], Any]) -> Iterator[LoopbackServer]:
    server = LoopbackServer(factory)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def demo() -> Iterator[LoopbackServer]:
    yield from _serve(faulty_demo())


@pytest.fixture(scope="module")
def demo_with_grpc() -> Iterator[DemoAgentServer]:
    """The demo agent as the app runs it: JSON-RPC, HTTP+JSON and gRPC."""
    server = DemoAgentServer(timing=QUICK, auth=AUTH)
    try:
        yield server
    finally:
        server.stop()


def run(url: str, **options: Any) -> tuple[AgentCheckReport, TrafficRecorder]:
    """The protocol run, with the demo agent's token unless `headers` says otherwise."""
    recorder = options.pop("recorder", None) or TrafficRecorder()
    options.setdefault("headers", {"Authorization": f"Bearer {TOKEN}"})
    report = run_protocol_checks(AgentCheckReport(), url, recorder=recorder, **options)
    return report, recorder


def by_id(report: AgentCheckReport) -> dict[str, Check]:
    return {check.id: check for check in report.checks}


def failed(report: AgentCheckReport) -> set[str]:
    return {c.id for c in report.checks if c.status in ("fail", "warn")}


def test_the_demo_agent_passes_every_must_and_should_over_all_three_bindings(demo_with_grpc):
    # Three bindings make more records than a session keeps (20): keep them all here.
    report, recorder = run(
        demo_with_grpc.url,
        message=SLOW_TASK,
        max_requests=90,
        recorder=TrafficRecorder(max_streams=60),
    )
    checks = by_id(report)
    assert not failed(report), [(c.id, c.message) for c in report.checks if c.status != "pass"]
    for binding in (*BINDINGS, "grpc"):
        for name in (
            "send-message",
            "send-streaming-message",
            "get-task",
            "list-tasks",
            "cancel-task",
            "errors.task-not-found",
            "push-config",
            "extended-card",
        ):
            assert checks[f"rpc.{name}.{binding}"].status == "pass", name
    assert checks["rpc.errors.method-not-found.jsonrpc"].status == "pass"
    assert checks["rpc.bindings-agree"].status == "pass"
    assert checks["rpc.input-modes"].status == "pass"
    assert checks["rpc.output-modes"].status == "pass"
    assert checks["rpc.cancel-task.rest"].message == "CancelTask canceled the run's working task."
    assert checks["rpc.cancel-task.grpc"].message == "CancelTask canceled the run's working task."
    assert checks["rpc.send-message.jsonrpc"].spec == "A2A 1.0 §3.1.1 Send Message"
    # Each request-making check points at the inspector's record of its exchange.
    kept = {record.id: record for record in recorder.streams()}
    for check in report.checks:
        if check.id not in ("rpc.input-modes", "rpc.output-modes"):
            assert check.stream_id in kept and kept[check.stream_id].exchanges, check.id


def test_a_message_reply_skips_the_task_checks_with_a_sentence(demo):
    report, _ = run(demo.url)  # "ping": the demo agent answers with a message
    checks = by_id(report)
    assert not any(c.level in ("MUST", "SHOULD") and c.status == "fail" for c in report.checks)
    assert checks["rpc.get-task.jsonrpc"].status == "skip"
    assert "no task" in checks["rpc.get-task.jsonrpc"].message


def test_a_card_that_lies_about_streaming_fails_the_streaming_check():
    for server in _serve(faulty_demo(rewrite=refuses_to_stream)):
        report, _ = run(server.url)
    assert failed(report) == {f"rpc.send-streaming-message.{b}" for b in BINDINGS}
    for binding in BINDINGS:
        message = by_id(report)[f"rpc.send-streaming-message.{binding}"].message
        assert message.endswith("(application/json), not an SSE stream."), message


def test_a_generic_error_for_an_unknown_task_fails_the_not_found_check():
    for server in _serve(faulty_demo(transform=hides_not_found)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {f"rpc.errors.task-not-found.{b}" for b in BINDINGS}
    assert by_id(report)["rpc.errors.task-not-found.rest"].level == "MUST"
    message = by_id(report)["rpc.errors.task-not-found.rest"].message
    assert message == "GetTask of an unknown id gave HTTP 500, not TaskNotFoundError."


def test_a_stream_with_an_event_after_the_final_state_fails_the_stream_rules():
    for server in _serve(faulty_demo(rewrite=event_after_final)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {f"rpc.send-streaming-message.{b}" for b in BINDINGS}
    check = by_id(report)["rpc.send-streaming-message.rest"]
    assert "after the task was completed" in check.message


def test_the_request_cap_skips_what_is_left(demo):
    report, recorder = run(demo.url, max_requests=3)
    skipped = [c for c in report.checks if c.message == "Not run: the request cap was reached."]
    assert skipped and all(c.status == "skip" for c in skipped)
    made = sum(len(r.exchanges) for r in recorder.streams())
    assert made + 1 == 3  # the card, SendMessage, SendStreamingMessage


def test_a_0_3_card_is_checked_with_0_3_sections(demo):
    for server in _serve(legacy_card_app(f"{demo.url}/")):
        report, _ = run(server.url, binding="JSONRPC")
    checks = by_id(report)
    assert checks["rpc.list-tasks.jsonrpc"].status == "skip"
    assert "not part of A2A 0.3" in checks["rpc.list-tasks.jsonrpc"].message
    assert checks["rpc.send-message.jsonrpc"].spec == "A2A 0.3 §7.1 message/send"
    assert checks["rpc.send-message.jsonrpc"].status == "pass"


def test_an_unreachable_agent_gives_one_skip_with_the_reason():
    report, _ = run("http://127.0.0.1:9/", timeout=5.0)
    assert [c.id for c in report.checks] == ["rpc.card"]
    assert report.checks[0].status == "skip"


def test_headers_go_with_every_request_and_stay_out_of_the_records():
    seen: list[str] = []
    for server in _serve(header_spy(faulty_demo(), seen)):
        report, recorder = run(server.url)  # with the token, by default
    assert by_id(report)["rpc.send-message.jsonrpc"].status == "pass"
    assert seen and set(seen) == {f"Bearer {TOKEN}"}
    for record in recorder.streams():
        for exchange in record.exchanges:
            assert TOKEN not in str(exchange.request_headers)


def wrong_method_error(_path: str, status: int, body: Any) -> tuple[int, Any] | None:
    """An unknown JSON-RPC method answered with -32603 instead of -32601."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        if body["error"].get("code") == -32601:
            return status, {**body, "error": {"code": -32603, "message": "Internal error"}}
    return None


def refuses_to_cancel(path: str, _method: str, payload: Any) -> Response | None:
    """CancelTask answered with an internal error on both bindings."""
    if path.endswith(":cancel"):
        error = {"code": 500, "status": "INTERNAL", "message": "Cannot cancel"}
        return JSONResponse({"error": error}, status_code=500)
    if isinstance(payload, dict) and payload.get("method") in ("CancelTask", "tasks/cancel"):
        error = {"code": -32603, "message": "Cannot cancel"}
        return JSONResponse({"jsonrpc": "2.0", "id": payload.get("id"), "error": error})
    return None


def test_a_wrong_code_for_an_unknown_method_fails_the_method_not_found_check():
    for server in _serve(faulty_demo(transform=wrong_method_error)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {"rpc.errors.method-not-found.jsonrpc"}
    assert by_id(report)["rpc.errors.method-not-found.jsonrpc"].level == "MUST"


def test_an_agent_that_cannot_cancel_fails_the_cancel_check():
    for server in _serve(faulty_demo(rewrite=refuses_to_cancel)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {f"rpc.cancel-task.{b}" for b in BINDINGS}


def _rpc_method(payload: Any) -> str | None:
    return payload.get("method") if isinstance(payload, dict) else None


def _error(payload: Any, rest_status: str, jsonrpc_code: int, text: str, *, rest: bool) -> Response:
    if rest:
        error = {"code": 500, "status": rest_status, "message": text}
        return JSONResponse({"error": error}, status_code=500)
    request_id = payload.get("id") if isinstance(payload, dict) else None
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": jsonrpc_code, "message": text}}
    return JSONResponse(body)


def fails_to_send(path: str, _method: str, payload: Any) -> Response | None:
    """A blocking SendMessage answered with an internal error; the calls that ask to
    return at once (the cancel check's) still work."""
    rest = path.endswith("message:send")
    if not rest and _rpc_method(payload) != "SendMessage":
        return None
    params = payload if rest else (payload or {}).get("params", {})
    if params.get("configuration", {}).get("returnImmediately"):
        return None
    return _error(payload, "INTERNAL", -32603, "Cannot answer", rest=rest)


def pads_history(path: str, status: int, body: Any) -> tuple[int, Any] | None:
    """GetTask ignores historyLength: the task always comes with two messages or more."""
    rest_get = path.startswith("/rest/tasks/") and ":" not in path and "/push" not in path
    task = body if rest_get else (body or {}).get("result") if isinstance(body, dict) else None
    if not isinstance(task, dict) or "status" not in task or "id" not in task:
        return None  # not a task read (SendMessage answers {"task": ...})
    history = list(task.get("history", []))
    while history and len(history) < 2:
        history.append({**history[0], "messageId": f"{history[0].get('messageId')}-again"})
    changed = {**task, "history": history}
    return (status, changed) if rest_get else (status, {**body, "result": changed})


def fails_extended_card(path: str, _method: str, payload: Any) -> Response | None:
    """The card declares an extended card, and fetching it gives an internal error."""
    rest = path.endswith("/extendedAgentCard")
    if not rest and _rpc_method(payload) != "GetExtendedAgentCard":
        return None
    return _error(payload, "INTERNAL", -32603, "No extended card", rest=rest)


def rest_reads_another_context(path: str, status: int, body: Any) -> tuple[int, Any] | None:
    """HTTP+JSON GetTask reads a task with another context id than JSON-RPC's."""
    if path.startswith("/rest/tasks/") and ":" not in path and isinstance(body, dict):
        if "contextId" in body:
            return status, {**body, "contextId": f"{body['contextId']}-elsewhere"}
    return None


def _card(change: Callable[[dict[str, Any]], None]) -> Transform:
    def transform(path: str, status: int, body: Any) -> tuple[int, Any] | None:
        if path == "/.well-known/agent-card.json" and isinstance(body, dict):
            change(body)
            return status, body
        return None

    return transform


def _json_output_only(card: dict[str, Any]) -> None:
    card["defaultOutputModes"] = ["application/json"]
    for skill in card.get("skills", []):
        skill.pop("outputModes", None)


def _json_input_only(card: dict[str, Any]) -> None:
    card["defaultInputModes"] = ["application/json"]
    for skill in card.get("skills", []):
        skill.pop("inputModes", None)


def _no_push(card: dict[str, Any]) -> None:
    card["capabilities"]["pushNotifications"] = False


def test_an_agent_whose_blocking_send_fails_fails_the_send_check():
    for server in _serve(faulty_demo(rewrite=fails_to_send)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {f"rpc.send-message.{b}" for b in BINDINGS}
    assert by_id(report)["rpc.send-message.jsonrpc"].level == "MUST"
    # What needed the task is skipped with its sentence, not failed.
    assert by_id(report)["rpc.get-task.rest"].status == "skip"


def test_an_agent_that_ignores_history_length_fails_the_get_task_check():
    for server in _serve(faulty_demo(transform=pads_history)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {f"rpc.get-task.{b}" for b in BINDINGS}
    message = by_id(report)["rpc.get-task.jsonrpc"].message
    assert message == "GetTask with historyLength 1 returned 2 messages."


def test_a_declared_extended_card_that_fails_warns_the_extended_card_check():
    for server in _serve(faulty_demo(rewrite=fails_extended_card)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {f"rpc.extended-card.{b}" for b in BINDINGS}
    assert {by_id(report)[f"rpc.extended-card.{b}"].status for b in BINDINGS} == {"warn"}


def test_bindings_that_read_a_task_differently_fail_the_agreement_check():
    for server in _serve(faulty_demo(transform=rest_reads_another_context)):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {"rpc.bindings-agree"}
    assert by_id(report)["rpc.bindings-agree"].message == (
        "The task started over JSONRPC reads differently over HTTP+JSON."
    )


def test_replies_outside_the_cards_output_modes_warn():
    for server in _serve(faulty_demo(transform=_card(_json_output_only))):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {"rpc.output-modes"}
    assert "text/plain" in by_id(report)["rpc.output-modes"].message


def test_text_accepted_outside_the_cards_input_modes_warns():
    for server in _serve(faulty_demo(transform=_card(_json_input_only))):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {"rpc.input-modes"}
    assert "do not list" in by_id(report)["rpc.input-modes"].message


def test_push_calls_that_work_against_the_cards_word_fail_the_push_refused_check():
    for server in _serve(faulty_demo(transform=_card(_no_push))):
        report, _ = run(server.url, message=SLOW_TASK, max_requests=60)
    assert failed(report) == {f"rpc.errors.push-not-supported.{b}" for b in BINDINGS}
    message = by_id(report)["rpc.errors.push-not-supported.rest"].message
    assert message == "The card does not declare push notifications, yet a push call worked."
