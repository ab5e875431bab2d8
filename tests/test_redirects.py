"""Redirects over real HTTP on loopback: credentials stay with their own origin, and the
allow list holds on every hop (issue 18, issue 11)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from services.client import agent, resources
from services.client.allowlist import AllowList
from services.client.auth import Credentials, OriginCredentials
from services.demo_agent import VISITOR_HEADER, LoopbackServer
from services.errors import AgentError, NotAllowed
from services.runtime import SessionRuntime
from tests.agents import (
    header_recorder,
    moved_card_agent,
    redirecting_agent,
    redirecting_rpc_agent,
    scripted_app,
)

CREDENTIALS = Credentials(
    bearer_token="bearer-secret-1",
    api_key="apikey-secret-2",
    api_key_header="X-Api-Key",
    headers=(("X-Tenant", "tenant-secret-3"),),
)
VISITOR = "visitor-secret-4"
SECRETS = ("bearer-secret-1", "apikey-secret-2", "tenant-secret-3", VISITOR)
REPLY = [{"message": {"messageId": "m1", "role": "ROLE_AGENT", "parts": [{"text": "second"}]}}]


@contextmanager
def session_for(url: str, allow: AllowList | None = None) -> Iterator[SessionRuntime]:
    """A real session runtime with the user's credentials (and the app's fixed visitor
    header) saved for `url`'s origin only."""
    credentials = OriginCredentials()
    credentials.set(url, CREDENTIALS)
    credentials.set_fixed_headers(url, ((VISITOR_HEADER, VISITOR),))
    runtime = resources.configure(SessionRuntime(label="redirects"), auth=credentials, allow=allow)
    try:
        yield runtime
    finally:
        runtime.close()


def carries_credentials(headers: dict[str, str]) -> bool:
    return (
        headers.get("authorization") == "Bearer bearer-secret-1"
        and headers.get("x-api-key") == "apikey-secret-2"
        and headers.get("x-tenant") == "tenant-secret-3"
        and headers.get(VISITOR_HEADER.lower()) == VISITOR
    )


def leaked(seen: list[dict[str, str]]) -> list[str]:
    return [f"{name}: {value}" for h in seen for name, value in h.items()
            if name and any(secret in value for secret in SECRETS)]  # fmt: skip


@pytest.mark.timeout(30)
def test_no_credential_follows_a_card_redirect_to_another_origin():
    first_seen: list[dict[str, str]] = []
    second_seen: list[dict[str, str]] = []
    with (
        LoopbackServer(header_recorder(scripted_app(REPLY), second_seen)) as second,
        LoopbackServer(header_recorder(redirecting_agent(second.url), first_seen)) as first,
        session_for(first.url) as runtime,
    ):
        info = agent.connect(runtime, first.url)
    assert info.name == "Scripted Agent"  # the card came from the second origin
    assert first_seen and all(carries_credentials(h) for h in first_seen)
    assert second_seen and not leaked(second_seen), leaked(second_seen)


@pytest.mark.timeout(30)
def test_no_credential_follows_a_message_redirect_to_another_origin():
    first_seen: list[dict[str, str]] = []
    second_seen: list[dict[str, str]] = []
    with LoopbackServer(header_recorder(scripted_app(REPLY), second_seen)) as second:
        moved = redirecting_rpc_agent(f"{second.url}/")
        with (
            LoopbackServer(header_recorder(moved, first_seen)) as first,
            session_for(first.url) as runtime,
        ):
            agent.connect(runtime, first.url)
            events = list(agent.send_message(runtime, first.url, "hello"))
    assert [p.text for p in events[-1].parts] == ["second"]  # the POST was followed
    assert [h[""] for h in first_seen] == ["/.well-known/agent-card.json", "/rpc"]
    assert all(carries_credentials(h) for h in first_seen)
    assert [h[""] for h in second_seen] == ["/"] and not leaked(second_seen)


@pytest.mark.timeout(30)
def test_a_redirect_on_the_same_origin_keeps_the_credentials():
    seen: list[dict[str, str]] = []
    with (
        LoopbackServer(header_recorder(moved_card_agent, seen)) as server,
        session_for(server.url) as runtime,
    ):
        info = agent.connect(runtime, f"{server.url}/old")
    assert info.name == "Moved Card Agent"
    assert [h[""] for h in seen] == [
        "/old/.well-known/agent-card.json",
        "/.well-known/agent-card.json",
    ]
    assert all(carries_credentials(h) for h in seen)


@pytest.mark.timeout(30)
def test_an_encoded_dot_segment_redirect_cannot_leave_the_allowed_prefix():
    seen: list[dict[str, str]] = []
    escape = redirecting_agent("/a2a/%2E%2E/admin")
    with LoopbackServer(header_recorder(escape, seen)) as server:
        allow = AllowList([f"{server.url}/a2a"])
        with session_for(server.url, allow) as runtime, pytest.raises(NotAllowed) as refused:
            agent.connect(runtime, f"{server.url}/a2a")
    assert "was stopped" in str(refused.value)
    assert [h[""] for h in seen] == ["/a2a/.well-known/agent-card.json"]  # the hop never left


@pytest.mark.timeout(30)
def test_an_encoded_dot_segment_url_is_refused_before_any_request():
    seen: list[dict[str, str]] = []
    with LoopbackServer(header_recorder(scripted_app(REPLY), seen)) as server:
        allow = AllowList([f"{server.url}/a2a"])
        with session_for(server.url, allow) as runtime, pytest.raises(NotAllowed):
            agent.connect(runtime, f"{server.url}/a2a/%2e%2e/admin")
    assert seen == []


# --- what is left for errors.translate: agent-made failures get their own sentence -------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("target", "sentence"),
    [
        ("ftp://127.0.0.1/card.json", "redirected to an address that is not an http(s) URL"),
        ("/loop", "redirected too many times"),
    ],
)
def test_a_redirect_nowhere_useful_gets_a_sentence_not_failed_unexpectedly(target, sentence):
    with LoopbackServer(redirecting_agent(target)) as server, session_for(server.url) as rt:
        with pytest.raises(AgentError) as error:
            agent.connect(rt, server.url)
    assert sentence in str(error.value) and "unexpectedly" not in str(error.value)
