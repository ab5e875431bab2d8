"""Hostile shapes from an agent, through the whole app under AppTest: each one draws in
bounded elements with a sentence for what was left out, and the next message works.

The shapes agent (tests/shapes.py) answers a message with the shape its words name.
The browser-side figures (time, memory, the websocket staying up) are in
tests/test_browser_shapes.py; these tests pin what the page is given.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui import reply as reply_ui
from app_pages.ui import sidebar as sidebar_ui
from services.demo_agent import LoopbackServer
from services.replies import STATUS_LOG_KEPT, Conversation, PartView, Reply, Turn
from tests.conftest import APP, close_runtime
from tests.shapes import deep_card_app, shapes_app
from tests.test_app import last_bubble, send, shown


@pytest.fixture(scope="module")
def shapes() -> Iterator[LoopbackServer]:
    with LoopbackServer(shapes_app) as server:
        yield server


@pytest.fixture
def at(shapes: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("A2A_AGENT_URL", shapes.url)
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    yield app
    close_runtime(app)


def elements(at: AppTest) -> int:
    """Every element the last bubble holds, nested ones included."""
    count, pending = 0, [at.chat_message[-1]]
    while pending:
        node = pending.pop()
        children = getattr(node, "children", {})
        count += len(children)
        pending += list(children.values())
    return count


def works_after(at: AppTest) -> None:
    send(at, "status 2")
    assert not at.exception
    assert "Done: status." in last_bubble(at)


def test_a_30000_update_reply_keeps_a_bounded_status_box(at: AppTest):
    send(at, "status 30000")
    assert not at.exception
    bubble = at.chat_message[-1]
    box = bubble.status[0]  # drawn live; history draws it as an expander
    assert box.label == "Worked through 30,000 steps"
    shown = box.markdown[0].value
    assert "29,980 earlier updates not shown" in shown
    assert "Step 30000 of 30000" in shown and "Step 29980 of 30000" not in shown
    assert len(box.markdown) == 1  # one element, however many updates
    kept = at.session_state["workspace"].agent.conversation.last_reply
    assert len(kept.status_log) == STATUS_LOG_KEPT and kept.status_dropped > 29_000
    works_after(at)


@pytest.mark.parametrize(
    ("message", "what"),
    [
        ("table 1000 50", "This text is too big to draw here (1,003 lines"),
        ("line 200000", "This text is too big to draw here (1 line, 200,000 characters)"),
        ("code 10000", "This text is too big to draw here (10,003 lines"),
    ],
)
def test_a_block_too_big_to_draw_is_summarised_with_a_download(at: AppTest, message, what):
    send(at, message)
    assert not at.exception
    bubble = at.chat_message[-1]
    assert any(what in c.value for c in bubble.caption), [c.value for c in bubble.caption]
    preview = bubble.code[0].value
    assert preview.count("\n") < reply_ui.PREVIEW_LINES
    assert max(map(len, preview.split("\n"))) <= reply_ui.PREVIEW_LINE_CHARS
    downloads = bubble.get("download_button")
    assert any("Download it whole" in d.proto.label for d in downloads)
    assert elements(at) < 40
    works_after(at)


def test_very_many_artifacts_draw_the_first_and_count_the_rest(at: AppTest):
    send(at, "artifacts 600")
    assert not at.exception
    text = last_bubble(at)
    assert "artifact 19" in text and "artifact 20" not in text
    assert "580 more artifacts, not drawn here" in text
    assert elements(at) < 80
    works_after(at)


def test_data_holding_nan_and_infinity_is_shown(at: AppTest):
    send(at, "nan")
    assert not at.exception
    bubble = at.chat_message[-1]
    assert bubble.json[0].value is not None
    assert "NaN" in str(bubble.json[0].value) and "Infinity" in str(bubble.json[0].value)
    assert "failed unexpectedly" not in last_bubble(at)


@pytest.mark.parametrize("depth", [150, 100_000])
def test_data_nested_too_deep_gets_a_sentence_not_failed_unexpectedly(at: AppTest, depth):
    send(at, f"deep {depth}")
    assert not at.exception
    text = last_bubble(at)
    assert "nested too deeply" in text, text
    assert "failed unexpectedly" not in text
    works_after(at)


def test_a_card_with_5000_skills_draws_a_few_and_offers_the_whole_card(
    monkeypatch: pytest.MonkeyPatch,
):
    with LoopbackServer(lambda url: shapes_app(url, skills=5_000)) as server:
        monkeypatch.setenv("A2A_AGENT_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=60)
        try:
            at.run()
            assert not at.exception
            skills = [e for e in at.sidebar.expander if e.label.startswith("Skill")]
            assert len(skills) == sidebar_ui.SKILLS_SHOWN
            assert any("4,988 more skills" in c.value for c in at.sidebar.caption)
            downloads = [b.proto.label for b in at.sidebar.get("download_button")]
            assert downloads == ["Download the whole card (JSON)"]
            examples = [b for b in at.main.button if b.key and b.key.startswith("chat_example")]
            assert len(examples) == 8
            works_after(at)
        finally:
            close_runtime(at)


def test_a_card_nested_100000_deep_gets_a_sentence_and_every_page_works(
    monkeypatch: pytest.MonkeyPatch,
):
    with LoopbackServer(deep_card_app) as server:
        monkeypatch.setenv("A2A_AGENT_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=60)
        try:
            for page in ("app_pages/chat.py", "app_pages/tasks.py", "app_pages/inspector.py"):
                at.switch_page(page).run()
                assert not at.exception, (page, at.exception)
                errors = [e.value for e in at.sidebar.error]
                assert errors and "nested more than" in errors[0], errors
        finally:
            close_runtime(at)


def test_a_3000_turn_conversation_is_drawn_a_page_at_a_time(at: AppTest):
    long = Conversation(title="long")
    for number in range(1_500):
        long.add_user(f"question {number}")
        reply = long.add_reply()
        reply.message_parts.append(PartView("text", text=f"answer {number}"))
        reply.finish()
    at.session_state["workspace"].agent.add_conversation(long)
    at.run()
    assert not at.exception
    assert len(at.chat_message) == 40
    assert "answer 1499" in last_bubble(at)
    earlier = at.button(key="chat_show_earlier")
    assert "2,960 not shown" in earlier.label
    earlier.click().run()
    assert len(at.chat_message) == 80
    works_after(at)


def test_a_turn_that_cannot_be_drawn_gets_a_sentence_and_the_rest_works(at: AppTest):
    conversation = at.session_state["workspace"].agent.conversation
    conversation.add_user("first")
    good = conversation.add_reply()
    good.message_parts.append(PartView("text", text="the good answer"))
    good.finish()
    broken = Reply()  # damaged in memory (as a bad store row could be): not an artifact
    broken.artifacts["a1"] = "not an artifact"  # type: ignore[assignment]
    broken.finish()
    conversation.turns.append(Turn("agent", reply=broken))
    at.run()
    assert not at.exception
    assert any("This reply could not be drawn" in e.value for e in at.error)
    assert "the good answer" in "\n".join(m.value for m in at.chat_message[1].markdown)
    new = next(b for b in at.button if b.label == "New conversation")
    new.click().run()
    assert not at.exception
    works_after(at)


def test_an_interrupted_task_reply_without_reconnect_does_not_offer_it():
    def page() -> None:
        from app_pages.ui.reply import render_reply
        from services.replies import Reply

        render_reply(Reply(task_id="t-1", state="working", ended_at=1.0))

    at = AppTest.from_function(page).run()
    assert not at.exception
    warning = at.warning[0].value
    assert "interrupted" in warning and "Reconnect" not in warning


def test_a_stream_number_of_5000_digits_is_ignored(at: AppTest):
    at.query_params["stream"] = "7" * 5_000
    at.switch_page("app_pages/inspector.py").run()
    assert not at.exception


def test_a_jsonrpc_error_message_is_shown_as_text(at: AppTest):
    send(at, "rpcerror")
    assert not at.exception
    error = at.chat_message[-1].error[0].value
    assert ":red[boom]" in shown(error) and "![e]" in shown(error)  # what the agent said...
    assert ":red[" not in error and "**b**" not in error and "![" not in error  # ...as text
    works_after(at)


def test_the_tasks_page_shows_agent_ids_and_history_as_text(at: AppTest, shapes: LoopbackServer):
    at.switch_page("app_pages/tasks.py").run()
    assert not at.exception
    task_id = f":red[evil] ![id]({shapes.url}/pixel.png?task-id)"
    at.selectbox(key="tasks_open_id").set_value(task_id).run()
    assert not at.exception
    heading = at.subheader[0].value
    assert shown(heading) == f"Task {task_id}" and ":red[" not in heading and "![" not in heading
    context = next(c.value for c in at.caption if c.value.startswith("context"))
    assert "**ctx**" in shown(context) and "**ctx**" not in context and "![" not in context
    history = [m.value for e in at.expander if e.label.startswith("History") for m in e.markdown]
    assert len(history) == 3 and all("history" in h and "![" not in h for h in history), history


def test_an_invalid_card_message_quoting_the_card_is_shown_as_text(
    monkeypatch: pytest.MonkeyPatch,
):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    markup = ":red[boom] ![p](http://127.0.0.1:9/p.png)"
    card = {"name": "Bad", "skills": [{"id": "a", "name": "b", "inputModes": markup}]}

    def factory(_url: str) -> Starlette:
        async def handler(_request: object) -> JSONResponse:
            return JSONResponse(card)

        return Starlette(routes=[Route("/.well-known/agent-card.json", handler)])

    with LoopbackServer(factory) as server:
        monkeypatch.setenv("A2A_AGENT_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=60)
        try:
            at.run()
            assert not at.exception
            error = at.sidebar.error[0].value
            assert markup in shown(error)  # the SDK's message quotes the card...
            assert ":red[" not in error and "![" not in error  # ...and it stays text
        finally:
            close_runtime(at)


def test_file_names_and_file_urls_from_an_agent_cannot_carry_markup(at: AppTest):
    send(at, "images")
    assert not at.exception
    bubble = at.chat_message[-1]
    links = [m.value for m in bubble.markdown if "f.txt" in m.value]
    assert links and all("![" not in link and "%5B" in link for link in links), links
    labels = [c.value for c in bubble.caption if "name" in c.value]
    assert all("![" not in label for label in labels), labels
    text = "\n".join(m.value for m in bubble.markdown)
    assert ":material/image: [" in text  # the images are there, as links
