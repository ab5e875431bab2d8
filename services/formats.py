"""One door for every file the app reads: bounded JSON, strict schemas, one sentence.

A file a person uploads is hostile until checked: a title that is a number, JSON nested
thousands of levels deep or a timestamp of 1e300 used to reach the pages and put a
traceback on every rerun. Everything read from a file passes here first. `load_json` and
`load_json_lines` bound the size, the nesting (walked iteratively, so it cannot overflow the
stack) and refuse NaN and Infinity; pydantic models (strict: a number is never taken for
text) check each field with bounds on counts, lengths and times; and every refusal is a
`FileRejected` whose text is one sentence naming the first problem and where it is. Only
a file that passed becomes the app's plain dataclasses, so nothing half-read enters the
session.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from services.replies import ArtifactView, Conversation, PartView, Reply, Turn

__all__ = [
    "CONVERSATION_FORMAT",
    "MAX_CONVERSATION_BYTES",
    "MAX_ECHO",
    "MAX_STREAM_BYTES",
    "STRICT",
    "Count",
    "FileRejected",
    "Name",
    "Offset",
    "Text",
    "Url",
    "Wall",
    "clip",
    "explain",
    "kind_of",
    "load_json",
    "load_json_lines",
    "read_conversation",
    "read_stored_conversation",
    "to_json_value",
]

CONVERSATION_FORMAT = "a2a-streamlit/conversation@1"
MAX_CONVERSATION_BYTES = 32 * 1024 * 1024
MAX_STREAM_BYTES = 64 * 1024 * 1024
MAX_TURNS = 10_000
MAX_PARTS = 200
MAX_ARTIFACTS = 500
MAX_STATUS_LINES = 10_000
MAX_OFFSET_S = 1e7  # times in a stream file are seconds from its start: ~115 days
MAX_WALL_S = 4e9  # a Unix time before 2096: datetime.fromtimestamp stays in range
MAX_ECHO = 80  # never show more than this much of a file's own content
# Agent data may nest as deep as protobuf reads (100 levels), inside the file's own few:
# what the app exported, it imports back.
MAX_DEPTH = 128


class FileRejected(ValueError):
    """A file the app will not read; str() is one sentence naming the first problem."""


# --- bounded JSON ------------------------------------------------------------------------


class _NonFinite:
    """What NaN / Infinity parse to, so the walk can say where they are."""

    def __init__(self, name: str) -> None:
        self.name = name


def _size(length: int) -> str:
    return f"{length / (1024 * 1024):,.1f} MB"


def _as_text(text: str | bytes, what: str, max_bytes: int) -> str:
    length = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if length > max_bytes:
        raise FileRejected(
            f"The {what} is {_size(length)}, more than the {_size(max_bytes)} this app reads."
        )
    try:
        if isinstance(text, bytes):
            return text.decode("utf-8")
        # Bytes decoded with "surrogateescape" keep what was not UTF-8 as lone surrogates.
        text.encode("utf-8")
        return text
    except UnicodeError as error:
        unit = "byte" if isinstance(text, bytes) else "character"
        start = error.start + 1 if isinstance(error, UnicodeEncodeError | UnicodeDecodeError) else 1
        raise FileRejected(
            f"The {what} is not UTF-8 text ({unit} {start:,} cannot be decoded)."
        ) from error


def clip(text: str, limit: int = MAX_ECHO) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _path(path: Iterable[str | int]) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            step = clip(str(step), 30)
            out += f".{step}" if out else step
    return clip(out or "(the top level)")


def _problem_in(value: Any, max_depth: int) -> str:
    """The first place `value` is nested too deep or holds a non-finite number, or ""."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return f"is nested more than {max_depth} levels deep (at `{_path(path)}`)"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            # Pushed in reverse so the first problem in reading order is found first.
            for key, child in reversed(list(pairs)):
                if isinstance(child, dict | list | float | _NonFinite):
                    stack.append((child, depth + 1, (*path, key)))
        elif isinstance(item, _NonFinite) or (isinstance(item, float) and not math.isfinite(item)):
            name = item.name if isinstance(item, _NonFinite) else "a number too large"
            return f"holds {name} at `{_path(path)}`, which JSON does not allow"
    return ""


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _too_deep(text: str, max_depth: int) -> int | None:
    """Where (an index into `text`) brackets first open past `max_depth`, else None.

    Scanned before parsing, so `json.loads` never recurses deep enough to overflow, and
    the answer does not depend on how much stack the calling thread has left.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:  # usually a few percent of the text
        depth += 1 if char in "[{" else -1
        if depth > max_depth:
            break
    else:
        return None
    depth = 0
    for token in _TOKEN.finditer(text):  # again, with positions, up to the place
        if token.group() in ("[", "{"):
            depth += 1
            if depth > max_depth:
                return token.start()
        elif token.group() in ("]", "}"):
            depth -= 1
    return None


def _parse(text: str, max_depth: int, *, one_line: bool = False) -> tuple[Any, str]:
    """The JSON value of `text`, or a problem (without its subject) when it is refused."""

    def where(line: int, column: int) -> str:
        return f"column {column}" if one_line else f"line {line}, column {column}"

    deep_at = _too_deep(text, max_depth)
    if deep_at is not None:
        line = text.count("\n", 0, deep_at) + 1
        column = deep_at - text.rfind("\n", 0, deep_at)
        return None, f"is nested more than {max_depth} levels deep (at {where(line, column)})"
    try:
        value = json.loads(text, parse_constant=_NonFinite)
    except RecursionError:  # not expected after the scan; still one sentence
        return None, f"is nested more than {max_depth} levels deep"
    except json.JSONDecodeError as error:
        return None, f"is not JSON ({where(error.lineno, error.colno)}: {error.msg.lower()})"
    except ValueError as error:  # Python refuses integers of more than 4,300 digits
        if "digits" in str(error):
            return None, "is not JSON this app reads (a number has more than 4,300 digits)"
        return None, f"is not JSON ({clip(str(error), 60)})"
    return value, _problem_in(value, max_depth)


def load_json(text: str | bytes, *, what: str, max_bytes: int, max_depth: int = 64) -> Any:
    """`text` as JSON, refused with one sentence if too big, too deep, or not plain JSON.

    Args:
        what: the file in words, as sentences name it ("conversation file", "agent card").
    """
    value, problem = _parse(_as_text(text, what, max_bytes), max_depth)
    if problem:
        raise FileRejected(f"The {what} {problem}.")
    return value


def load_json_lines(
    text: str | bytes, *, what: str, max_bytes: int, max_lines: int, max_depth: int = 64
) -> list[tuple[int, Any]]:
    """Each non-blank line of `text` as JSON, with its 1-based line number.

    A refusal names the line: "line 12: the stream file is nested more than 64 levels deep."
    """
    # Split on "\n" only: str.splitlines() also splits on U+2028, U+0085 and others,
    # which JSON text may hold unescaped (export_jsonl writes with ensure_ascii=False).
    lines = _as_text(text, what, max_bytes).split("\n")
    if len(lines) > max_lines:
        raise FileRejected(f"The {what} has more than {max_lines:,} lines.")
    values: list[tuple[int, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        value, problem = _parse(line, max_depth, one_line=True)
        if problem.startswith("is not JSON"):
            raise FileRejected(f"This file is not JSON Lines: line {number} {problem}.")
        if problem:
            raise FileRejected(f"line {number}: the {what} {problem}.")
        values.append((number, value))
    return values


# --- one sentence from a pydantic error ---------------------------------------------------

_EXPECTED = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "bytes_type": "must be text",
    "missing": "is missing",
    "finite_number": "must be a finite number",
}


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "something else"


def _bound(ctx: dict[str, Any], key: str) -> str:
    value = ctx.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def _what_is_wrong(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind in _EXPECTED:
        said = _EXPECTED[kind]
        if kind not in ("missing", "finite_number"):
            said += f" (it is {kind_of(error.get('input'))})"
        return said
    if kind == "literal_error":
        if not isinstance(error.get("input"), str):  # every choice here is text
            return f"must be text (it is {kind_of(error.get('input'))})"
        return f"must be one of {clip(str(ctx.get('expected', '')), 200)}"
    if kind == "too_long":
        return f"has more than {_bound(ctx, 'max_length')} items"
    if kind == "too_short":
        return f"must have at least {_bound(ctx, 'min_length')} items"
    if kind == "string_too_long":
        return f"is longer than {_bound(ctx, 'max_length')} characters"
    if kind == "string_too_short":
        return f"must have at least {_bound(ctx, 'min_length')} characters"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {_bound(ctx, 'ge' if 'ge' in ctx else 'gt')}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {_bound(ctx, 'le' if 'le' in ctx else 'lt')}"
    if kind.startswith("door_"):  # ours (PydanticCustomError): already plain words
        return str(error["msg"])
    return f"is not valid ({clip(str(error['msg']).lower(), 60)})"


def explain(error: ValidationError, *, skip: int = 0) -> str:
    """The first error of `error` as "`turns[3].state` must be text (it is a number)".

    Args:
        skip: leading steps of each error's place to leave out (a union's tag).
    """
    first = error.errors(include_url=False)[0]
    place = tuple(first["loc"])[skip:]
    wrong = _what_is_wrong(dict(first))
    return f"`{_path(place)}` {wrong}" if place else f"the line {wrong}"


# --- strict models -------------------------------------------------------------------------

STRICT = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False, frozen=True)

_Id = Annotated[str, Field(max_length=1_000)]
Name = Annotated[str, Field(max_length=10_000)]
Url = Annotated[str, Field(max_length=1_000_000)]
Text = Annotated[str, Field(max_length=MAX_STREAM_BYTES)]
Count = Annotated[int, Field(ge=0, le=10**12)]
Offset = Annotated[float, Field(ge=0, le=MAX_OFFSET_S)]
_Monotonic = Annotated[float, Field(ge=-1e12, le=1e12)]  # another machine's clock: finite
Wall = Annotated[float, Field(ge=0, le=MAX_WALL_S)]
_State = Literal[
    "",
    "submitted",
    "working",
    "input-required",
    "auth-required",
    "completed",
    "failed",
    "canceled",
    "rejected",
    "unknown",
]


class _Base64(BaseModel):
    model_config = STRICT
    text: str = Field(alias="$base64", max_length=MAX_CONVERSATION_BYTES)

    def decoded(self) -> bytes:
        return base64.b64decode(self.text, validate=True)


def _check_base64(value: _Base64) -> _Base64:
    try:
        value.decoded()
    except (binascii.Error, ValueError) as error:
        raise PydanticCustomError("door_base64", "is not valid base64") from error
    return value


class _Part(BaseModel):
    model_config = STRICT
    kind: Literal["text", "data", "file"]
    text: Text = ""
    data: Any = None  # any JSON; its depth was bounded by load_json
    raw: Annotated[_Base64, AfterValidator(_check_base64)] | None = None
    url: Url = ""
    filename: Name = ""
    media_type: Name = ""
    omitted: Count = 0

    def view(self) -> PartView:
        raw = self.raw.decoded() if self.raw is not None else None
        return PartView(
            self.kind,
            self.text,
            self.data,
            raw,
            self.url,
            self.filename,
            self.media_type,
            self.omitted,
        )


_Parts = Annotated[list[_Part], Field(max_length=MAX_PARTS)]


class _Artifact(BaseModel):
    model_config = STRICT
    artifact_id: _Id
    name: Name = ""
    parts: _Parts
    complete: bool


class _Reply(BaseModel):
    model_config = STRICT
    task_id: _Id = ""
    context_id: _Id = ""
    state: _State = ""
    status_log: Annotated[list[Text], Field(max_length=MAX_STATUS_LINES)] = []
    status_dropped: Count = 0
    artifacts: Annotated[dict[str, _Artifact], Field(max_length=MAX_ARTIFACTS)] = {}
    message_parts: _Parts = []
    status_parts: _Parts = []
    event_count: Count = 0
    started_at: _Monotonic = 0.0
    ended_at: _Monotonic | None = None
    stopped: bool = False
    reconnected: bool = False
    resumed: bool = False
    background: bool = False
    gaps: Annotated[list[Name], Field(max_length=MAX_ARTIFACTS)] = []
    error: Text = ""
    error_detail: Text = ""
    # Read back from the store only: in a file it names a record of another session.
    stream_id: Count = 0
    extensions: Annotated[list[Name], Field(max_length=100)] = []

    def reply(self, *, stored: bool = False) -> Reply:
        artifacts = {
            key: ArtifactView(a.artifact_id, a.name, [p.view() for p in a.parts], a.complete)
            for key, a in self.artifacts.items()
        }
        return Reply(
            task_id=self.task_id,
            context_id=self.context_id,
            state=self.state,
            status_log=list(self.status_log),
            status_dropped=self.status_dropped,
            artifacts=artifacts,
            message_parts=[p.view() for p in self.message_parts],
            status_parts=[p.view() for p in self.status_parts],
            event_count=self.event_count,
            started_at=self.started_at,
            ended_at=self.ended_at,
            stopped=self.stopped,
            reconnected=self.reconnected,
            resumed=self.resumed,
            background=self.background,
            gaps=list(self.gaps),
            error=self.error,
            error_detail=self.error_detail,
            stream_id=self.stream_id if stored else 0,
            extensions=list(self.extensions),
        )


class _Turn(BaseModel):
    model_config = STRICT
    role: Literal["user", "agent"]
    text: Text = ""
    reply: _Reply | None = None
    files: _Parts = []
    id: _Id | None = None

    def turn(self, *, stored: bool = False) -> Turn:
        made = Turn(
            self.role,
            self.text,
            self.reply.reply(stored=stored) if self.reply else None,
            [p.view() for p in self.files],
        )
        made.id = self.id if stored and self.id else made.id
        return made


class _Conversation(BaseModel):
    model_config = STRICT
    turns: Annotated[list[_Turn], Field(max_length=MAX_TURNS)] = []
    id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    title: Name = ""
    created: Wall | None = None
    accepted_output_modes: Annotated[list[Name], Field(max_length=100)] = []
    history_length: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    seed_context_id: _Id = ""
    seed_task_id: _Id = ""
    extensions: Annotated[list[Name], Field(max_length=100)] = []

    def conversation(self, *, stored: bool = False) -> Conversation:
        made = Conversation(
            turns=[t.turn(stored=stored) for t in self.turns],
            title=self.title,
            accepted_output_modes=list(self.accepted_output_modes),
            history_length=self.history_length,
            seed_context_id=self.seed_context_id,
            seed_task_id=self.seed_task_id,
            extensions=list(self.extensions),
        )
        made.id = self.id or made.id
        made.created = made.created if self.created is None else self.created
        return made


class _ConversationFile(BaseModel):
    model_config = STRICT
    format: Literal["a2a-streamlit/conversation@1"]
    agent_url: Url = ""
    conversation: _Conversation


def to_json_value(value: Any) -> Any:
    """Plain data (dataclasses, lists, dicts, bytes) as JSON values: what the readers here
    read back. Bytes become `{"$base64": ...}`."""
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def read_stored_conversation(document: str, turns: list[str]) -> Conversation:
    """A conversation read back from the store: its document (without turns) and each
    turn's, as the store wrote them. Checked like a file (a row is input too); ids, stream
    numbers included, are kept."""
    body = load_json(document, what="stored conversation", max_bytes=MAX_CONVERSATION_BYTES)
    stored_turns = [
        load_json(t, what="stored turn", max_bytes=MAX_CONVERSATION_BYTES, max_depth=MAX_DEPTH)
        for t in turns
    ]
    if not isinstance(body, dict):
        raise FileRejected("A stored conversation is not an object.")
    try:
        checked = _Conversation.model_validate({**body, "turns": stored_turns})
    except ValidationError as error:
        raise FileRejected(f"A stored conversation could not be read: {explain(error)}.") from error
    return checked.conversation(stored=True)


def read_conversation(text: str | bytes) -> tuple[Conversation, str]:
    """A conversation file (as `export_conversation` writes it) and the agent URL it names."""
    body = load_json(
        text, what="conversation file", max_bytes=MAX_CONVERSATION_BYTES, max_depth=MAX_DEPTH
    )
    if not isinstance(body, dict) or body.get("format") != CONVERSATION_FORMAT:
        raise FileRejected(
            "This file is not a conversation exported by this app (no format marker)."
        )
    try:
        checked = _ConversationFile.model_validate(body)
    except ValidationError as error:
        raise FileRejected(f"This file could not be imported: {explain(error)}.") from error
    return checked.conversation.conversation(), checked.agent_url
