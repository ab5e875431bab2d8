"""The A2A client service against real agents on loopback (the demo agent and test agents)."""

from __future__ import annotations

import time

import pytest

from services.client import agent, resources
from services.client.auth import Credentials, OriginCredentials
from services.demo_agent import LONG_ANSWER, DemoAgentServer, LoopbackServer, build_app
from services.errors import (
    AgentError,
    AgentUnreachable,
    InvalidCard,
    InvalidUrl,
    NotAnAgent,
    StreamBroken,
)
from services.replies import Conversation, Reply, ReplyEvent
from services.runtime import SessionRuntime
from tests.agents import (
    bad_card_app,
    broken_stream_app,
    header_spy,
    html_app,
    legacy_card_app,
    not_found_app,
)
from tests.conftest import FAST


def ask(runtime: SessionRuntime, url: str, conversation: Conversation, text: str) -> Reply:
    """Send `text` in `conversation` and read the whole reply, as the Chat page does."""
    context_id, task_id = conversation.context_id, conversation.task_id
    conversation.add_user(text)
    reply = conversation.add_reply()
    stream = agent.send_message(runtime, url, text, context_id=context_id, task_id=task_id)
    for event in stream:
        reply.apply(event)
    reply.finish()
    return reply


def test_long_answer_arrives_complete_and_in_order(runtime, demo_agent):
    stream = agent.send_message(runtime, demo_agent.url, "Explain how A2A streaming works")
    events: list[ReplyEvent] = list(stream)

    chunks = [e for e in events if e.kind == "artifact"]
    assert "".join(e.text for e in chunks) == LONG_ANSWER
    assert [e.append for e in chunks] == [False] + [True] * (len(chunks) - 1)
    assert [e.last_chunk for e in chunks] == [False] * (len(chunks) - 1) + [True]
    times = [e.received_at for e in events]
    assert times == sorted(times)
    assert [e.kind for e in events[:2]] == ["task", "status"]
    assert events[-1].kind == "status" and events[-1].state == "completed"

    reply = Reply()
    for event in events:
        reply.apply(event)
    assert reply.text == LONG_ANSWER
    assert reply.state == "completed" and reply.settled


def test_multi_turn_keeps_the_context(runtime, demo_agent):
    conversation = Conversation()
    ask(runtime, demo_agent.url, conversation, "My name is Zed")
    context_id = conversation.context_id
    assert context_id

    reply = ask(runtime, demo_agent.url, conversation, "What is my name?")
    assert reply.text == "Your name is Zed."
    assert reply.context_id == context_id

    fresh = ask(runtime, demo_agent.url, Conversation(), "What is my name?")
    assert "haven't told me" in fresh.text
    assert fresh.context_id != context_id


def test_input_required_continues_the_same_task(runtime, demo_agent):
    conversation = Conversation()
    first = ask(runtime, demo_agent.url, conversation, "Book a trip")
    assert first.state == "input-required"
    assert first.text == "Where would you like to go?"
    assert conversation.task_id == first.task_id

    second = ask(runtime, demo_agent.url, conversation, "Lisbon")
    assert second.task_id == first.task_id
    assert second.state == "input-required"
    assert second.text == "How many nights will you stay?"

    third = ask(runtime, demo_agent.url, conversation, "4")
    assert third.task_id == first.task_id
    assert third.state == "completed"
    assert "4 night(s) in Lisbon" in third.text
    assert conversation.task_id == ""  # nothing waits for an answer any more


def test_stop_cancels_the_task_within_two_seconds(runtime, demo_agent):
    stream = agent.send_message(runtime, demo_agent.url, "Run a slow task")
    reply = Reply()
    events = iter(stream)
    for event in events:
        reply.apply(event)
        if reply.artifacts:
            break
    assert reply.state == "working"

    started = time.monotonic()
    state = agent.cancel_task(runtime, demo_agent.url, reply.task_id)
    for event in events:  # the rest of the stream: the agent's canceled status
        reply.apply(event)
    ended = time.monotonic() - started

    assert state == "canceled"
    assert reply.state == "canceled"
    assert ended < 2.0
    assert len(reply.artifacts[f"{reply.task_id}-progress"].text.split("Step")) < 5


def test_an_agent_without_streaming_is_polled_until_done(runtime):
    with DemoAgentServer(timing=FAST, streaming=False) as server:
        info = agent.connect(runtime, server.url)
        assert info.streaming is False
        events = list(agent.send_message(runtime, server.url, "Search for polling"))

    assert events[0].kind == "task" and events[0].state in ("submitted", "working")
    assert len(events) >= 2, "an unfinished task must be polled with GetTask"
    reply = Reply()
    for event in events:
        reply.apply(event)
    assert reply.state == "completed"
    assert "Results for 'polling'" in reply.text


def test_card_from_base_url_and_from_full_card_url(runtime, demo_agent):
    from_base = agent.connect(runtime, demo_agent.url)
    card_url = f"{demo_agent.url}/.well-known/agent-card.json"
    from_card = agent.connect(runtime, card_url)

    assert from_base.card_url == card_url
    assert from_card.card_url == card_url
    assert from_base.name == from_card.name == "A2A Demo Agent"
    assert from_base.binding == "JSONRPC" and from_base.protocol_version == "1.0"
    assert any("Book a trip" in s.examples for s in from_base.skills)


def test_legacy_card_path_and_a_v03_agent(runtime, demo_agent):
    with LoopbackServer(legacy_card_app(f"{demo_agent.url}/")) as legacy:
        info = agent.connect(runtime, legacy.url)
        assert info.card_url == f"{legacy.url}/.well-known/agent.json"
        assert info.name == "Legacy Agent"
        assert info.protocol_version == "0.3.0"
        # The SDK's compat transport speaks 0.3 to the demo agent's compat endpoint.
        reply = ask(runtime, legacy.url, Conversation(), "My name is Old")
    assert reply.text.startswith("Nice to meet you, Old")


@pytest.mark.parametrize(
    ("app", "error", "sentence"),
    [
        (not_found_app, NotAnAgent, "No agent card found at"),
        (html_app, NotAnAgent, "returned a web page or other non-JSON content"),
        (bad_card_app, InvalidCard, "is not a valid A2A card"),
    ],
)
def test_not_an_agent_raises_a_clear_error(runtime, app, error, sentence):
    with LoopbackServer(app) as server, pytest.raises(error) as raised:
        agent.connect(runtime, server.url)
    assert sentence in str(raised.value)
    assert raised.value.__cause__ is not None
    assert str(raised.value).endswith(".")


def test_unreachable_agent_raises_a_clear_error(runtime):
    with LoopbackServer(not_found_app) as server:
        url = server.url
    # The server is gone, so nothing listens on its port now.
    with pytest.raises(AgentUnreachable) as raised:
        agent.connect(runtime, url)
    assert str(raised.value) == (
        f"Could not reach the agent at {url}. Check that it is running and the URL is right."
    )
    assert "ConnectError" in raised.value.detail


def test_a_malformed_url_is_refused(runtime):
    with pytest.raises(InvalidUrl, match="is not an http"):
        agent.connect(runtime, "ftp//nowhere")


def test_a_json_rpc_error_becomes_an_agent_error(runtime, demo_agent):
    # Continuing a task the agent does not know: it answers a JSON-RPC error object.
    stream = agent.send_message(runtime, demo_agent.url, "hello", task_id="no-such-task")
    with pytest.raises(AgentError, match="The agent no longer knows this task"):
        list(stream)
    # The session's runtime and client still work afterwards.
    assert "You said" in ask(runtime, demo_agent.url, Conversation(), "hello").text


def test_a_stream_that_dies_keeps_what_arrived_and_the_next_message_works(runtime):
    with LoopbackServer(broken_stream_app) as server:
        reply = Reply()
        with pytest.raises(StreamBroken) as raised:
            for event in agent.send_message(runtime, server.url, "first"):
                reply.apply(event)
        assert "closed the connection before the reply finished" in str(raised.value)
        assert reply.text == "Partial answer"  # what arrived before the drop
        assert not reply.settled

        after = list(agent.send_message(runtime, server.url, "second"))
    assert [e.text for e in after] == ["Whole answer"]


def test_a_configured_token_goes_to_its_agent_only(demo_agent):
    seen_mine: list[str] = []
    seen_other: list[str] = []
    mine = LoopbackServer(header_spy(lambda url: build_app(url, FAST), seen_mine))
    other = LoopbackServer(header_spy(lambda url: build_app(url, FAST), seen_other))
    credentials = OriginCredentials()
    credentials.set(mine.url, Credentials(bearer_token="tok-abc123"))
    runtime = resources.configure(SessionRuntime(label="auth"), auth=credentials)
    try:
        for server in (mine, other):
            list(agent.send_message(runtime, server.url, "hello"))
    finally:
        runtime.close()
        mine.stop()
        other.stop()
    assert set(seen_mine) == {"Bearer tok-abc123"}  # the card fetch and the message
    assert set(seen_other) == {""}  # never to another origin
