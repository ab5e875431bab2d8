"""Fuzz the import doors: 500 malformed conversation files and 500 malformed stream files.

Each example starts from a real export (a chat with the demo agent) and is broken in a way
that makes it invalid by construction: a value of the wrong type at a typed place, a
required key dropped, nesting past the limit, NaN or Infinity, numbers past their bounds,
strings or lists past their limits, bytes that are not UTF-8, or the text cut short. Every
one goes through the real page under AppTest (one AppTest per test, reused): the page shows
exactly one sentence, no exception, and the session's conversations do not change. After
the 500, a chat message still gets its reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from app_pages.ui.conversations import LIST_KEY
from services.demo_agent import DemoAgentServer
from services.formats import MAX_DEPTH
from services.inspector.inspection import StreamFileError, import_jsonl
from services.store.workspace import ConversationFileError, import_conversation
from tests.test_app import shown as shown_text
from tests.test_imports import (
    INSPECTOR,
    assert_chat_still_works,
    conversations,
    real_exports,
)

EXAMPLES = 500
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MARK = "@@fuzz-mark-7f3a@@"
Path = tuple[str | int, ...]

# Fields that may be null (so null is no wrong type for them), and fields that are
# numbers with a fraction (so an integer is no wrong type for them).
OPTIONAL = {"id", "created", "history_length", "reply", "raw", "ended_at", "ended", "started",
            "first_byte", "retry"}  # fmt: skip
FLOATS = {"created", "started_at", "ended_at", "started_wall", "ended", "started", "first_byte",
          "at"}  # fmt: skip
# Strings with a length limit, and a length just past it.
TOO_LONG = {"title": 10_001, "filename": 10_001, "media_type": 10_001, "name": 10_001,
            "label": 10_001, "binding": 10_001, "protocol_version": 10_001, "method": 10_001,
            "reason": 10_001, "task_id": 1_001, "context_id": 1_001, "artifact_id": 1_001,
            "seed_context_id": 1_001, "seed_task_id": 1_001}  # fmt: skip
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]
NOT_UTF8 = [b"\xff", b"\xfe", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]
CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Traceback")


# --- the real exports and where they can be broken -------------------------------------------


@pytest.fixture(scope="module")
def exports(demo_agent: DemoAgentServer) -> tuple[str, str]:
    return real_exports(demo_agent.url)


def leaves(value: Any, path: Path = (), skip: frozenset[str] = frozenset()) -> Iterator[Path]:
    """Every place in `value` (containers too), except under keys in `skip` (free-form)."""
    yield path
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        if key not in skip:
            yield from leaves(child, (*path, key), skip)


def get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


def put(value: Any, path: Path, new: Any) -> Any:
    """`value` with the place at `path` set to `new` (a copy along the path)."""
    if not path:
        return new
    copied = dict(value) if isinstance(value, dict) else list(value)
    copied[path[0]] = put(value[path[0]], path[1:], new)
    return copied


def drop(value: Any, path: Path) -> Any:
    parent = get(value, path[:-1])
    smaller = {k: v for k, v in parent.items() if k != path[-1]}
    return put(value, path[:-1], smaller)


def wrong_types(current: Any, key: str | int) -> list[Any]:
    """Values that a strict schema refuses where `current` is (by its key and type)."""
    null = [] if key in OPTIONAL else [None]
    if key in FLOATS and isinstance(current, int | float):
        return ["1.5", True, [1.5], {"s": 1.5}, *null]
    if current is None:
        return ["text", True, [1], 7.5]  # no object: it could pass as an empty model
    if isinstance(current, bool):
        return [0, 1, "true", [True], *null]
    if isinstance(current, int):
        return ["1", 1.5, 2.0, True, [1], *null]
    if isinstance(current, str):
        return [3, 0.5, False, ["a"], {"a": "b"}, *null]
    if isinstance(current, list):
        return ["a", 3, {"0": "a"}, True, *null]
    return ["a", 3, [1], True, *null]  # an object


def out_of_bounds(key: str | int) -> list[Any]:
    if key in FLOATS:
        return [1e300, -1e300, 1.5e13]
    return [10**20, -1]


# --- malformed files ------------------------------------------------------------------------

CONVERSATION_FREE = frozenset({"data", "stream_id"})  # part data is any JSON; stream_id unread
CONVERSATION_REQUIRED = {"format", "conversation", "role", "kind", "artifact_id", "parts",
                         "complete"}  # fmt: skip


def with_text(body: Any, path: Path, text: str) -> str:
    """`body` as JSON with raw JSON `text` at `path` (what json.dumps cannot write)."""
    return json.dumps(put(body, path, MARK)).replace(json.dumps(MARK), text, 1)


def deep(depth: int, dicts: bool) -> str:
    if dicts:
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth + "]" * depth


@st.composite
def malformed_json(draw: st.DrawFn, body: Any, free: frozenset[str], required: set[str]) -> str:
    """`body` as JSON text, broken once in a way that a checked schema must refuse."""
    typed = [p for p in leaves(body, skip=free) if p]
    anywhere = list(leaves(body))
    places = {
        "wrong type": typed,
        "drop": [p for p in typed if isinstance(p[-1], str) and p[-1] in required],
        "deep": anywhere,
        "non-finite": anywhere,
        "huge integer": anywhere,
        "bounds": [p for p in typed if p[-1] in FLOATS or type(get(body, p)) is int],
        "too long": [p for p in typed if p[-1] in TOO_LONG and isinstance(get(body, p), str)],
    }
    ways = [how for how, where in places.items() if where]
    how = draw(st.sampled_from(ways + ["wrong type"] * 3))  # the commonest break, most tried
    path = draw(st.sampled_from(places[how]))
    if how == "wrong type":
        new = draw(st.sampled_from(wrong_types(get(body, path), path[-1])))
        return json.dumps(put(body, path, new))
    if how == "drop":
        return json.dumps(drop(body, path))
    if how == "deep":
        depth = draw(st.integers(MAX_DEPTH + 1, 3000))
        return with_text(body, path, deep(depth, draw(st.booleans())))
    if how == "non-finite":
        return with_text(body, path, draw(st.sampled_from(NON_FINITE)))
    if how == "huge integer":  # more digits than Python turns into an int
        return with_text(body, path, "9" * draw(st.integers(4301, 6000)))
    if how == "bounds":
        return json.dumps(put(body, path, draw(st.sampled_from(out_of_bounds(path[-1])))))
    return json.dumps(put(body, path, "x" * TOO_LONG[str(path[-1])]))


@st.composite
def as_bytes_broken(draw: st.DrawFn, text: str, *, cut: bool = True) -> bytes:
    """`text` as UTF-8, with bytes that are not UTF-8 inserted, or (`cut`) cut short."""
    data = text.encode()
    at = draw(st.integers(0, len(data) - 1))
    if not cut or draw(st.booleans()):
        return data[:at] + draw(st.sampled_from(NOT_UTF8)) + data[at:]
    return data[:at]  # a JSON object cut anywhere before its last brace


@st.composite
def malformed_conversation(draw: st.DrawFn, exported: str) -> bytes:
    body = json.loads(exported)
    how = draw(st.sampled_from(["json", "json", "json", "bytes", "counts"]))
    if how == "bytes":
        return draw(as_bytes_broken(exported))
    if how == "counts":
        conv = body["conversation"]
        which = draw(st.sampled_from(["turns", "status_log", "files", "artifacts"]))
        if which == "turns":
            conv["turns"] = [{"role": "user", "text": "x"}] * 10_001
        elif which == "status_log":
            conv["turns"][1]["reply"]["status_log"] = ["working"] * 10_001
        elif which == "files":
            conv["turns"][0]["files"] = conv["turns"][0]["files"] * 201
        else:
            (artifact, *_) = conv["turns"][1]["reply"]["artifacts"].values()
            conv["turns"][1]["reply"]["artifacts"] = {str(i): artifact for i in range(501)}
        return json.dumps(body).encode()
    free, required = CONVERSATION_FREE, CONVERSATION_REQUIRED
    return draw(malformed_json(body, free, required)).encode()


STREAM_FREE = frozenset({"event"})  # protobuf JSON, checked by ParseDict, not by key
STREAM_REQUIRED = {"type", "format", "seq", "exchange", "at"}  # a frame's event may go


@st.composite
def malformed_stream(draw: st.DrawFn, exported: str) -> bytes:
    lines = exported.splitlines()
    how = draw(st.sampled_from(["line", "line", "line", "line", "bytes", "cut", "count"]))
    if how == "bytes":  # not cut: a file cut at a line's end is still good JSON Lines
        return draw(as_bytes_broken(exported, cut=False))
    if how == "count":
        return (exported + "\n" * 200_001).encode()
    index = draw(st.integers(0, len(lines) - 1))
    if how == "cut":  # a line cut short (the lines after it gone): not JSON
        line = lines[index]
        return ("\n".join(lines[:index] + [line[: draw(st.integers(1, len(line) - 1))]])).encode()
    body = json.loads(lines[index])
    free = STREAM_FREE if body.get("type") == "sdk_event" else frozenset()
    if draw(st.integers(0, 9)) == 0:  # a line that is no object at all
        broken = json.dumps(draw(st.sampled_from([[1, 2], "frame", 3, None, True])))
    else:
        broken = draw(malformed_json(body, free, STREAM_REQUIRED))
    if body.get("type") == "sdk_event" and draw(st.booleans()):
        broken = json.dumps({**body, "event": {"task": {"id": draw(st.integers(0, 9))}}})
    return "\n".join(lines[:index] + [broken] + lines[index + 1 :]).encode()


# --- through the pages ------------------------------------------------------------------------


def assert_one_sentence(at: AppTest, expected: str) -> None:
    assert not at.exception, at.exception
    shown = [shown_text(e.value) for e in at.error]  # errors are plain text: escapes off
    assert shown == [expected]
    sentence = shown[0]
    assert sentence.endswith(".") and "\n" not in sentence
    assert not re.search(r"\.\s+[A-Z]", sentence[:-1]), sentence  # one sentence
    assert not CLASS_NAME.search(sentence), sentence
    assert len(sentence) < 400, sentence


def service_refusal(call: Any, error: type[Exception], data: bytes) -> str:
    with pytest.raises(error) as refused:
        call(data.decode("utf-8", "surrogateescape"))
    return str(refused.value)


def test_malformed_conversation_files_are_refused_on_the_chat_page(app, exports):
    app.session_state[LIST_KEY] = True  # the menu's list popover is open: its content drawn
    app.run()
    # A file chosen but not opened: from here on the "Open it" button is shown.
    app.file_uploader(key="chat_import").set_value(("c.json", b"{}", "application/json")).run()
    before = conversations(app)
    tried = []

    @FUZZ
    @given(malformed_conversation(exports[0]))
    def one(data: bytes) -> None:
        sentence = service_refusal(import_conversation, ConversationFileError, data)
        app.file_uploader(key="chat_import").set_value(("c.json", data, "application/json"))
        app.button(key="chat_import_go").click().run()  # choose and open in one run
        assert_one_sentence(app, sentence)
        assert conversations(app) == before
        tried.append(data)

    one()
    assert len(tried) >= EXAMPLES
    assert_chat_still_works(app)


def test_malformed_stream_files_are_refused_on_the_inspector_page(app, exports):
    app.run()
    before = conversations(app)
    streams = len(app.session_state["traffic_recorder"].streams())
    app.switch_page(INSPECTOR).run()
    app.get("button_group")[0].set_value("Import a file").run()
    tried = []

    @FUZZ
    @given(malformed_stream(exports[1]))
    def one(data: bytes) -> None:
        sentence = service_refusal(import_jsonl, StreamFileError, data)
        upload = ("s.jsonl", data, "application/jsonl")
        app.file_uploader(key="inspector_upload").set_value(upload).run()
        assert_one_sentence(app, sentence)
        assert not app.metric  # nothing of the file was drawn
        assert conversations(app) == before
        assert len(app.session_state["traffic_recorder"].streams()) == streams
        tried.append(data)

    one()
    assert len(tried) >= EXAMPLES
    assert_chat_still_works(app)
