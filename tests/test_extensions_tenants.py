"""A2A extensions and tenants, against real demo agents on loopback: the card's extensions
listed (required flagged), activated per conversation and sent in `A2A-Extensions`, the
agent's activated ones under the reply, a required one left off stopping the send, the
choice kept in the workspace; a tenant on every request over JSON-RPC and HTTP+JSON, each
tenant's tasks apart."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui.conversations import SETTINGS_KEY
from services.client import agent, tasks
from services.client.extensions import card_extensions
from services.demo_agent import DemoAgentServer, LoopbackServer, build_app
from services.demo_agent.extensions import AUDIT_URI, TIMESTAMPS_URI
from services.errors import AppError
from services.runtime import SessionRuntime
from services.session import _store as session_store
from tests.agents import header_spy
from tests.conftest import APP, FAST, close_runtime
from tests.test_app import conversation, last_bubble, send

TENANTS = ("acme", "globex")


@pytest.fixture(scope="module")
def strict_agent() -> Iterator[DemoAgentServer]:
    """The demo agent whose card marks the audit extension required."""
    with DemoAgentServer(timing=FAST, required_extension=True) as server:
        yield server


@pytest.fixture(scope="module")
def tenant_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=FAST, tenants=TENANTS) as server:
        yield server


def open_app(monkeypatch: pytest.MonkeyPatch, url: str, workspace: str = "") -> AppTest:
    monkeypatch.setenv("A2A_AGENT_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    if workspace:
        at.session_state["workspace_id"] = workspace
    return at.run()


def activate(at: AppTest, *uris: str) -> None:
    """Choose the conversation's extensions in its Advanced options."""
    at.session_state[SETTINGS_KEY] = True  # the popover is open: its content drawn
    at.run()
    at.multiselect(key=f"chat_extensions_{conversation(at).id}").set_value(list(uris)).run()


def flush() -> None:
    store = session_store._store_slot().store
    assert store is not None and store.flush(10)


# --- extensions ------------------------------------------------------------------------------


def test_the_card_declares_two_extensions_and_the_sidebar_lists_them_required_flagged(
    monkeypatch, demo_agent, strict_agent, runtime
):
    normal = card_extensions(agent.connect(runtime, demo_agent.url).card)
    assert [(e.uri, e.required) for e in normal] == [(TIMESTAMPS_URI, False), (AUDIT_URI, False)]
    strict = card_extensions(agent.connect(runtime, strict_agent.url).card)
    assert [(e.uri, e.required) for e in strict] == [(TIMESTAMPS_URI, False), (AUDIT_URI, True)]
    assert all(e.description for e in strict)

    at = open_app(monkeypatch, strict_agent.url)
    try:
        assert not at.exception
        expander = next(e for e in at.sidebar.expander if e.label.startswith("Extensions"))
        assert expander.label == "Extensions: 2, 1 required"
        lines = [str(m.value) for m in expander.markdown]
        assert any("required" in line and AUDIT_URI in line for line in lines), lines
        assert any("optional" in line and TIMESTAMPS_URI in line for line in lines), lines
    finally:
        close_runtime(at)


def test_an_activated_extension_goes_in_the_header_and_the_reply_names_what_was_activated(
    monkeypatch,
):
    seen: list[str] = []
    spied = header_spy(lambda url: build_app(url, FAST), seen, header="A2A-Extensions")
    with LoopbackServer(spied) as server:
        at = open_app(monkeypatch, server.url)
        try:
            send(at, "hello")  # nothing activated: no header, no caption
            assert "You said" in last_bubble(at)
            assert "extensions:" not in last_bubble(at)
            assert not any(seen)

            activate(at, TIMESTAMPS_URI)
            assert conversation(at).extensions == [TIMESTAMPS_URI]
            send(at, "hello again")
            assert TIMESTAMPS_URI in seen  # the message's request carried it
            assert "extensions: timestamps/v1" in last_bubble(at)
            reply = conversation(at).last_reply
            assert reply is not None and reply.extensions == [TIMESTAMPS_URI]
            record = at.session_state["traffic_recorder"].streams()[-1]
            assert ("a2a-extensions", TIMESTAMPS_URI) in record.exchanges[
                0
            ].request_headers  # as the inspector recorded it
            body = b"".join(chunk for _, chunk in record.exchanges[0].chunks)
            assert TIMESTAMPS_URI.encode() in body and b"sentAt" in body  # the agent stamped it
        finally:
            close_runtime(at)


def test_a_required_extension_left_off_gets_one_sentence_and_nothing_is_sent(
    monkeypatch, strict_agent
):
    at = open_app(monkeypatch, strict_agent.url)
    try:
        recorded = len(at.session_state["traffic_recorder"].streams())
        send(at, "hello")
        errors = [str(e.value) for e in at.error]
        assert errors == [
            f"Not sent: This agent requires the extension {AUDIT_URI}: activate it in the "
            "conversation's options (Advanced)."
        ]
        assert conversation(at).turns == []  # the message was not added...
        assert len(at.session_state["traffic_recorder"].streams()) == recorded  # ...nor sent

        activate(at, AUDIT_URI)
        send(at, "hello")
        assert not at.error
        assert "You said" in last_bubble(at)
        assert "extensions: audit/v1" in last_bubble(at)
    finally:
        close_runtime(at)


def test_the_extension_choice_survives_a_new_session_of_the_workspace(monkeypatch, demo_agent):
    workspace = f"ext-{secrets.token_hex(8)}"
    first = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        activate(first, TIMESTAMPS_URI, AUDIT_URI)
        send(first, "hello")
        conversation_id = conversation(first).id
        flush()
    finally:
        close_runtime(first)

    again = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        assert conversation(again).id == conversation_id
        assert conversation(again).extensions == [TIMESTAMPS_URI, AUDIT_URI]
        assert "extensions: audit/v1, timestamps/v1" in last_bubble(again)  # the kept reply
        again.session_state[SETTINGS_KEY] = True
        again.run()
        chosen = again.multiselect(key=f"chat_extensions_{conversation_id}").value
        assert chosen == [TIMESTAMPS_URI, AUDIT_URI]
    finally:
        close_runtime(again)


# --- tenants ---------------------------------------------------------------------------------


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON", "GRPC"])
def test_a_tenant_goes_on_every_request_and_each_tenant_has_its_own_tasks(tenant_agent, binding):
    acme, globex = SessionRuntime(label="acme"), SessionRuntime(label="globex")
    try:
        agent.connect(acme, tenant_agent.url, binding, tenant="acme")
        agent.connect(globex, tenant_agent.url, binding, tenant="globex")
        events = list(agent.send_message(acme, tenant_agent.url, "Book a trip"))
        task_id = events[-1].task_id
        assert task_id and events[-1].state == "input-required"

        assert tasks.get_task(acme, tenant_agent.url, task_id).id == task_id
        with pytest.raises(AppError):
            tasks.get_task(globex, tenant_agent.url, task_id)  # another tenant's task
        assert task_id in [t.id for t in tasks.list_tasks(acme, tenant_agent.url).tasks]
        assert task_id not in [t.id for t in tasks.list_tasks(globex, tenant_agent.url).tasks]

        # On the wire: JSON-RPC in params, HTTP+JSON in the path, gRPC in the message.
        sent = [e for r in _recorder(acme).streams() for e in r.exchanges]
        assert sent
        for exchange in sent:
            if binding == "JSONRPC":
                assert exchange.request_json["params"]["tenant"] == "acme"
            elif binding == "GRPC":
                assert exchange.protocol == "grpc" and exchange.request_json["tenant"] == "acme"
            else:
                assert "/rest/acme/" in exchange.url
    finally:
        acme.close()
        globex.close()


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON", "GRPC"])
def test_an_unknown_tenant_or_none_gets_a_clear_error(tenant_agent, runtime, binding):
    for tenant, named in (("initech", "tenant 'initech'"), ("", "no tenant")):
        agent.connect(runtime, tenant_agent.url, binding, tenant=tenant)
        with pytest.raises(AppError) as raised:
            list(agent.send_message(runtime, tenant_agent.url, "hello"))
        assert str(raised.value).startswith(
            f"The agent returned an error: Unknown tenant: the request names {named}; "
            "this agent serves the tenants acme, globex."
        )


def test_the_tenant_from_secrets_and_the_sidebar_is_used_and_kept(
    monkeypatch, demo_agent, tenant_agent
):
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["agents"] = [{"url": tenant_agent.url, "name": "Tenanted", "tenant": "acme"}]
    key = f"sidebar_tenant_{tenant_agent.url}"
    try:
        at.run()
        assert at.sidebar.text_input(key=key).value == "acme"
        send(at, "hello")
        assert "You said" in last_bubble(at)
        at.sidebar.text_input(key=key).set_value("globex").run()
        assert at.session_state["workspace"].agent.tenant == "globex"
        send(at, "hello")
        assert "You said" in last_bubble(at)
        records = at.session_state["traffic_recorder"].streams()
        assert [r.exchanges[0].request_json["params"]["tenant"] for r in records] == [
            "acme",
            "globex",
        ]
    finally:
        close_runtime(at)

    # An agent added in the session keeps its tenant in the workspace.
    workspace = f"tenant-{secrets.token_hex(8)}"
    first = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        first.sidebar.text_input(key="sidebar_agent_url").set_value(tenant_agent.url)
        next(b for b in first.sidebar.button if b.label == "Connect").click().run()
        assert first.session_state["workspace"].current == tenant_agent.url
        first.sidebar.text_input(key=key).set_value("globex").run()
        send(first, "hello")
        assert "You said" in last_bubble(first)
        flush()
    finally:
        close_runtime(first)
    again = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        assert again.session_state["workspace"].agents[tenant_agent.url].tenant == "globex"
        assert again.sidebar.text_input(key=key).value == "globex"
        send(again, "hello")
        assert "You said" in last_bubble(again)
    finally:
        close_runtime(again)


def _recorder(runtime: SessionRuntime):  # noqa: ANN202 - a test helper
    from services.client import resources

    return resources.recorder(runtime)


def test_extensions_are_read_from_the_card_json_defensively():
    card = {
        "capabilities": {
            "extensions": [
                {"uri": "https://x/ext/a/v1", "required": True},
                {"uri": 5},
                "nonsense",
                {"description": "no uri"},
            ]
        }
    }
    assert [(e.uri, e.required) for e in card_extensions(card)] == [("https://x/ext/a/v1", True)]
    assert card_extensions({"capabilities": "x"}) == ()
    assert json.loads(json.dumps(card))  # plain JSON in, plain data out


def test_an_activated_extension_goes_as_grpc_metadata_and_the_agent_stamps_its_events(
    demo_agent, runtime
):
    agent.connect(runtime, demo_agent.url, "GRPC")
    options = agent.SendOptions(extensions=(TIMESTAMPS_URI,))
    events = list(agent.send_message(runtime, demo_agent.url, "hello", options=options))
    assert events and "You said" in events[-1].text
    record = _recorder(runtime).streams()[-1]
    exchange = record.exchanges[0]
    assert exchange.protocol == "grpc"
    assert ("a2a-extensions", TIMESTAMPS_URI) in exchange.request_headers
    body = b"".join(chunk for _, chunk in exchange.chunks)
    assert TIMESTAMPS_URI.encode() in body and b"sentAt" in body  # the agent stamped them


def test_a_rebuilt_runtime_connects_the_agent_as_before(tenant_agent):
    from services.client import resources

    connected: dict[str, resources.ConnectOptions] = {}  # the session's, across runtimes
    first = resources.configure(SessionRuntime(label="before"), connected=connected)
    try:
        agent.connect(first, tenant_agent.url, "HTTP+JSON", tenant="acme")
        task_id = list(agent.send_message(first, tenant_agent.url, "Book a trip"))[-1].task_id
    finally:
        first.close()
    rebuilt = resources.configure(SessionRuntime(label="rebuilt"), connected=connected)
    try:
        # No connect: the first call makes the client again, with its binding and tenant
        # (without the tenant this agent refuses the call: "Unknown tenant").
        assert tasks.get_task(rebuilt, tenant_agent.url, task_id).id == task_id
        assert resources.connections(rebuilt)[tenant_agent.url].info.binding == "HTTP+JSON"
    finally:
        rebuilt.close()
