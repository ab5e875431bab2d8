"""A task's push notification deliveries as a stream record, for the Streaming inspector.

The webhook keeps each notification an agent POSTs (`services.store.push.Delivery`); laid
end to end, oldest first, a task's deliveries are its timeline, and the A2A 1.0 stream
rules apply to them as to a streamed reply. Each delivery becomes one frame, at its
arrival time from the first delivery, next to the SDK event read from its body.

Takes anything with `received_at` and `body` (the inspector sits below the store).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Protocol

from a2a.types.a2a_pb2 import StreamResponse, Task
from google.protobuf.json_format import ParseDict, ParseError

from services.inspector.capture import Frame, SdkEvent, StreamRecord
from services.inspector.validation import FINAL, parse_payload
from services.redact import Redactor

__all__ = ["Received", "push_record", "stream_response"]


class Received(Protocol):
    """A delivery as the inspector needs it (`services.store.push.Delivery` is one)."""

    @property
    def received_at(self) -> float: ...  # time.time() when the webhook took it

    @property
    def body(self) -> str: ...  # the JSON the agent POSTed


def stream_response(body: str) -> StreamResponse | None:
    """A delivery's body as a StreamResponse (a bare Task, as 0.3 agents send, wrapped);
    None when it is neither. Reads a body as the webhook's receiver does."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    try:
        response = ParseDict(parsed, StreamResponse(), ignore_unknown_fields=True)
        # A bare Task's fields are all unknown to StreamResponse: that parses, to nothing.
        if response.WhichOneof("payload") is not None:
            return response
    except (ParseError, ValueError, TypeError, AttributeError):
        pass
    try:
        task = ParseDict(parsed, Task(), ignore_unknown_fields=True)
    except (ParseError, ValueError, TypeError, AttributeError):
        return None
    return StreamResponse(task=task) if task.id else None


def push_record(
    task_id: str,
    deliveries: Sequence[Received],
    *,
    agent_url: str = "",
    redactor: Redactor | None = None,
) -> StreamRecord:
    """The record `inspect()` reads for `task_id`'s `deliveries`, given oldest first.

    Times run from the first delivery. The record ends (and a missing final state becomes
    a finding) only once a final state arrived: until then the agent may post more.
    """
    redact = redactor.text if redactor else (lambda s: s)
    started = deliveries[0].received_at if deliveries else 0.0
    frames: list[Frame] = []
    events: list[SdkEvent] = []
    at = 0.0
    for seq, delivery in enumerate(deliveries, start=1):
        at = max(at, delivery.received_at - started)  # wall clock: never let it run back
        data = redact(delivery.body)
        # The body as it arrived, not wrapped in a JSON-RPC envelope it never had: the
        # rules read a bare StreamResponse (the HTTP+JSON shape) and a bare Task alike.
        # One exchange number per delivery pairs each frame with its own SDK event.
        frames.append(Frame(seq, "", data, at=at))
        if (response := stream_response(data)) is not None:
            events.append((seq, at, response.SerializeToString()))
    finished = any(parse_payload(f).state in FINAL for f in frames)
    return StreamRecord(
        0,
        f"push · task {task_id[:8]}",
        agent_url,
        binding="push",
        started_at=0.0,
        started_wall=started if deliveries else time.time(),
        events=events,
        ended_at=at if finished else None,
        imported_frames=frames,
    )
