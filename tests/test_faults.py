"""Faults and hostile agents, through the whole app (AppTest), each bounded in time.

For each fault: one clear sentence in the reply, the partial reply kept, the inspector
showing what arrived, the next message working, and no exception on the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from streamlit.testing.v1 import AppTest

from services.demo_agent import DemoAgentServer, LoopbackServer
from services.safe_text import plain, safe_markdown
from tests.agents import bad_card_app, html_app, not_found_app, scripted_app
from tests.conftest import APP, FAST, close_runtime
from tests.test_app import conversation, last_bubble, send

TASK = {"task": {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING"}}}


def chunk(text: str, *, append: bool = False, last: bool = False) -> dict:
    return {
        "artifactUpdate": {
            "taskId": "t1",
            "contextId": "c1",
            "artifact": {"artifactId": "a1", "parts": [{"text": text}]},
            "append": append,
            "lastChunk": last,
        }
    }


DONE = {"statusUpdate": {"taskId": "t1", "contextId": "c1",
                         "status": {"state": "TASK_STATE_COMPLETED"}}}  # fmt: skip
WHOLE = [{"message": {"messageId": "m2", "contextId": "c1", "role": "ROLE_AGENT",
                      "parts": [{"text": "Whole answer"}]}}]  # fmt: skip
RPC_ERROR = '{"jsonrpc": "2.0", "id": "x", "error": {"code": -32603, "message": "agent exploded"}}'


@contextmanager
def app_on(server_url: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[AppTest]:
    monkeypatch.setenv("A2A_AGENT_URL", server_url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=60)
    try:
        at.run()
        yield at
    finally:
        close_runtime(at)


FAULTS = [
    # (name, script, sentence the reply shows, env)
    ("dies mid-stream", [TASK, chunk("Partial answer"), "", 0.05, "<cut>"],
     "The agent closed the connection before the reply finished", {}),
    ("stalls past the read timeout", [TASK, chunk("Partial answer"), 30.0, DONE],
     "stopped answering (timed out)", {"A2A_READ_TIMEOUT": "1"}),
    ("sends data that is not JSON", [TASK, chunk("Partial answer"), "{not json"],
     "The agent sent data that is not valid A2A JSON", {}),
    ("sends a JSON-RPC error", [TASK, chunk("Partial answer"), RPC_ERROR],
     "The agent returned an error: agent exploded", {}),
]  # fmt: skip


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("name", "script", "sentence", "env"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_mid_reply(monkeypatch, name, script, sentence, env):
    cut = script[-1] == "<cut>"
    script = [s for s in script if s != "<cut>"]
    factory = scripted_app(script, later=WHOLE)
    if cut:
        factory = _cut_after(factory, frames=2)
    with LoopbackServer(factory) as server, app_on(server.url, monkeypatch, **env) as at:
        send(at, "go")
        assert not at.exception
        bubble = at.chat_message[-1]
        assert [e.value for e in bubble.markdown][0] == "Partial answer"  # kept
        assert bubble.error and sentence in bubble.error[0].value  # one sentence
        assert bubble.expander[0].label == "Details"  # the detail, folded

        at.switch_page("app_pages/inspector.py").run()
        rows = at.dataframe[0].value
        assert list(rows["kind"])[:2] == ["task", "artifact"]  # what arrived is shown
        at.switch_page("app_pages/chat.py").run()

        send(at, "again")
        assert not at.exception
        assert "Whole answer" in last_bubble(at)
        assert "Partial answer" in "\n".join(m.value for m in at.markdown)


def _cut_after(factory, frames: int):
    """Wrap a scripted agent so its first stream's TCP body ends after `frames` frames."""

    def cutting(base_url: str) -> Starlette:
        inner = factory(base_url)

        async def app(scope, receive, send):
            if scope["type"] != "http" or scope["method"] != "POST" or cutting.done:
                await inner(scope, receive, send)
                return
            cutting.done = True
            count = 0

            async def counting_send(message):
                nonlocal count
                await send(message)
                if message["type"] == "http.response.body":
                    count += message.get("body", b"").count(b"\n\n")
                    if count >= frames:
                        raise ConnectionResetError("the agent died mid-stream (on purpose)")

            await inner(scope, receive, counting_send)

        return app

    cutting.done = False
    return cutting


@pytest.mark.timeout(60)
def test_a_slow_drip_of_one_event_every_two_seconds_arrives_whole(monkeypatch):
    script = [TASK, chunk("one "), 2.0, chunk("two ", append=True), 2.0,
              chunk("three", append=True, last=True), DONE]  # fmt: skip
    with LoopbackServer(scripted_app(script)) as server, app_on(server.url, monkeypatch) as at:
        send(at, "drip")
        assert not at.exception
        reply = conversation(at).replies[-1]
        assert reply.text == "one two three" and reply.state == "completed"
        assert reply.ended_at - reply.started_at >= 4.0


@pytest.mark.timeout(60)
def test_a_single_5_mb_event(monkeypatch):
    big = "A2A " * (5 * 1024 * 1024 // 4)
    script = [TASK, chunk(big, last=True), DONE]
    with LoopbackServer(scripted_app(script)) as server, app_on(server.url, monkeypatch) as at:
        send(at, "big")
        assert not at.exception
        reply = conversation(at).replies[-1]
        assert len(reply.text) == len(big) and reply.state == "completed"
        at.switch_page("app_pages/inspector.py").run()
        bytes_metric = next(m.value for m in at.metric if m.label == "Bytes")
        assert "(cut)" in bytes_metric  # over the 2 MB a stream may keep, and marked


@pytest.mark.timeout(60)
def test_an_agent_restarted_between_messages(monkeypatch):
    first = DemoAgentServer(timing=FAST)
    port = first.port
    try:
        with app_on(first.url, monkeypatch) as at:
            send(at, "hello")
            assert "You said" in last_bubble(at)
            first.stop()
            restarted = DemoAgentServer(timing=FAST, port=port)
            try:
                send(at, "hello again")  # its pooled connection died with the old server
                assert not at.exception
                assert "You said" in last_bubble(at)
            finally:
                restarted.stop()
    finally:
        first.stop()


@pytest.mark.parametrize(
    ("app_factory", "sentence"),
    [
        (not_found_app, "No agent card found at"),
        (html_app, "returned a web page or other non-JSON content"),
        (bad_card_app, "is not a valid A2A card"),
    ],
)
def test_a_bad_card_gets_one_sentence_in_the_sidebar(monkeypatch, app_factory, sentence):
    with LoopbackServer(app_factory) as server, app_on(server.url, monkeypatch) as at:
        assert not at.exception
        assert sentence in at.sidebar.error[0].value
        assert at.chat_input(key="chat_prompt").proto.disabled


def test_allowed_agent_urls_refuse_other_agents_and_redirects(monkeypatch, demo_agent):
    def redirector(_base_url: str) -> Starlette:
        async def away(_request: Request) -> Response:
            return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)

        return Starlette(routes=[Route("/{path:path}", away, methods=["GET", "POST"])])

    with LoopbackServer(redirector) as bouncer:
        monkeypatch.setenv("A2A_ALLOWED_AGENT_URLS", f"{demo_agent.url},{bouncer.url}")
        with app_on(demo_agent.url, monkeypatch) as at:
            send(at, "hello")
            assert "You said" in last_bubble(at)  # the allowed agent works

            at.sidebar.text_input(key="sidebar_agent_url").set_value("http://10.0.0.1:9999")
            next(b for b in at.sidebar.button if b.label == "Connect").click().run()
            assert "is not an agent this deployment may contact" in at.sidebar.error[0].value

            at.sidebar.text_input(key="sidebar_agent_url").set_value(bouncer.url)
            next(b for b in at.sidebar.button if b.label == "Connect").click().run()
            error = at.sidebar.error[0].value
            assert "169.254.169.254" in error and "was stopped" in error  # the redirect hop
            assert not at.exception
            send(at, "still here?")  # the session stays with the allowed agent
            assert "You said" in last_bubble(at)


HOSTILE = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "![pixel](http://tracker.example/p.png)",
    ":red[fake] **bold** `code` <b>tag</b>",
]


@pytest.mark.parametrize("text", [*HOSTILE, "1. a list", "# a heading", "- an item", "x :smile:"])
def test_plain_leaves_nothing_for_markdown_to_act_on(text):
    from markdown_it import MarkdownIt

    escaped = plain(text)
    blocks = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(escaped)
    assert [b.type for b in blocks] == ["paragraph_open", "inline", "paragraph_close"]
    assert {c.type for c in blocks[1].children or []} <= {"text", "text_special"}
    assert not re.search(r"(?<!\\):[A-Za-z]", escaped)  # no Streamlit directive or emoji
    assert re.sub(r"\\(.)", r"\1", escaped) == text  # and nothing else changed


def test_safe_markdown_turns_images_into_links():
    assert safe_markdown("see ![pixel](http://t.example/p.png) and ![x][ref]") == (
        # an image becomes an icon and a link; "![x][ref]" with no [ref] is text as it was
        "see :material/image: [pixel](http://t.example/p.png) and !\u200b[x][ref]"
    )
    assert safe_markdown("**keep** [links](https://a2a-protocol.org)") == (
        "**keep** [links](https://a2a-protocol.org)"
    )
