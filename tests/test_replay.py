"""Replay and Copy as curl against the real demo agent on loopback, over both HTTP bindings:
the replay reproduces the deterministic reply, is recorded and compared; the curl command
gets the same answer and never holds the token. And the Streaming inspector's UI for both."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from streamlit.testing.v1 import AppTest

from services.client import agent, resources
from services.client.auth import Credentials, OriginCredentials
from services.client.replay import replay, replay_request
from services.demo_agent import DemoAgentServer, DemoAuth
from services.inspector.capture import Exchange, StreamRecord, TrafficRecorder
from services.inspector.curl import CurlUnavailable, curl_command, placeholder_for
from services.inspector.inspection import inspect, stream_frames
from services.inspector.replay import NotReplayable, compare
from services.inspector.validation import parse_payload
from services.redact import Redactor
from services.runtime import SessionRuntime
from tests.conftest import APP, FAST, close_runtime
from tests.test_app import send
from tests.test_inspector_page import INSPECTOR, everything_shown

BINDINGS = ["JSONRPC", "HTTP+JSON"]
ALL_BINDINGS = [*BINDINGS, "GRPC"]  # replay resends over each; curl is for HTTP
TOKEN = "tok-replay-5e1f9a7c"


@pytest.fixture(scope="module")
def guarded_agent():
    """The demo agent that wants a bearer token."""
    with DemoAgentServer(timing=FAST, auth=DemoAuth(bearer_token=TOKEN)) as server:
        yield server


def session_for(url: str) -> SessionRuntime:
    credentials = OriginCredentials()
    credentials.set(url, Credentials(bearer_token=TOKEN))
    recorder = TrafficRecorder(Redactor([TOKEN]))
    return resources.configure(SessionRuntime(label="replay"), auth=credentials, recorder=recorder)


def replayed(runtime: SessionRuntime, original: StreamRecord, body: str | None = None):
    record, stream = replay(runtime, replay_request(original, body))
    list(stream)
    again = resources.recorder(runtime).stream(record.id)
    assert again is not None
    return again


def texts(record: StreamRecord) -> list[tuple[str, str, str]]:
    return [(p.kind, p.state, p.text) for p in (parse_payload(f) for f in stream_frames(record))]


# --- replay -----------------------------------------------------------------------------


@pytest.mark.parametrize("binding", ALL_BINDINGS)
def test_a_replay_reproduces_the_demo_agents_events_and_is_recorded(guarded_agent, binding):
    runtime = session_for(guarded_agent.url)
    try:
        agent.connect(runtime, guarded_agent.url, binding)
        list(agent.send_message(runtime, guarded_agent.url, "Search for A2A news"))
        original = resources.recorder(runtime).streams()[-1]
        again = replayed(runtime, original)
    finally:
        runtime.close()

    assert again.id == original.id + 1 and again.label == f"Replay of #{original.id}"
    assert again.binding == binding and again.done and not again.error
    # The same kinds, states and text, event for event; ids differ.
    assert texts(again) == texts(original) and len(texts(again)) > 10
    ids = {json.dumps(parse_payload(f).task_id) for f in stream_frames(again)}
    assert ids.isdisjoint({json.dumps(parse_payload(f).task_id) for f in stream_frames(original)})
    # The SDK's view is paired with each frame, as for a chat reply.
    ins = inspect(again)
    assert len(again.events) == len(ins.rows) and all(row.sdk for row in ins.rows)
    comparison = compare(inspect(original), ins)
    assert comparison.same_events and comparison.differences == ()
    assert comparison.headline == f"Same {len(ins.rows)} events (kinds, states and text)."
    assert comparison.original.verdict == comparison.replay.verdict == "valid"
    assert comparison.replay.first_event_ms is not None and comparison.replay.total_ms
    # Credentials came from the session again (the recorded ones were masked).
    sent = dict((k.lower(), v) for k, v in again.exchanges[0].request_headers)
    assert sent["authorization"] == "[redacted]"
    if binding == "GRPC":
        assert again.exchanges[0].protocol == "grpc" and again.exchanges[0].reason == "OK"
    else:
        assert sent["a2a-version"] == "1.0" and again.exchanges[0].status == 200


@pytest.mark.parametrize("binding", ALL_BINDINGS)
def test_an_edited_replay_shows_its_differences(runtime, demo_agent, binding):
    agent.connect(runtime, demo_agent.url, binding)
    list(agent.send_message(runtime, demo_agent.url, "Search for A2A news"))
    original = resources.recorder(runtime).streams()[-1]
    body = original.exchanges[0].request_body.replace("Search for A2A news", "hello")
    again = replayed(runtime, original, body)

    comparison = compare(inspect(original), inspect(again))
    assert not comparison.same_events
    assert comparison.differences[0] == (
        f"The original has {len(comparison.pairs)} events, the replay 1."
    )
    assert comparison.differences[1] == "event 0: task vs message."
    assert len(comparison.differences) == 21 and comparison.differences[-1].endswith(
        "more differences."
    )
    assert comparison.pairs[0].original == "task (submitted)"
    assert comparison.pairs[0].replay == "message"


def test_what_cannot_be_replayed_says_why(runtime, demo_agent):
    list(agent.send_message(runtime, demo_agent.url, "hello"))
    original = resources.recorder(runtime).streams()[-1]
    with pytest.raises(NotReplayable, match="The request body is not JSON"):
        replay_request(original, "{not json")
    with pytest.raises(NotReplayable, match="read from a file"):
        replay_request(StreamRecord(9, "x", demo_agent.url, imported_frames=[]))
    with pytest.raises(NotReplayable, match="went over WEBSOCKET"):
        replay_request(StreamRecord(9, "x", demo_agent.url, binding="WEBSOCKET"))
    with pytest.raises(NotReplayable, match="recorded no HTTP request"):
        replay_request(StreamRecord(9, "x", demo_agent.url))


# --- copy as curl --------------------------------------------------------------------------


def sse_texts(output: str) -> list[str]:
    """The text of each event in curl's SSE output (JSON-RPC or HTTP+JSON)."""
    found = []
    for line in output.splitlines():
        if line.startswith("data:"):
            value = json.loads(line[5:])
            value = value.get("result", value)
            message = value.get("message", {})
            found.append("".join(p.get("text", "") for p in message.get("parts", [])))
    return found


@pytest.mark.skipif(shutil.which("curl") is None, reason="the curl binary is not installed")
@pytest.mark.parametrize("binding", BINDINGS)
def test_the_curl_command_gets_the_same_answer_without_holding_the_token(guarded_agent, binding):
    runtime = session_for(guarded_agent.url)
    try:
        agent.connect(runtime, guarded_agent.url, binding)
        list(agent.send_message(runtime, guarded_agent.url, "hello"))
        recorder = resources.recorder(runtime)
        original = recorder.streams()[-1]
        command = curl_command(original.exchanges[0], recorder.redactor, binding=binding)
    finally:
        runtime.close()

    assert TOKEN not in command
    assert '-H "Authorization: Bearer $A2A_TOKEN"' in command
    assert command.startswith("curl -sS -N \\\n")
    env = {**os.environ, "A2A_TOKEN": TOKEN}
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    expected = [p.text for p in (parse_payload(f) for f in stream_frames(original))]
    assert expected[0].startswith('You said: "hello".')
    assert sse_texts(done.stdout) == expected
    # Without the token the agent refuses: the placeholder is what carries it.
    refused = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env={**os.environ, "A2A_TOKEN": "wrong"},
        timeout=30,
        check=False,
    )
    assert sse_texts(refused.stdout) == []


def test_curl_placeholders_quoting_and_refusals():
    redactor = Redactor(["s3cret-value"])
    exchange = Exchange(
        1,
        "POST",
        "http://127.0.0.1:9/rpc?key=s3cret-value",
        redactor.headers(
            [
                ("Host", "127.0.0.1:9"),
                ("Authorization", "Bearer s3cret-value"),
                ("X-API-Key", "k3y-value"),
                ("A2A-Version", "1.0"),
            ]
        ),
        redactor.text('{"text": "it\'s $HOME and s3cret-value"}'),
        0.0,
    )
    command = curl_command(exchange, redactor)
    assert command == (
        "curl -sS \\\n"
        "  'http://127.0.0.1:9/rpc?key='\"$A2A_SECRET\" \\\n"
        '  -H "Authorization: Bearer $A2A_TOKEN" \\\n'
        '  -H "X-API-Key: $A2A_API_KEY" \\\n'
        "  -H 'A2A-Version: 1.0' \\\n"
        '  --data-raw \'{"text": "it\'"\'"\'s $HOME and \'"$A2A_SECRET"\'"}\''
    )
    assert "s3cret" not in command and "k3y" not in command
    assert placeholder_for("X-Goog-Api-Key") == "A2A_API_KEY"
    assert placeholder_for("Cookie") == "A2A_COOKIE"
    grpc = Exchange(2, "POST", "http://127.0.0.1:9/a2a.v1.A2AService/SendMessage", [], "", 0.0)
    with pytest.raises(CurlUnavailable, match="is a gRPC call, so curl cannot repeat it"):
        curl_command(grpc, redactor, binding="GRPC")
    with pytest.raises(CurlUnavailable, match="not an HTTP request"):
        curl_command(Exchange(3, "POST", "grpc://127.0.0.1:9", [], "", 0.0), redactor)


# --- the Streaming inspector's UI ------------------------------------------------------------


def test_the_inspector_replays_a_stream_and_shows_both_side_by_side(monkeypatch, guarded_agent):
    monkeypatch.setenv("A2A_AGENT_URL", guarded_agent.url)
    monkeypatch.setenv("A2A_AGENT_TOKEN", TOKEN)
    at = AppTest.from_file(APP, default_timeout=30)
    try:
        at.run()
        send(at, "Search for A2A news")
        at.switch_page(INSPECTOR).run()
        assert not at.exception
        commands = [c.value for c in at.code if c.language == "bash"]
        assert len(commands) == 1 and commands[0].startswith("curl -sS -N")
        assert '"Authorization: Bearer $A2A_TOKEN"' in commands[0]

        at.button(key="inspector_replay").click().run()
        assert not at.exception and not at.error
        shown = everything_shown(at)
        assert "Same 47 events (kinds, states and text)." in shown
        assert "**Original #1**" in shown and "**Replay #2**" in shown
        pairs = at.dataframe[-1].value
        assert len(pairs) == 47 and set(pairs["match"]) == {"same"}
        streams = at.session_state["traffic_recorder"].streams()
        assert [s.label for s in streams] == ["Search for A2A news", "Replay of #1"]

        # The replay's own page shows the same comparison, and its own curl command.
        at.selectbox(key="inspector_stream").set_value(2).run()
        assert "Same 47 events (kinds, states and text)." in everything_shown(at)

        # An edited body: the differences, highlighted.
        at.selectbox(key="inspector_stream").set_value(1).run()
        area = at.text_area(key="inspector_replay_body_1")
        area.set_value(area.value.replace("Search for A2A news", "hello")).run()
        at.button(key="inspector_replay").click().run()
        shown = everything_shown(at)
        assert "47 of 47 events differ." in shown
        assert "- event 0: task vs message." in shown
        assert "≠ differs" in set(at.dataframe[-1].value["match"])

        everything = shown + "\n".join(str(t.value) for t in at.text_area)
        everything += "\n".join(c.value for c in at.code)
        assert TOKEN not in everything
    finally:
        close_runtime(at)


def test_a_broken_replay_body_is_one_sentence_and_sends_nothing(app):
    app.run()
    send(app, "hello")
    app.switch_page(INSPECTOR).run()
    app.text_area(key="inspector_replay_body_1").set_value("{oops").run()
    app.button(key="inspector_replay").click().run()
    assert not app.exception
    assert [e.value for e in app.error][0].startswith("The request body is not JSON")
    assert len(app.session_state["traffic_recorder"].streams()) == 1
