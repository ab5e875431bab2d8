"""The inspector's stream file: JSON Lines as `export_jsonl` writes them, read back.

One line a `stream`, then its `exchange`, `frame` and `sdk_event` lines. Everything passes
the same door as every other file (`services.formats`): bounded JSON Lines, strict models,
one sentence naming the first problem and its line.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from a2a.types.a2a_pb2 import StreamResponse
from google.protobuf.json_format import ParseDict, ParseError
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from services.formats import (
    MAX_ECHO,
    MAX_STREAM_BYTES,
    STRICT,
    Count,
    FileRejected,
    Name,
    Offset,
    Text,
    Url,
    Wall,
    clip,
    explain,
    kind_of,
    load_json_lines,
)
from services.inspector.capture import Exchange, Frame, StreamRecord

__all__ = ["MAX_STREAM_LINES", "STREAM_FORMAT", "read_stream"]

STREAM_FORMAT = "a2a-streamlit/stream@1"
MAX_STREAM_LINES = 200_000
MAX_HEADERS = 1_000


def _pair(value: Any) -> Any:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise PydanticCustomError(
            "door_pair",
            "must be a [name, value] pair of texts (it is {kind})",
            {"kind": kind_of(value)},
        )
    return value


_Pair = Annotated[list[str], BeforeValidator(_pair)]
_Headers = Annotated[list[_Pair], Field(max_length=MAX_HEADERS)]


def _shallow_json(value: str) -> str:
    """Text the pages parse as JSON (a frame's data, a request body) must not be deeper
    than a file may be, or `json.loads` on the page would overflow the stack."""
    if value[:1] in ("{", "[") or value.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except RecursionError as error:
            raise PydanticCustomError("door_deep", "is JSON nested too deep") from error
        except ValueError:
            return value  # not JSON: shown as text
        stack: list[tuple[Any, int]] = [(parsed, 0)]
        while stack:
            item, depth = stack.pop()
            if depth > 64:
                raise PydanticCustomError("door_deep", "is JSON nested more than 64 levels deep")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return value


_JsonText = Annotated[Text, AfterValidator(_shallow_json)]


def _stream_response(value: Any) -> bytes:
    """An sdk_event's `event`, checked as an A2A StreamResponse and kept serialized."""
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "door_event", "must be an object (it is {kind})", {"kind": kind_of(value)}
        )
    try:
        return ParseDict(value, StreamResponse(), ignore_unknown_fields=True).SerializeToString()
    except (ParseError, ValueError, TypeError, AttributeError) as error:
        raise PydanticCustomError(
            "door_event",
            "is not an A2A StreamResponse ({why})",
            {"why": clip(str(error).rstrip("."), MAX_ECHO)},
        ) from error


class _StreamLine(BaseModel):
    model_config = STRICT
    type: Literal["stream"]
    format: Literal["a2a-streamlit/stream@1"]
    label: Name = ""
    agent_url: Url = ""
    binding: Name = ""
    protocol_version: Name = ""
    started_wall: Wall = 0.0
    ended: Offset | None = None
    error: Text = ""


class _ExchangeLine(BaseModel):
    model_config = STRICT
    type: Literal["exchange"]
    seq: Annotated[int, Field(ge=0, le=10**9)]
    method: Name = ""
    url: Url = ""
    request_headers: _Headers = []
    request_body: _JsonText = ""
    status: Annotated[int, Field(ge=0, le=999)] = 0
    reason: Name = ""
    response_headers: _Headers = []
    started: Offset | None = None
    first_byte: Offset | None = None
    ended: Offset | None = None
    bytes: Count = 0
    truncated: bool = False
    error: Text = ""
    protocol: Literal["http", "grpc"] = "http"
    trailers: _Headers = []

    def exchange(self) -> Exchange:
        return Exchange(
            seq=self.seq,
            method=self.method,
            url=self.url,
            request_headers=[(k, v) for k, v in self.request_headers],
            request_body=self.request_body,
            started_at=self.started or 0.0,
            status=self.status,
            reason=self.reason,
            response_headers=[(k, v) for k, v in self.response_headers],
            first_byte_at=self.first_byte,
            ended_at=self.ended,
            bytes_received=self.bytes,
            truncated=self.truncated,
            error=self.error,
            protocol=self.protocol,
            trailers=[(k, v) for k, v in self.trailers],
        )


class _FrameLine(BaseModel):
    model_config = STRICT
    type: Literal["frame"]
    exchange: Annotated[int, Field(ge=0, le=10**9)]
    at: Offset
    event: Name = ""
    id: Name = ""
    retry: Annotated[int, Field(ge=0, le=10**9)] | None = None
    data: _JsonText = ""


class _SdkEventLine(BaseModel):
    model_config = STRICT
    type: Literal["sdk_event"]
    exchange: Annotated[int, Field(ge=0, le=10**9)]
    at: Offset
    event: Annotated[bytes, BeforeValidator(_stream_response)]


_Line = TypeAdapter(
    Annotated[_StreamLine | _ExchangeLine | _FrameLine | _SdkEventLine, Field(discriminator="type")]
)
_KNOWN_TYPES = frozenset({"stream", "exchange", "frame", "sdk_event"})


def _line(number: int, value: Any) -> BaseModel | None:
    """Line `number` checked, or None for a line of a type this version does not know."""
    if not isinstance(value, dict):
        raise FileRejected(f"line {number}: the line must be an object (it is {kind_of(value)}).")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise FileRejected(
            f"line {number}: `type` "
            + ("is missing." if kind is None else f"must be text (it is {kind_of(kind)}).")
        )
    if kind not in _KNOWN_TYPES:
        return None  # written by a later version: skipped, as before
    try:
        checked: BaseModel = _Line.validate_python(value)
    except ValidationError as error:
        raise FileRejected(f"line {number}: {explain(error, skip=1)}.") from error
    return checked


def read_stream(text: str | bytes) -> StreamRecord:
    """A stream file (as `export_jsonl` writes it) as a record ready to inspect."""
    lines = load_json_lines(
        text, what="stream file", max_bytes=MAX_STREAM_BYTES, max_lines=MAX_STREAM_LINES
    )
    first = lines[0][1] if lines else None
    if not isinstance(first, dict) or first.get("type") != "stream":
        raise FileRejected("This file is not a stream exported by this app (no stream line).")
    head = _line(lines[0][0], first)
    assert isinstance(head, _StreamLine)
    record = StreamRecord(
        0,
        head.label,
        head.agent_url,
        binding=head.binding,
        protocol_version=head.protocol_version,
        started_at=0.0,
        started_wall=head.started_wall,
        ended_at=head.ended,
        error=head.error,
        imported_frames=[],
    )
    frames: list[Frame] = []
    for number, value in lines[1:]:
        line = _line(number, value)
        if isinstance(line, _ExchangeLine):
            record.exchanges.append(line.exchange())
        elif isinstance(line, _FrameLine):
            frames.append(Frame(line.exchange, line.event, line.data, line.id, line.retry, line.at))
        elif isinstance(line, _SdkEventLine):
            record.events.append((line.exchange, line.at, line.event))
    record.imported_frames = frames
    return record
