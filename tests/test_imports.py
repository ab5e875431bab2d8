"""Malformed files are refused at the door with one sentence, and the pages stay usable.

Each case starts from a real export (a chat with the demo agent, with a file attached, and
the stream it made), breaks one thing, and goes through the real page under AppTest: one
st.error with the sentence, no exception element, the session's conversations unchanged,
and the next chat message still answered.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui.conversations import LIST_KEY
from services.client import agent, resources
from services.client.agent import SendOptions
from services.demo_agent import DemoAgentServer
from services.formats import MAX_DEPTH
from services.inspector.inspection import StreamFileError, export_jsonl, import_jsonl
from services.replies import Conversation, PartView
from services.runtime import SessionRuntime
from services.store.workspace import ConversationFileError, export_conversation, import_conversation
from tests.test_app import last_bubble, send
from tests.test_app import shown as shown_text

INSPECTOR = "app_pages/inspector.py"
CHAT = "app_pages/chat.py"
CSV = b"region,total\nnorth,12\nsouth,30\n"
DEEP = "[" * 5000 + "]" * 5000


def real_exports(url: str) -> tuple[str, str]:
    """A conversation file and a stream file, exported from a real chat with the agent at
    `url`: a user message with a CSV attached, and the agent's report (data and files)."""
    runtime = SessionRuntime(label="exports")
    try:
        conv = Conversation(title="Sales")
        files = [PartView("file", raw=CSV, filename="data.csv", media_type="text/csv")]
        conv.add_user("Generate a sales report", files)
        reply = conv.add_reply()
        options = SendOptions(files=tuple(files))
        for event in agent.send_message(runtime, url, "Generate a sales report", options=options):
            reply.apply(event)
        reply.finish()
        record = resources.recorder(runtime).streams()[-1]
        stream = export_jsonl(record, resources.recorder(runtime).redactor)
        return export_conversation(conv, url), stream
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def exports(demo_agent: DemoAgentServer) -> tuple[str, str]:
    conversation, stream = real_exports(demo_agent.url)
    import_conversation(conversation)  # both are good files before they are broken
    import_jsonl(stream)
    return conversation, stream


# --- breaking a file ------------------------------------------------------------------------


def broken_conversation(exported: str, change: Callable[[dict[str, Any]], None]) -> str:
    body = json.loads(exported)
    change(body["conversation"])
    return json.dumps(body)


def stream_lines(exported: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in exported.splitlines()]


def first_line(lines: list[dict[str, Any]], kind: str) -> int:
    """The index of the first line of `kind` (its line number is one more)."""
    return next(i for i, line in enumerate(lines) if line["type"] == kind)


def dump_lines(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


# --- through the pages --------------------------------------------------------------------


def conversations(at: AppTest) -> list[Conversation]:
    return copy.deepcopy(at.session_state["workspace"].agent.conversations)


def assert_refused_on_the_page(at: AppTest, sentence: str, before: list[Conversation]) -> None:
    assert not at.exception, at.exception
    assert [shown_text(e.value) for e in at.error] == [sentence]  # plain text: escapes off
    assert conversations(at) == before  # nothing from the file entered the session


def assert_chat_still_works(at: AppTest) -> None:
    at.switch_page(CHAT).run()
    count = len(conversations(at))
    next(b for b in at.button if b.label == "New conversation").click().run()
    assert not at.exception, at.exception
    assert len(conversations(at)) == count + 1
    send(at, "hello there")
    assert not at.exception, at.exception
    assert "You said" in last_bubble(at)


def import_on_chat(at: AppTest, text: str) -> None:
    at.session_state[LIST_KEY] = True  # the menu's list popover is open: its content drawn
    at.run()
    at.file_uploader(key="chat_import").set_value(("c.json", text.encode(), "application/json"))
    at.run()
    at.button(key="chat_import_go").click().run()


def check_conversation_refused(at: AppTest, text: str, sentence: str) -> None:
    with pytest.raises(ConversationFileError) as refused:
        import_conversation(text)
    assert str(refused.value) == sentence
    at.run()
    before = conversations(at)
    import_on_chat(at, text)
    assert_refused_on_the_page(at, sentence, before)
    assert_chat_still_works(at)


def check_stream_refused(at: AppTest, text: str, sentence: str) -> None:
    with pytest.raises(StreamFileError) as refused:
        import_jsonl(text)
    assert str(refused.value) == sentence
    at.run()
    before = conversations(at)
    streams = len(at.session_state["traffic_recorder"].streams())
    at.switch_page(INSPECTOR).run()
    at.get("button_group")[0].set_value("Import a file").run()
    at.file_uploader(key="inspector_upload").set_value(
        ("s.jsonl", text.encode(), "application/jsonl")
    ).run()
    assert_refused_on_the_page(at, sentence, before)
    assert len(at.session_state["traffic_recorder"].streams()) == streams
    assert_chat_still_works(at)


REFUSED = "This file could not be imported: "


# --- conversation files -------------------------------------------------------------------


def test_a_title_that_is_a_number(app, exports):
    text = broken_conversation(exports[0], lambda c: c.update(title=42))
    sentence = REFUSED + "`conversation.title` must be text (it is a number)."
    check_conversation_refused(app, text, sentence)


def test_a_message_text_that_is_a_number(app, exports):
    text = broken_conversation(exports[0], lambda c: c["turns"][0].update(text=7))
    sentence = REFUSED + "`conversation.turns[0].text` must be text (it is a number)."
    check_conversation_refused(app, text, sentence)


def test_an_id_that_is_a_list(app, exports):
    text = broken_conversation(exports[0], lambda c: c.update(id=["a", "b"]))
    sentence = REFUSED + "`conversation.id` must be text (it is a list)."
    check_conversation_refused(app, text, sentence)


def test_a_history_length_that_is_a_string(app, exports):
    text = broken_conversation(exports[0], lambda c: c.update(history_length="5"))
    sentence = REFUSED + "`conversation.history_length` must be a whole number (it is text)."
    check_conversation_refused(app, text, sentence)


def test_a_reply_state_of_the_wrong_type(app, exports):
    text = broken_conversation(exports[0], lambda c: c["turns"][1]["reply"].update(state=3))
    sentence = REFUSED + "`conversation.turns[1].reply.state` must be text (it is a number)."
    check_conversation_refused(app, text, sentence)


def test_a_reply_state_that_is_no_state(app, exports):
    text = broken_conversation(exports[0], lambda c: c["turns"][1]["reply"].update(state="done"))
    with pytest.raises(ConversationFileError, match=r"`conversation\.turns\[1\]\.reply\.state` "
                       r"must be one of '', 'submitted', 'working'"):  # fmt: skip
        import_conversation(text)


def test_a_file_part_whose_name_is_a_number(app, exports):
    text = broken_conversation(exports[0], lambda c: c["turns"][0]["files"][0].update(filename=9))
    sentence = REFUSED + "`conversation.turns[0].files[0].filename` must be text (it is a number)."
    check_conversation_refused(app, text, sentence)


def test_a_conversation_nested_5000_levels_deep(app, exports):
    text = broken_conversation(exports[0], lambda c: c.update(title="@deep@"))
    text = text.replace('"@deep@"', DEEP)
    # The title is two levels in (the file, its conversation): the first level past the
    # limit is DEEP's (MAX_DEPTH - 1)th [.
    column = text.index(DEEP) + MAX_DEPTH - 1
    sentence = (
        f"The conversation file is nested more than {MAX_DEPTH} levels deep "
        f"(at line 1, column {column})."
    )
    check_conversation_refused(app, text, sentence)


# --- stream files (JSON Lines) ---------------------------------------------------------------


def test_a_frame_without_at(app, exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "frame")
    del lines[index]["at"]
    check_stream_refused(app, dump_lines(lines), f"line {index + 1}: `at` is missing.")


def test_an_ended_that_is_a_string(app, exports):
    lines = stream_lines(exports[1])
    lines[0]["ended"] = "soon"
    check_stream_refused(app, dump_lines(lines), "line 1: `ended` must be a number (it is text).")


def test_a_header_that_is_not_a_pair(app, exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "exchange")
    lines[index]["request_headers"][0] = "content-type"
    sentence = (
        f"line {index + 1}: `request_headers[0]` must be a [name, value] pair of texts "
        "(it is text)."
    )
    check_stream_refused(app, dump_lines(lines), sentence)


def test_a_nan_timestamp(app, exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "frame")
    lines[index]["at"] = float("nan")  # json.dumps writes NaN, which JSON does not allow
    sentence = f"line {index + 1}: the stream file holds NaN at `at`, which JSON does not allow."
    check_stream_refused(app, dump_lines(lines), sentence)


def test_a_huge_timestamp(app, exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "sdk_event")
    lines[index]["at"] = 1e300
    sentence = f"line {index + 1}: `at` must be at most 10,000,000."
    check_stream_refused(app, dump_lines(lines), sentence)


def test_a_huge_wall_clock_start(app, exports):
    lines = stream_lines(exports[1])
    lines[0]["started_wall"] = 1e300  # datetime.fromtimestamp would overflow on the page
    sentence = "line 1: `started_wall` must be at most 4,000,000,000."
    check_stream_refused(app, dump_lines(lines), sentence)


def test_a_stream_line_nested_5000_levels_deep(app, exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "sdk_event")
    lines[index]["event"] = "@deep@"
    text = dump_lines(lines).replace('"@deep@"', DEEP)
    column = text.splitlines()[index].index(DEEP) + 64  # one level in: the line
    sentence = (
        f"line {index + 1}: the stream file is nested more than 64 levels deep "
        f"(at column {column})."
    )
    check_stream_refused(app, text, sentence)


def test_frame_data_nested_5000_levels_deep(app, exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "frame")
    lines[index]["data"] = DEEP  # the page parses a frame's data as JSON
    sentence = f"line {index + 1}: `data` is JSON nested too deep."
    check_stream_refused(app, dump_lines(lines), sentence)


def test_an_sdk_event_that_is_not_a_stream_response(app, exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "sdk_event")
    lines[index]["event"] = {"task": {"id": 5}}
    with pytest.raises(StreamFileError) as refused:
        import_jsonl(dump_lines(lines))
    assert str(refused.value).startswith(
        f"line {index + 1}: `event` is not an A2A StreamResponse ("
    )


def test_line_separators_inside_json_text_do_not_split_a_stream_line(exports):
    lines = stream_lines(exports[1])
    index = first_line(lines, "frame")
    lines[index]["data"] = "a\u2028b\x85c\u2029d"  # not escaped with ensure_ascii=False
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    assert import_jsonl(text).imported_frames[0].data == "a\u2028b\x85c\u2029d"


def test_good_files_still_import_through_the_pages(app, exports):
    conversation_file, stream_file = exports
    app.run()
    before = len(conversations(app))
    import_on_chat(app, conversation_file)
    assert not app.exception, app.exception
    assert not app.error
    assert len(conversations(app)) == before + 1
    assert conversations(app)[-1].title == "Sales"
    app.switch_page(INSPECTOR).run()
    app.get("button_group")[0].set_value("Import a file").run()
    app.file_uploader(key="inspector_upload").set_value(
        ("s.jsonl", stream_file.encode(), "application/jsonl")
    ).run()
    assert not app.exception, app.exception
    assert not app.error
    assert app.metric  # the imported stream is drawn


def test_the_same_file_imported_twice_gives_two_conversations_each_selectable():
    from services.store.workspace import AgentEntry, export_conversation

    entry = AgentEntry("http://127.0.0.1:1")
    text = export_conversation(Conversation(title="twice"), entry.url)
    first, _ = import_conversation(text)
    second, _ = import_conversation(text)
    entry.add_conversation(first)
    entry.add_conversation(second)
    assert len({c.id for c in entry.conversations}) == 3
    entry.select_conversation(first.id)
    assert entry.conversation is first
