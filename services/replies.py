"""Plain-data views of A2A replies, so pages never touch protobuf.

`ReplyEvent` is one `StreamResponse` as the app sees it; `Reply` folds a reply's
events together (artifact chunks reassembled per artifact id, status messages, the
final state); `Conversation` is the chat history with the ids multi-turn needs.
All of it is plain, picklable data kept in session state.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import InitVar, dataclass, field
from typing import Any, Literal

from a2a.types.a2a_pb2 import Artifact, Message, Part, StreamResponse, Task, TaskState
from google.protobuf.json_format import Error as JsonFormatError
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message as ProtoMessage
from google.protobuf.struct_pb2 import Value

__all__ = [
    "FINAL_STATES",
    "STATUS_LOG_KEPT",
    "INTERRUPTED_STATES",
    "ArtifactView",
    "Conversation",
    "PartView",
    "Reply",
    "ReplyEvent",
    "Turn",
    "proto_json",
    "response_json",
    "state_name",
    "to_reply_event",
]

FINAL_STATES = frozenset({"completed", "failed", "canceled", "rejected"})
# A reply keeps its latest status messages, and counts the ones it let go: a task that
# reports progress 50,000 times must not grow the session (or the page) without bound.
STATUS_LOG_KEPT = 500
INTERRUPTED_STATES = frozenset({"input-required", "auth-required"})

EventKind = Literal["task", "status", "artifact", "message"]


def state_name(state: int) -> str:
    """`TASK_STATE_INPUT_REQUIRED` -> `input-required` (the spec's spelling)."""
    if state == TaskState.TASK_STATE_UNSPECIFIED:
        return ""
    return TaskState.Name(state).removeprefix("TASK_STATE_").lower().replace("_", "-")


@dataclass
class PartView:
    """One part of a message or artifact: text, data, or a file (raw bytes or URL)."""

    kind: Literal["text", "data", "file"]
    text: str = ""
    data: Any = None
    raw: bytes | None = None
    url: str = ""
    filename: str = ""
    media_type: str = ""
    omitted: int = 0  # bytes of a file too big to keep in the store (raw is then None)

    @classmethod
    def from_proto(cls, part: Part) -> PartView:
        content = part.WhichOneof("content")
        if content == "data":
            return cls("data", data=proto_json(part.data), media_type=part.media_type)
        if content == "raw":
            return cls("file", raw=part.raw, filename=part.filename, media_type=part.media_type)
        if content == "url":
            return cls("file", url=part.url, filename=part.filename, media_type=part.media_type)
        return cls("text", text=part.text, media_type=part.media_type)


def _parts(parts: Any) -> list[PartView]:
    return [PartView.from_proto(p) for p in parts]


def _text(parts: list[PartView]) -> str:
    return "".join(p.text for p in parts if p.kind == "text")


@dataclass
class ReplyEvent:
    """One streamed event, flattened. `raw` is the `StreamResponse` as JSON."""

    kind: EventKind
    task_id: str = ""
    context_id: str = ""
    state: str = ""
    text: str = ""
    artifact_id: str = ""
    artifact_name: str = ""
    append: bool = False
    last_chunk: bool = False
    parts: list[PartView] = field(default_factory=list)
    artifacts: list[ArtifactView] = field(default_factory=list)
    response: InitVar[StreamResponse | None] = None
    received_at: float = 0.0
    stream_id: int = 0  # the inspector's record of the stream it came in (0: not recorded)
    extensions: tuple[str, ...] = ()  # the extensions the agent said it activated
    # The response, serialized (0.1 µs): what the inspector keeps of each event. Bytes,
    # unlike a protobuf message, are not walked by every full garbage collection.
    wire: bytes = field(default=b"", init=False, repr=False, compare=False)
    _raw: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self, response: StreamResponse | None) -> None:
        if response is not None:
            self.wire = response.SerializeToString()

    @property
    def raw(self) -> dict[str, Any]:
        """The `StreamResponse` as JSON, made on first use: most events are never inspected,
        and converting every one on the loop costs about 20 µs each."""
        if self._raw is None:
            self._raw = response_json(self.wire)
        return self._raw

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def response_json(wire: bytes) -> dict[str, Any]:
    """A serialized `StreamResponse` as JSON (camelCase keys, as on the wire)."""
    return proto_json(StreamResponse.FromString(wire))


def proto_json(message: ProtoMessage) -> Any:
    """`MessageToDict`, except that a NaN or infinite number in agent data (which JSON
    cannot hold, so protobuf refuses to print it) is shown as the string "NaN",
    "Infinity" or "-Infinity" instead of failing the whole reply."""
    try:
        return MessageToDict(message)
    except (ValueError, JsonFormatError):
        copy = type(message)()
        copy.CopyFrom(message)
        _spell_non_finite(copy)
        return MessageToDict(copy)


def _spell_non_finite(message: ProtoMessage) -> None:
    """Replace non-finite numbers in every `Value` inside `message` by their names."""
    pending = [message]
    while pending:  # iterative: agent data may be nested as deep as protobuf allows
        current = pending.pop()
        if isinstance(current, Value) and current.WhichOneof("kind") == "number_value":
            number = current.number_value
            if math.isnan(number):
                current.string_value = "NaN"
            elif math.isinf(number):
                current.string_value = "Infinity" if number > 0 else "-Infinity"
            continue
        for descriptor, value in current.ListFields():
            if descriptor.message_type is None:
                continue
            if descriptor.message_type.GetOptions().map_entry:
                values = value.values()
            elif descriptor.is_repeated:
                values = value
            else:
                values = [value]
            pending += [v for v in values if isinstance(v, ProtoMessage)]


def _artifact_view(artifact: Artifact, complete: bool) -> ArtifactView:
    # A stored artifact keeps one part per streamed chunk: merge them as the live path does.
    view = ArtifactView(artifact.artifact_id, artifact.name, complete=complete)
    view.add(_parts(artifact.parts))
    return view


def _message_event(message: Message, **ids: str) -> dict[str, Any]:
    parts = _parts(message.parts)
    return {"parts": parts, "text": _text(parts), **ids}


def _task_event(task: Task) -> dict[str, Any]:
    parts = _parts(task.status.message.parts)
    state = state_name(task.status.state)
    # A snapshot's artifacts are whole only once the task is over; before, more may come.
    done = state in FINAL_STATES
    return {
        "task_id": task.id,
        "context_id": task.context_id,
        "state": state,
        "parts": parts,
        "text": _text(parts),
        "artifacts": [_artifact_view(a, done) for a in task.artifacts],
    }


def to_reply_event(response: StreamResponse, received_at: float | None = None) -> ReplyEvent:
    """Flatten one a2a-sdk `StreamResponse` into a `ReplyEvent`."""
    received_at = time.monotonic() if received_at is None else received_at
    payload = response.WhichOneof("payload")
    if payload == "task":
        return ReplyEvent(
            "task", response=response, received_at=received_at, **_task_event(response.task)
        )
    if payload == "status_update":
        update = response.status_update
        return ReplyEvent(
            "status",
            state=state_name(update.status.state),
            response=response,
            received_at=received_at,
            **_message_event(
                update.status.message, task_id=update.task_id, context_id=update.context_id
            ),
        )
    if payload == "artifact_update":
        update = response.artifact_update
        parts = _parts(update.artifact.parts)
        return ReplyEvent(
            "artifact",
            task_id=update.task_id,
            context_id=update.context_id,
            text=_text(parts),
            artifact_id=update.artifact.artifact_id,
            artifact_name=update.artifact.name,
            append=update.append,
            last_chunk=update.last_chunk,
            parts=parts,
            response=response,
            received_at=received_at,
        )
    message = response.message
    return ReplyEvent(
        "message",
        response=response,
        received_at=received_at,
        **_message_event(message, task_id=message.task_id, context_id=message.context_id),
    )


@dataclass
class ArtifactView:
    """An artifact reassembled from its chunks."""

    artifact_id: str
    name: str = ""
    parts: list[PartView] = field(default_factory=list)
    complete: bool = False

    @property
    def text(self) -> str:
        return _text(self.parts)

    def add(self, parts: list[PartView]) -> None:
        for part in parts:
            last = self.parts[-1] if self.parts else None
            # Keep one growing text part per run of text chunks.
            if last and last.kind == part.kind == "text" and last.media_type == part.media_type:
                last.text += part.text
            else:
                self.parts.append(PartView(**vars(part)))


@dataclass
class Reply:
    """Everything one reply has shown so far; `apply` each event in order."""

    task_id: str = ""
    context_id: str = ""
    state: str = ""
    status_log: list[str] = field(default_factory=list)  # the last STATUS_LOG_KEPT
    status_dropped: int = 0  # older status messages let go
    artifacts: dict[str, ArtifactView] = field(default_factory=dict)
    message_parts: list[PartView] = field(default_factory=list)
    status_parts: list[PartView] = field(default_factory=list)
    event_count: int = 0
    started_at: float = field(default_factory=time.monotonic)
    ended_at: float | None = None
    stopped: bool = False
    reconnected: bool = False
    resumed: bool = False  # followed again by itself after its session ended
    background: bool = False  # sent to run in the background: it fills from push notifications
    gaps: list[str] = field(default_factory=list)  # what a reconnect could not fill in
    error: str = ""
    error_detail: str = ""
    stream_id: int = 0  # the inspector's record of its (latest) stream; ids are per session
    extensions: list[str] = field(default_factory=list)  # the agent activated (its header)

    def apply(self, event: ReplyEvent) -> None:
        if self.stopped:
            return  # late events from a stream the user stopped
        self.event_count += 1
        self.stream_id = event.stream_id or self.stream_id
        if event.extensions:
            self.extensions = list(event.extensions)
        self.task_id = event.task_id or self.task_id
        self.context_id = event.context_id or self.context_id
        if event.kind == "message":
            self.message_parts.extend(event.parts)
            return
        if event.kind == "artifact":
            self._apply_chunk(event)
            return
        self.state = event.state or self.state
        for artifact in event.artifacts:
            self.artifacts[artifact.artifact_id] = artifact
        if event.text:
            self.status_log.append(event.text)
            if len(self.status_log) > STATUS_LOG_KEPT:
                del self.status_log[0]
                self.status_dropped += 1
        if event.parts and self.settled:
            # The message that ends or pauses a task (an answer, a question, an error).
            self.status_parts = list(event.parts)

    def _apply_chunk(self, event: ReplyEvent) -> None:
        artifact = self.artifacts.get(event.artifact_id)
        if artifact is None or not event.append:
            artifact = ArtifactView(event.artifact_id, event.artifact_name)
            self.artifacts[event.artifact_id] = artifact
        artifact.name = event.artifact_name or artifact.name
        artifact.add(event.parts)
        artifact.complete = event.last_chunk

    def finish(self) -> None:
        self.ended_at = time.monotonic()
        if self.reconnected:
            self.gaps = [a.name or a.artifact_id for a in self.artifacts.values() if not a.complete]

    def resume(self) -> None:
        """Start taking events again after a broken stream (a reconnect)."""
        self.reconnected = True
        self.error = self.error_detail = ""
        self.ended_at = None

    @property
    def can_reconnect(self) -> bool:
        """A task reply that ended before the task did (stream broken or interrupted)."""
        return bool(self.task_id) and not self.settled and not self.stopped

    def fail(self, message: str, detail: str = "") -> None:
        self.error, self.error_detail = message, detail
        self.finish()

    @property
    def settled(self) -> bool:
        """The task ended or is waiting for the user (a direct message also settles)."""
        return (
            self.state in FINAL_STATES
            or self.state in INTERRUPTED_STATES
            or (bool(self.message_parts) and not self.task_id)
        )

    @property
    def needs_input(self) -> bool:
        return self.state in INTERRUPTED_STATES

    @property
    def text(self) -> str:
        """All the reply's text, in the order it is shown."""
        chunks = [_text(self.message_parts)]
        chunks += [a.text for a in self.artifacts.values()]
        chunks.append(_text(self.status_parts))
        return "\n\n".join(c for c in chunks if c)

    @property
    def working_log(self) -> list[str]:
        """Status messages shown while the task worked (not the settling one)."""
        settling = _text(self.status_parts)
        return [m for m in self.status_log if m != settling]


@dataclass
class Turn:
    """One bubble of the chat: the user's text (and files), or the agent's reply."""

    role: Literal["user", "agent"]
    text: str = ""
    reply: Reply | None = None
    files: list[PartView] = field(default_factory=list)
    # The store's row key; not part of what a turn says, so equal turns compare equal.
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12], compare=False)


def _new_id() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class Conversation:
    """A chat with one agent. The ids multi-turn needs derive from its replies.

    `seed_context_id` / `seed_task_id` let a conversation continue a task opened from
    elsewhere (the Tasks page) before it has replies of its own.
    """

    turns: list[Turn] = field(default_factory=list)
    id: str = field(default_factory=_new_id)
    title: str = ""
    created: float = field(default_factory=time.time)
    accepted_output_modes: list[str] = field(default_factory=list)
    history_length: int | None = None
    seed_context_id: str = ""
    seed_task_id: str = ""
    extensions: list[str] = field(default_factory=list)  # activated on each of its requests

    @property
    def label(self) -> str:
        """The title, or else the first message, shortened."""
        first = next((t.text for t in self.turns if t.role == "user" and t.text), "")
        label = self.title or first or "New conversation"
        return label if len(label) <= 40 else label[:39] + "…"

    def add_user(self, text: str, files: list[PartView] | None = None) -> None:
        self.turns.append(Turn("user", text, files=list(files or [])))

    def add_reply(self) -> Reply:
        reply = Reply()
        self.turns.append(Turn("agent", reply=reply))
        return reply

    @property
    def replies(self) -> list[Reply]:
        return [t.reply for t in self.turns if t.reply is not None]

    @property
    def last_reply(self) -> Reply | None:
        replies = self.replies
        return replies[-1] if replies else None

    @property
    def context_id(self) -> str:
        """The context the next message continues (the agent's memory of this chat)."""
        from_replies = (r.context_id for r in reversed(self.replies) if r.context_id)
        return next(from_replies, self.seed_context_id)

    @property
    def task_id(self) -> str:
        """A task waiting for the user's answer (input or auth required), if any."""
        last = self.last_reply
        if last is None:
            return self.seed_task_id
        return last.task_id if last.needs_input else ""
