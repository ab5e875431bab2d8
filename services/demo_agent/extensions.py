"""The demo agent's A2A extensions: what its card declares, what activating one does, and
the `A2A-Extensions` response header that says which ones it activated.

- `TIMESTAMPS_URI` (always optional): the agent stamps each event it sends with the time
  it sent it, in the event's metadata under the extension's URI.
- `AUDIT_URI`: optional on the normal card; with `required=True` the card marks it
  `required: true` and the agent refuses a message that does not activate it
  (a2a-sdk's `ExtensionSupportRequiredError`, see `tenants.CheckedRequestHandler`).

a2a-sdk 1.3.0 reads the requested extensions into `ServerCallContext.requested_extensions`
but does not report activated ones: `ExtensionsHeader` writes the response header, as the
spec's "Extensions" section has agents do, for every requested extension the card
declares (the demo agent activates all it knows).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from a2a.extensions.common import HTTP_EXTENSION_HEADER, get_requested_extensions
from a2a.server.events import Event, EventQueue
from a2a.types.a2a_pb2 import AgentExtension, Message, TaskArtifactUpdateEvent
from a2a.types.a2a_pb2 import TaskStatusUpdateEvent as StatusEvent
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

__all__ = [
    "AUDIT_URI",
    "TIMESTAMPS_URI",
    "ExtensionsHeader",
    "StampedQueue",
    "demo_extensions",
]

TIMESTAMPS_URI = "https://a2a-streamlit.dev/ext/timestamps/v1"
AUDIT_URI = "https://a2a-streamlit.dev/ext/audit/v1"


def demo_extensions(*, required: bool = False) -> list[AgentExtension]:
    """The extensions the demo card declares; `required` makes the audit one required."""
    return [
        AgentExtension(
            uri=TIMESTAMPS_URI,
            description="Stamps every event the agent sends with the time it sent it "
            "(metadata under this URI).",
            required=False,
        ),
        AgentExtension(
            uri=AUDIT_URI,
            description="The caller agrees that its messages are logged for audit.",
            required=required,
        ),
    ]


class StampedQueue(EventQueue):
    """An executor's event queue that adds `{"sentAt": ...}` under `TIMESTAMPS_URI` to the
    metadata of each message, status and artifact event before handing it on."""

    def __init__(self, queue: EventQueue) -> None:
        self._queue = queue

    async def enqueue_event(self, event: Event) -> None:
        if isinstance(event, Message | StatusEvent | TaskArtifactUpdateEvent):
            stamped = type(event)()
            stamped.CopyFrom(event)
            sent_at = datetime.now(UTC).isoformat(timespec="milliseconds")
            stamped.metadata.update({TIMESTAMPS_URI: {"sentAt": sent_at}})
            event = stamped
        await self._queue.enqueue_event(event)


class ExtensionsHeader:
    """Pure ASGI middleware (the agent streams): answers a request that asks for
    extensions with an `A2A-Extensions` header naming those of `known` it activated."""

    def __init__(self, app: ASGIApp, known: Iterable[str]) -> None:
        self.app = app
        self.known = frozenset(known)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = HTTP_EXTENSION_HEADER.lower().encode()
        asked = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == name]
        activated = sorted(get_requested_extensions(asked) & self.known)
        if not activated:
            await self.app(scope, receive, send)
            return
        value = ",".join(activated).encode()

        async def send_with_header(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (name, value)]}
            await send(message)

        await self.app(scope, receive, send_with_header)
