"""The composer: a whole SendMessage request as JSON, drafted, checked, then sent.

`draft_request` writes what the plain chat would send (the same `SendOptions.request`),
so a person edits from there: parts (text, data, files), metadata, reference task ids,
task and context ids, the configuration. `parse_request` reads it back through the one
bounded JSON door (`services.formats.load_json`), then checks it against the protobuf
schema field by field, so each problem gets its own sentence naming the field path and
what is wrong (unknown field, wrong type, two members of a oneof), then parses it
strictly (`json_format.ParseDict`) and runs a2a-sdk's required-field check. Only a
request that passed all of that is sent (`astream_reply(..., request=...)`).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
from collections.abc import Iterator
from typing import Any

from a2a.types.a2a_pb2 import Part, SendMessageRequest
from a2a.utils.errors import InvalidParamsError
from a2a.utils.proto_utils import validate_proto_required_fields
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError

from services.client.agent import SendOptions
from services.formats import FileRejected, clip, load_json
from services.replies import PartView

__all__ = [
    "MAX_PROBLEMS",
    "MAX_REQUEST_BYTES",
    "RequestRejected",
    "draft_request",
    "parse_request",
    "request_turn",
]

MAX_REQUEST_BYTES = 1024 * 1024  # a composed request (files inline as base64 included)
MAX_PROBLEMS = 10  # sentences shown for one request; the rest are counted
MAX_DEPTH = 64

_INT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_FLOAT_TYPES = {FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE}
_FLOAT_WORDS = {"NaN", "Infinity", "-Infinity"}
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


class RequestRejected(ValueError):
    """A composed request that will not be sent; `problems` holds one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def draft_request(options: SendOptions, text: str = "") -> str:
    """The request the plain chat would send for `text` with `options`, as indented JSON
    (with an empty text part to fill in when `text` is empty)."""
    request = options.request(text)
    if not text:
        request.message.parts.insert(0, Part(text=""))
    return json.dumps(MessageToDict(request), indent=2, ensure_ascii=False)


def parse_request(text: str, *, max_bytes: int = MAX_REQUEST_BYTES) -> SendMessageRequest:
    """The composed JSON as a `SendMessageRequest`, or `RequestRejected` with one
    sentence per problem (at most `MAX_PROBLEMS`, then how many more)."""
    try:
        value = load_json(text, what="request", max_bytes=max_bytes, max_depth=MAX_DEPTH)
    except FileRejected as error:
        raise RequestRejected([str(error)]) from error
    if not isinstance(value, dict):
        raise RequestRejected(
            [f"The request should be a JSON object (a SendMessageRequest), not {_kind(value)}."]
        )
    request = SendMessageRequest()
    problems = list(_check_message(value, request.DESCRIPTOR, ""))
    if problems:
        raise RequestRejected(_bounded(problems))
    try:
        ParseDict(value, request)
    except (ParseError, ValueError, TypeError) as error:  # what the walk did not foresee
        raise RequestRejected(
            [f"The request does not fit the A2A schema: {clip(str(error), 300)}."]
        ) from error
    try:
        validate_proto_required_fields(request)
    except InvalidParamsError as error:
        errors = error.data.get("errors", []) if isinstance(error.data, dict) else []
        missing = [
            f"`{_json_path(str(e.get('field', '')))}` is required, and it is missing or empty."
            for e in errors
            if isinstance(e, dict)
        ]
        raise RequestRejected(_bounded(missing or [f"The request is incomplete: {error}."])) from (
            error
        )
    return request


def request_turn(request: SendMessageRequest) -> tuple[str, list[PartView]]:
    """What the chat history shows of a composed message: its text parts as text (and a
    line for each data part), its files as the files a person attached."""
    lines: list[str] = []
    files: list[PartView] = []
    for part in request.message.parts:
        view = PartView.from_proto(part)
        if view.kind == "text":
            lines.append(view.text)
        elif view.kind == "data":
            data = json.dumps(view.data, ensure_ascii=False, separators=(",", ":"))
            lines.append(f"[data part: {clip(data, 120)}]")
        else:
            files.append(view)
    return "\n\n".join(line for line in lines if line), files


# --- the schema walk -----------------------------------------------------------------------


def _bounded(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], f"… and {more} more problem{'s' if more > 1 else ''}."]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f'a string ("{clip(value, 40)}")'
    if isinstance(value, list):
        return "an array"
    return "an object"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _json_path(field: str) -> str:
    """`message.message_id` -> `message.messageId` (the SDK names fields as in proto)."""
    return ".".join(_camel(step) for step in field.split("."))


def _check_message(value: Any, descriptor: Descriptor, path: str) -> Iterator[str]:
    where = f"`{path}`" if path else "The request"
    if not isinstance(value, dict):
        yield f"{where} should be an object ({descriptor.name}), not {_kind(value)}."
        return
    fields: dict[str, FieldDescriptor] = {}
    for field in descriptor.fields:
        fields[field.name] = fields[field.json_name] = field
    oneofs: dict[str, list[str]] = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            names = sorted({f.json_name for f in descriptor.fields})
            close = difflib.get_close_matches(key, names, n=1)
            hint = (
                f" (did you mean `{close[0]}`?)" if close else f" (its fields: {', '.join(names)})"
            )
            yield f"`{_join(path, clip(key, 40))}` is not a field of {descriptor.name}{hint}."
            continue
        if field.containing_oneof is not None and item is not None:
            oneofs.setdefault(field.containing_oneof.name, []).append(key)
        yield from _check_field(item, field, _join(path, key))
    for oneof, keys in oneofs.items():
        if len(keys) > 1:
            members = ", ".join(f.json_name for f in descriptor.oneofs_by_name[oneof].fields)
            yield (
                f"{where} sets {' and '.join(f'`{k}`' for k in keys)}, but a "
                f"{descriptor.name} holds only one of {members}."
            )


def _check_field(value: Any, field: FieldDescriptor, path: str) -> Iterator[str]:
    if value is None:
        return  # JSON null leaves a field unset (proto3 JSON mapping)
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        if not isinstance(value, dict):
            yield f"`{path}` should be an object (a map), not {_kind(value)}."
            return
        value_field = message.fields_by_name["value"]
        for key, item in value.items():
            yield from _check_single(item, value_field, f"{path}.{clip(str(key), 40)}")
        return
    if field.is_repeated:
        if not isinstance(value, list):
            yield f"`{path}` should be an array, not {_kind(value)}."
            return
        for index, item in enumerate(value):
            yield from _check_single(item, field, f"{path}[{index}]")
        return
    yield from _check_single(value, field, path)


def _check_single(value: Any, field: FieldDescriptor, path: str) -> Iterator[str]:
    message = field.message_type
    if message is not None:
        yield from _check_well_known(value, message, path)
        return
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            yield f"`{path}` should be a string, not {_kind(value)}."
    elif kind == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            yield f"`{path}` should be true or false, not {_kind(value)}."
    elif kind in _INT_TYPES:
        whole = (
            (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer())
            or (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) is not None)
        )
        if not whole:
            yield f"`{path}` should be a whole number, not {_kind(value)}."
    elif kind in _FLOAT_TYPES:
        if isinstance(value, bool) or not (
            isinstance(value, int | float) or (isinstance(value, str) and value in _FLOAT_WORDS)
        ):
            yield f"`{path}` should be a number, not {_kind(value)}."
    elif kind == FieldDescriptor.TYPE_BYTES:
        if not isinstance(value, str):
            yield f"`{path}` should be base64 text, not {_kind(value)}."
        elif not _is_base64(value):
            yield f'`{path}` should be base64 text, and "{clip(value, 40)}" is not valid base64.'
    elif kind == FieldDescriptor.TYPE_ENUM:
        names = [v.name for v in field.enum_type.values]
        numbers = {v.number for v in field.enum_type.values}
        known = (isinstance(value, str) and value in names) or (
            isinstance(value, int) and not isinstance(value, bool) and value in numbers
        )
        if not known:
            yield f"`{path}` should be one of {', '.join(names)}, not {_kind(value)}."


def _check_well_known(value: Any, message: Descriptor, path: str) -> Iterator[str]:
    name = message.full_name
    if name == "google.protobuf.Value":
        return  # any JSON value
    if name == "google.protobuf.Struct":
        if not isinstance(value, dict):
            yield f"`{path}` should be an object, not {_kind(value)}."
        return
    if name == "google.protobuf.ListValue":
        if not isinstance(value, list):
            yield f"`{path}` should be an array, not {_kind(value)}."
        return
    if name.startswith("google.protobuf."):
        if not isinstance(value, str | int | float):
            yield f"`{path}` should be a {message.name} in its JSON form, not {_kind(value)}."
        return  # timestamps and the like: ParseDict judges the form
    yield from _check_message(value, message, path)


def _is_base64(text: str) -> bool:
    """Standard or URL-safe base64, padded or not (what protobuf's JSON reader takes)."""
    cleaned = text.strip().rstrip("=")
    if cleaned and not re.fullmatch(r"[A-Za-z0-9+/_-]*", cleaned):
        return False
    if len(cleaned) % 4 == 1:
        return False
    try:
        base64.urlsafe_b64decode(cleaned.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError):
        return False
    return True
