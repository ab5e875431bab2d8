"""The embedded demo A2A agent: deterministic scenarios that exercise the protocol.

Built on a2a-sdk's server side (AgentExecutor, DefaultRequestHandler, Starlette routes)
and served by uvicorn on 127.0.0.1. The app starts one per process when no agent is
configured (`ensure_demo_agent`); it also runs alone:

    python -m services.demo_agent --port 9999 [--bearer-token T] [--api-key K]
        [--database-url sqlite:///tasks.db]

Besides the chat scenarios it receives files (summarised and echoed back byte for
byte), returns files and data (a PNG chart, a URL file served at `/files/...`, a JSON
object), serves an extended card (`GetExtendedAgentCard`), and can require a bearer
token and/or an API key (`DemoAuth`). With a `database_url` its tasks outlive a restart
(those a restart cut off end as failed), each visitor's apart from the others'.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import hashlib
import hmac
import logging
import re
import socket
import struct
import threading
import time
import unicodedata
import uuid
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from a2a.auth.user import User
from a2a.helpers.proto_helpers import (
    new_data_part,
    new_raw_part,
    new_task,
    new_text_message,
    new_text_part,
    new_url_part,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.models import create_task_model
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import (
    DefaultServerCallContextBuilder,
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.server.tasks import DatabaseTaskStore, InMemoryTaskStore, TaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    APIKeySecurityScheme,
    HTTPAuthSecurityScheme,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    Part,
    Role,
    SecurityRequirement,
    SecurityScheme,
    StringList,
    Task,
    TaskState,
    TaskStatus,
)
from a2a.utils.constants import (
    AGENT_CARD_WELL_KNOWN_PATH,
    PROTOCOL_VERSION_CURRENT,
    TransportProtocol,
)
from anyio.from_thread import start_blocking_portal
from sqlalchemy import event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, SimpleUser
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from services.runtime import name_native_thread

__all__ = [
    "DemoAgentServer",
    "VISITOR_HEADER",
    "DemoAuth",
    "DemoTiming",
    "LoopbackServer",
    "MAX_VISITOR_LENGTH",
    "RESTARTED_TEXT",
    "TASKS_TABLE",
    "build_agent_card",
    "build_app",
    "build_extended_agent_card",
    "chart_png",
    "ensure_demo_agent",
]

_THREAD_NAME = "a2a-demo-agent"
# a2a-sdk's server warns "Dispatcher task is not running" whenever a client leaves a
# stream early (Stop, a closed tab): expected here, and noise in the app's console.
logging.getLogger("a2a.server.events.event_queue_v2").setLevel(logging.ERROR)

# --- the scenarios' content -------------------------------------------------------

LONG_ANSWER = """\
## How A2A streaming works

An A2A client sends `SendStreamingMessage` and the agent answers with a stream of \
**Server-Sent Events**. Each event is one JSON-RPC response whose `result` is a \
`StreamResponse`:

- a `task` that opens the exchange,
- `statusUpdate` events as the task moves from *working* to a final state,
- `artifactUpdate` events that carry the answer in chunks (`append`, `lastChunk`),
- or a single `message` for a quick reply.

The client keeps the `contextId` for the next turn, so the agent remembers the \
conversation. A task that needs more from the user stops in `input-required`.

```python
async for event in client.send_message(request):
    kind = event.WhichOneof("payload")
    print(kind, event)
```

| Event | Carries | Ends the stream? |
|---|---|---|
| task | the task and its status | no |
| statusUpdate | state, optional message | when final |
| artifactUpdate | a chunk of an artifact | no |
| message | a direct reply | yes |

Streamlit reruns its script on fresh threads, so this app keeps one event loop per \
browser session and reaches it through an anyio portal: the client above is created, \
used and closed on that loop only, and never meets a closed one.
"""

TRIP_QUESTIONS = ("Where would you like to go?", "How many nights will you stay?")

REPORT_ROWS = [
    {"region": "North", "q1": 120, "q2": 135, "q3": 150},
    {"region": "South", "q1": 98, "q2": 101, "q3": 117},
    {"region": "East", "q1": 143, "q2": 139, "q3": 160},
    {"region": "West", "q1": 87, "q2": 110, "q3": 121},
]

HELP_TEXT = (
    "I'm the demo agent. Try: **explain streaming** (a long streamed answer), "
    "**search for A2A news** (live status updates), **book a trip** (a multi-turn "
    "task), **run a slow task** (try Stop), **make a task that fails**, "
    "**generate a sales report** (JSON and CSV artifacts), **draw a chart image** "
    "(a PNG, a linked file and JSON), attach a file (I echo it back), or tell me "
    "your name and ask for it later."
)

INPUT_MODES = [
    "text/plain",
    "image/png",
    "image/jpeg",
    "text/csv",
    "application/json",
    "application/pdf",
]

# Files the app serves publicly at /files/{name}; the chart scenario links to one.
PUBLIC_FILES: dict[str, tuple[str, str]] = {
    "readme.txt": (
        "A2A Demo Agent\n\nThis file is served by the demo agent at /files/readme.txt and "
        "reaches you as a URL file part: the client fetches it, not the agent.\n",
        "text/plain; charset=utf-8",
    ),
}

# The chart plots Q3 of the sales report, region by region.
_CHART_SERIES: dict[str, int] = {"North": 150, "South": 117, "East": 160, "West": 121}


@dataclass(frozen=True)
class DemoTiming:
    """How fast the demo agent talks; tests shrink these."""

    token_delay: float = 0.025  # one word per event: about 40 words a second
    step_delay: float = 0.6  # between status updates
    slow_interval: float = 1.0  # the slow task's chunk interval
    slow_chunks: int = 35  # the slow task's length (35 s at one a second)


@dataclass(frozen=True)
class DemoAuth:
    """Credentials the demo agent requires: a bearer token, an API key, or either one.

    The secrets stay out of `repr`, so they never reach a log line.
    """

    bearer_token: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)  # sent in the X-API-Key header

    def __post_init__(self) -> None:
        if not (self.bearer_token or self.api_key):
            raise ValueError("DemoAuth needs a bearer_token, an api_key or both")


API_KEY_HEADER = "X-API-Key"
_REALM = "A2A Demo Agent"


def _words(text: str) -> list[str]:
    """Split into chunks that join back to exactly `text` (whitespace kept)."""
    return re.split(r"(?<=\s)(?=\S)", text)


def _route(text: str) -> str:
    lowered = text.lower()
    for keyword, scenario in (
        ("admin", "admin"),  # before "report": "Show the admin report"
        ("explain", "long"),
        ("stream", "long"),
        ("search", "search"),
        ("book", "trip"),
        ("trip", "trip"),
        ("slow", "slow"),
        ("fail", "fail"),
        ("image", "chart"),
        ("chart", "chart"),
        ("report", "report"),
    ):
        if keyword in lowered:
            return scenario
    return "chat"


def chart_png(values: dict[str, int], width: int = 64, height: int = 32) -> bytes:
    """A small bar chart as a valid PNG (8-bit RGB), built with zlib and struct only.

    One bar per value, scaled to the tallest, on white with a grey baseline. The
    bytes are the same for the same input (zlib is deterministic).
    """
    colors = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88)]
    top = max(values.values(), default=1) or 1
    slot = width // max(len(values), 1)
    heights = [round(v / top * (height - 4)) for v in values.values()]

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if y == height - 1:
            return (96, 96, 96)  # the baseline
        bar, offset = divmod(x, slot)
        if bar < len(heights) and 2 <= offset < slot - 2 and y >= height - 1 - heights[bar]:
            return colors[bar % len(colors)]
        return (255, 255, 255)

    # Each scanline starts with filter type 0 (None), then R, G, B per pixel.
    scanlines = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 9))
        + chunk(b"IEND", b"")
    )


def _file_parts(message: Message) -> list[Part]:
    return [part for part in message.parts if part.HasField("raw") or part.HasField("url")]


def _describe_file(part: Part, index: int) -> str:
    name = part.filename or f"file {index}"
    media_type = part.media_type or "unknown type"
    if part.HasField("url"):
        # Never fetched: the demo agent makes no network calls.
        return f"**{name}** · {media_type} · link {part.url} (not fetched)"
    digest = hashlib.sha256(part.raw).hexdigest()[:12]
    return f"**{name}** · {media_type} · {len(part.raw):,} bytes · sha256 {digest}"


@dataclass
class _Memory:
    """What the chat scenario remembers of one context."""

    messages: list[str] = field(default_factory=list)
    name: str | None = None


class DemoAgentExecutor(AgentExecutor):
    """Routes each message to a scenario by keyword; no LLM, no network."""

    def __init__(self, timing: DemoTiming | None = None, base_url: str = "") -> None:
        self.timing = timing or DemoTiming()
        self.base_url = base_url.rstrip("/")  # for the URL parts it hands out
        self._memory: dict[str, _Memory] = {}
        self._trips: dict[str, list[str]] = {}
        self._runs: Counter[str] = Counter()  # scenario -> runs, for the admin report

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id and context.message
        text = context.get_user_input().strip()
        task = context.current_task
        if task is not None and task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            updater = TaskUpdater(event_queue, task.id, task.context_id)
            self._trips.setdefault(task.id, []).append(text)
            await self._trip(updater, text)
            return

        # Attached files win over keywords: the text is acknowledged in the summary.
        scenario = "files" if _file_parts(context.message) else _route(text)
        self._runs[scenario] += 1
        if scenario == "chat":
            await event_queue.enqueue_event(self._chat(context.context_id, text))
            return

        await event_queue.enqueue_event(
            new_task(
                context.task_id,
                context.context_id,
                TaskState.TASK_STATE_SUBMITTED,
                history=[context.message],
            )
        )
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        handlers: dict[str, Callable[[TaskUpdater, str], Awaitable[None]]] = {
            "long": self._long,
            "search": self._search,
            "trip": self._trip,
            "slow": self._slow,
            "fail": self._fail,
            "report": self._report,
            "chart": self._chart,
        }
        if scenario == "files":
            await self._files(updater, context.message, text)
        elif scenario == "admin":
            await self._admin(updater, context)
        else:
            await handlers[scenario](updater, text)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.cancel(updater.new_agent_message([new_text_part("Canceled by the user.")]))

    # --- scenarios ---------------------------------------------------------------

    def _chat(self, context_id: str, text: str) -> Message:
        memory = self._memory.setdefault(context_id, _Memory())
        memory.messages.append(text)
        name = re.search(r"\bmy name is\s+([\w' -]+)", text, re.IGNORECASE)
        if name:
            memory.name = name.group(1).strip().rstrip(".!").title()
            reply = f"Nice to meet you, {memory.name}. I'll remember that in this conversation."
        elif re.search(r"\bwhat(?:'s| is) my name\b", text, re.IGNORECASE):
            reply = (
                f"Your name is {memory.name}."
                if memory.name
                else "You haven't told me your name in this conversation yet."
            )
        elif len(memory.messages) == 1:
            reply = f'You said: "{text}". {HELP_TEXT}'
        else:
            reply = (
                f'You said: "{text}". That is message {len(memory.messages)} of this '
                f'conversation; your first was "{memory.messages[0]}".'
            )
        return new_text_message(reply, context_id=context_id)

    async def _stream_text(self, updater: TaskUpdater, text: str, name: str) -> None:
        artifact_id = f"{updater.task_id}-{name}"
        words = _words(text)
        for index, word in enumerate(words):
            await updater.add_artifact(
                [new_text_part(word, media_type="text/markdown")],
                artifact_id=artifact_id,
                name=name,
                append=index > 0,
                last_chunk=index == len(words) - 1,
            )
            await asyncio.sleep(self.timing.token_delay)

    async def _long(self, updater: TaskUpdater, _text: str) -> None:
        await updater.start_work()
        await self._stream_text(updater, LONG_ANSWER, "answer")
        await updater.complete()

    async def _search(self, updater: TaskUpdater, text: str) -> None:
        for step in ("Searching the knowledge base…", "Reading 3 sources…", "Writing the answer…"):
            await updater.start_work(updater.new_agent_message([new_text_part(step)]))
            await asyncio.sleep(self.timing.step_delay)
        topic = text.split("for", 1)[1].strip() if " for " in f" {text} " else text
        answer = (
            f"**Results for {topic!r}** (from the demo agent's tiny offline index):\n\n"
            "1. *A2A Protocol 1.0*: tasks, messages, artifacts and streaming over "
            "JSON-RPC, gRPC or HTTP+JSON.\n"
            "2. *Agent cards*: each agent publishes `/.well-known/agent-card.json`.\n"
            "3. *Multi-turn*: a task can stop in `input-required` and continue.\n"
        )
        await self._stream_text(updater, answer, "results")
        await updater.complete()

    async def _trip(self, updater: TaskUpdater, text: str) -> None:
        answers = self._trips.setdefault(updater.task_id, [])
        await updater.start_work()
        if len(answers) < len(TRIP_QUESTIONS):
            question = TRIP_QUESTIONS[len(answers)]
            await updater.requires_input(updater.new_agent_message([new_text_part(question)]))
            return
        destination, nights = answers
        del self._trips[updater.task_id]
        summary = f"Booked: {nights} night(s) in {destination}. Have a good trip!"
        await updater.add_artifact(
            [new_text_part(summary, media_type="text/markdown")],
            name="booking",
            last_chunk=True,
        )
        await updater.complete()

    async def _slow(self, updater: TaskUpdater, _text: str) -> None:
        await updater.start_work(
            updater.new_agent_message([new_text_part("Working slowly: press Stop to cancel.")])
        )
        artifact_id = f"{updater.task_id}-progress"
        total = self.timing.slow_chunks
        for index in range(total):
            await updater.add_artifact(
                [new_text_part(f"Step {index + 1} of {total} done.\n\n")],
                artifact_id=artifact_id,
                name="progress",
                append=index > 0,
                last_chunk=index == total - 1,
            )
            await asyncio.sleep(self.timing.slow_interval)
        await updater.complete()

    async def _fail(self, updater: TaskUpdater, _text: str) -> None:
        await updater.start_work(
            updater.new_agent_message([new_text_part("Connecting to the billing system…")])
        )
        await asyncio.sleep(self.timing.step_delay)
        await updater.failed(
            updater.new_agent_message(
                [
                    new_text_part(
                        "The billing system refused the request (a deliberate demo failure)."
                    )
                ]
            )
        )

    async def _report(self, updater: TaskUpdater, _text: str) -> None:
        await updater.start_work(
            updater.new_agent_message([new_text_part("Crunching the numbers…")])
        )
        await asyncio.sleep(self.timing.step_delay)
        await updater.add_artifact(
            [new_data_part({"quarterly_sales": REPORT_ROWS}, media_type="application/json")],
            name="sales.json",
            last_chunk=True,
        )
        header = "region,q1,q2,q3\n"
        lines = "".join(f"{r['region']},{r['q1']},{r['q2']},{r['q3']}\n" for r in REPORT_ROWS)
        await updater.add_artifact(
            [new_raw_part((header + lines).encode(), media_type="text/csv", filename="sales.csv")],
            name="sales.csv",
            last_chunk=True,
        )
        await updater.complete(
            updater.new_agent_message([new_text_part("The report is ready: JSON and CSV.")])
        )

    async def _files(self, updater: TaskUpdater, message: Message, text: str) -> None:
        await updater.start_work()
        files = _file_parts(message)
        lines = [f"Received {len(files)} file(s):", ""]
        lines += [f"- {_describe_file(part, i)}" for i, part in enumerate(files, 1)]
        if text:
            lines += ["", f'You also said: "{text}"']
        await updater.add_artifact(
            [new_text_part("\n".join(lines) + "\n", media_type="text/markdown")],
            name="received",
            last_chunk=True,
        )
        # Echo each raw file untouched, so a client can check the round trip byte for byte.
        for index, part in enumerate(files, 1):
            if part.HasField("raw"):
                name = part.filename or f"file {index}"
                echo = new_raw_part(part.raw, media_type=part.media_type, filename=part.filename)
                await updater.add_artifact([echo], name=name, last_chunk=True)
        await updater.complete()

    async def _chart(self, updater: TaskUpdater, _text: str) -> None:
        await updater.start_work(updater.new_agent_message([new_text_part("Drawing the chart…")]))
        await asyncio.sleep(self.timing.step_delay)
        await updater.add_artifact(
            [new_raw_part(chart_png(_CHART_SERIES), media_type="image/png", filename="chart.png")],
            name="chart.png",
            last_chunk=True,
        )
        await updater.add_artifact(
            [new_url_part(f"{self.base_url}/files/readme.txt", "text/plain", "readme.txt")],
            name="readme.txt",
            last_chunk=True,
        )
        # Nested, not a list of rows: clients should show it as JSON, not as a table.
        details = {
            "chart": {
                "title": "Q3 sales by region",
                "kind": "bar",
                "size": {"width": 64, "height": 32, "unit": "px"},
                "series": _CHART_SERIES,
            },
            "source": {"report": "quarterly_sales", "quarter": "q3", "currency": "kEUR"},
        }
        await updater.add_artifact(
            [new_data_part(details, media_type="application/json")],
            name="chart.json",
            last_chunk=True,
        )
        await updater.complete(
            updater.new_agent_message(
                [new_text_part("The chart is ready: a PNG, a linked text file and its data.")]
            )
        )

    async def _admin(self, updater: TaskUpdater, context: RequestContext) -> None:
        await updater.start_work()
        user = context.call_context.user
        caller = (
            f"authenticated as `{user.user_name}`"
            if user.is_authenticated
            else "anonymous (this agent runs without authentication)"
        )
        rows = "".join(f"| {name} | {count} |\n" for name, count in sorted(self._runs.items()))
        report = (
            "## Admin report\n\n"
            f"Caller: {caller}.\n\n"
            "| Scenario | Runs |\n|---|---|\n"
            f"{rows}\n"
            f"Conversations remembered: {len(self._memory)} · trips in progress: "
            f"{len(self._trips)}.\n"
        )
        await updater.add_artifact(
            [new_text_part(report, media_type="text/markdown")],
            name="admin-report",
            last_chunk=True,
        )
        await updater.complete()


# --- the card and the app ------------------------------------------------------------


def build_agent_card(base_url: str, *, auth: DemoAuth | None = None) -> AgentCard:
    """The demo agent's card, served at `/.well-known/agent-card.json`.

    With `auth`, it declares the matching security schemes ("bearer", "apiKey"), each
    one enough on its own (one security requirement per scheme).
    """
    base_url = base_url.rstrip("/")

    def skill(skill_id: str, name: str, description: str, *examples: str) -> AgentSkill:
        return AgentSkill(
            id=skill_id, name=name, description=description, tags=["demo"], examples=examples
        )

    return AgentCard(
        name="A2A Demo Agent",
        description=(
            "A deterministic agent that exercises the A2A protocol: streaming, status "
            "updates, multi-turn input, cancellation, failures and file/data artifacts."
        ),
        version="1.0.0",
        provider=AgentProvider(organization="a2a-streamlit", url=base_url),
        supported_interfaces=[
            AgentInterface(
                url=f"{base_url}/",
                protocol_binding=TransportProtocol.JSONRPC.value,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            ),
            AgentInterface(
                url=f"{base_url}/rest",
                protocol_binding=TransportProtocol.HTTP_JSON.value,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            ),
        ],
        capabilities=AgentCapabilities(
            streaming=True, push_notifications=False, extended_agent_card=True
        ),
        security_schemes=_security_schemes(auth),
        security_requirements=[
            SecurityRequirement(schemes={name: StringList()}) for name in _security_schemes(auth)
        ],
        default_input_modes=INPUT_MODES,
        default_output_modes=[
            "text/markdown",
            "application/json",
            "text/csv",
            "image/png",
            "text/plain",
        ],
        skills=[
            skill(
                "explain",
                "Long streamed answer",
                "A markdown answer with a heading, a list, code and a table, word by word.",
                "Explain how A2A streaming works",
            ),
            skill(
                "search",
                "Search with progress",
                "Status updates with messages before the answer.",
                "Search for A2A news",
            ),
            skill(
                "trip",
                "Book a trip (multi-turn)",
                "Stops in input-required twice and completes when you answer.",
                "Book a trip",
            ),
            skill(
                "slow",
                "Slow task",
                "One chunk a second for over 30 seconds: try Stop.",
                "Run a slow task",
            ),
            skill(
                "fail",
                "Failing task",
                "A task that ends in the failed state with an error message.",
                "Make a task that fails",
            ),
            skill(
                "report",
                "Sales report",
                "A JSON data artifact and a CSV file artifact.",
                "Generate a sales report",
            ),
            skill(
                "memory",
                "Remembers the conversation",
                "Plain replies that recall what you said earlier in the same context.",
                "My name is Ada",
                "What is my name?",
            ),
            skill(
                "chart",
                "Chart, file and data",
                "A PNG chart, a URL file part the agent serves, and a nested JSON object.",
                "Draw a chart image",
            ),
            AgentSkill(
                id="files",
                name="Receive files",
                description=(
                    "Attach files: a summary with sizes and SHA-256 digests, and each "
                    "file echoed back byte for byte."
                ),
                tags=["demo", "files"],
                input_modes=INPUT_MODES,
            ),
        ],
    )


def _security_schemes(auth: DemoAuth | None) -> dict[str, SecurityScheme]:
    schemes: dict[str, SecurityScheme] = {}
    if auth and auth.bearer_token:
        schemes["bearer"] = SecurityScheme(
            http_auth_security_scheme=HTTPAuthSecurityScheme(
                scheme="Bearer", description="Authorization: Bearer <token>"
            )
        )
    if auth and auth.api_key:
        schemes["apiKey"] = SecurityScheme(
            api_key_security_scheme=APIKeySecurityScheme(
                location="header", name=API_KEY_HEADER, description="An API key header"
            )
        )
    return schemes


def build_extended_agent_card(card: AgentCard) -> AgentCard:
    """The card for callers who may call the agent: `card` plus the admin skill.

    Served by `GetExtendedAgentCard` (JSON-RPC) and `GET /rest/extendedAgentCard`.
    """
    extended = AgentCard()
    extended.CopyFrom(card)
    extended.description = (
        f"{card.description} This extended card is for callers who may call the agent: "
        "it adds an admin report of what the agent has handled since it started."
    )
    extended.skills.append(
        AgentSkill(
            id="admin",
            name="Admin report",
            description="Which scenarios ran and how often, and who is asking.",
            tags=["demo", "admin"],
            examples=["Show the admin report"],
        )
    )
    return extended


VISITOR_HEADER = "X-A2A-Demo-Visitor"
MAX_VISITOR_LENGTH = 200  # longer keys count as no visitor


class _Visitor(User):
    """The caller, with the tasks it owns narrowed to one visitor of the app."""

    def __init__(self, user: User, visitor: str) -> None:
        self._user = user
        self._visitor = visitor

    @property
    def is_authenticated(self) -> bool:
        return self._user.is_authenticated  # a partition, not a credential

    @property
    def user_name(self) -> str:
        return f"{self._user.user_name}/visitor:{self._visitor}"


class _PerVisitor(DefaultServerCallContextBuilder):
    """Keeps each app visitor's tasks apart.

    Every session of the app shares the one embedded demo agent; the SDK scopes tasks by
    user name, so without this every visitor of a public deployment would list (and
    open) everyone's tasks. The app sends `X-A2A-Demo-Visitor` to its own agent only.
    """

    def build_user(self, request: Request) -> User:
        user = super().build_user(request)
        visitor = _visitor_key(request.headers.get(VISITOR_HEADER, ""))
        return _Visitor(user, visitor) if visitor else user


def _visitor_key(value: str) -> str:
    """The partition key in `value`, or "" (no visitor) if it is too long or has controls.

    Any other string is an opaque key (a session id today, a workspace id tomorrow). The
    bound keeps the owner ("<user>/visitor:<key>") inside the task table's 255-character
    owner column.
    """
    if len(value) > MAX_VISITOR_LENGTH or any(unicodedata.category(c) == "Cc" for c in value):
        return ""
    return value


class _RequireCredentials:
    """ASGI middleware: every HTTP request needs a valid credential, except public ones.

    Public: GET/HEAD of the agent card and of the files under `/files/` (exact paths, so
    the SDK's `/{tenant}/...` REST mount cannot be reached through them). A request
    passes with `Authorization: Bearer <token>` when a token is configured, or with
    `X-API-Key: <key>` when a key is; otherwise it gets 401, a JSON `{"error": ...}`
    and a `WWW-Authenticate` challenge per configured scheme.
    """

    def __init__(self, app: ASGIApp, auth: DemoAuth) -> None:
        self.app = app
        self.auth = auth
        self.public = {AGENT_CARD_WELL_KNOWN_PATH, *(f"/files/{name}" for name in PUBLIC_FILES)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] in ("GET", "HEAD") and scope["path"] in self.public
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else ""
        api_key = headers.get(API_KEY_HEADER, "")
        if _matches(bearer, self.auth.bearer_token) or _matches(api_key, self.auth.api_key):
            # A user in the scope makes the SDK's call context authenticated; every
            # credential maps to the same user, so all callers share one task list.
            scope["user"] = SimpleUser("demo-user")
            scope["auth"] = AuthCredentials(["authenticated"])
            await self.app(scope, receive, send)
            return
        presented = bool(headers.get("authorization") or api_key)
        response = JSONResponse(
            {"error": "invalid credentials" if presented else "missing credentials"},
            status_code=401,
            headers={"WWW-Authenticate": self._challenge(invalid_bearer=bool(bearer))},
        )
        await response(scope, receive, send)

    def _challenge(self, *, invalid_bearer: bool) -> str:
        challenges = []
        if self.auth.bearer_token:
            error = ', error="invalid_token"' if invalid_bearer else ""
            challenges.append(f'Bearer realm="{_REALM}"{error}')
        if self.auth.api_key:
            challenges.append(f'ApiKey realm="{_REALM}", header="{API_KEY_HEADER}"')
        return ", ".join(challenges)


def _matches(given: str, expected: str | None) -> bool:
    # Constant-time, so response times do not leak how much of a secret was right.
    return bool(given and expected) and hmac.compare_digest(
        given.encode(), (expected or "").encode()
    )


async def _public_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in PUBLIC_FILES:
        return PlainTextResponse("Not Found", status_code=404)
    text, media_type = PUBLIC_FILES[name]
    return PlainTextResponse(text, media_type=media_type)


# --- tasks that survive a restart ------------------------------------------------------

TASKS_TABLE = "demo_agent_tasks"  # the agent's own table, so it can share the app's database
RESTARTED_TEXT = (
    "The demo agent restarted while this task was running, so it stopped here. "
    "Send the message again to start it anew."
)
# Waiting for the user is not running: input-required and auth-required keep their state.
_RUNNING_STATES = (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)


class _Base(DeclarativeBase):
    """The demo agent's own metadata: its table never joins the SDK's or the app's."""


# Made once per process: DatabaseTaskStore builds a new model for a custom table name each
# time, and SQLAlchemy refuses a table defined twice in one MetaData, so a second store in
# the same process (a restart, a second test server) would fail.
_TaskModel = create_task_model(TASKS_TABLE, _Base)


def _async_database_url(database_url: str) -> URL:
    """`database_url` as the app spells it (sqlite, postgresql+psycopg) on an async driver."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        query = dict(url.query)
        if "sslmode" in query:  # libpq's name; asyncpg takes the same modes as `ssl`
            query["ssl"] = query.pop("sslmode")
        return url.set(drivername="postgresql+asyncpg", query=query)
    raise ValueError(f"The demo agent keeps tasks in SQLite or PostgreSQL, not {backend!r}.")


class _DemoTaskStore(DatabaseTaskStore):
    """a2a-sdk's DatabaseTaskStore on the demo agent's own table."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)  # the default table name builds no model
        self.task_model = _TaskModel


class _Owner(User):
    """A stored task's owner, to read and write it through the store's owner-scoped API."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def user_name(self) -> str:
        return self._name


async def _fail_interrupted(store: DatabaseTaskStore) -> int:
    """Mark failed every task a restart cut off (submitted or working); return how many."""
    model = store.task_model
    running = [TaskState.Name(state) for state in _RUNNING_STATES]
    async with store.async_session_maker() as session:
        found = await session.execute(
            select(model.id, model.owner).where(model.status["state"].as_string().in_(running))
        )
        rows = found.all()
    for task_id, owner in rows:
        context = ServerCallContext(user=_Owner(owner or ""))
        task = await store.get(task_id, context)
        if task is None or task.status.state not in _RUNNING_STATES:
            continue
        await store.save(_failed_by_restart(task), context)
    return len(rows)


def _failed_by_restart(task: Task) -> Task:
    if task.status.HasField("message"):
        task.history.append(task.status.message)  # as the SDK does on a status update
    status = TaskStatus(
        state=TaskState.TASK_STATE_FAILED,
        message=Message(
            role=Role.ROLE_AGENT,
            message_id=str(uuid.uuid4()),
            task_id=task.id,
            context_id=task.context_id,
            parts=[new_text_part(RESTARTED_TEXT)],
        ),
    )
    status.timestamp.FromDatetime(datetime.now(UTC))  # also the row's last_updated
    task.status.CopyFrom(status)
    return task


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class _PersistentTaskStore(TaskStore):
    """A DatabaseTaskStore whose engine is made, prepared and disposed by the app's lifespan.

    So the engine and every connection in its pool belong to the loop that serves the
    agent, whichever thread built the app.
    """

    def __init__(self, database_url: str) -> None:
        self._url = _async_database_url(database_url)  # a bad URL fails in build_app
        self._store: DatabaseTaskStore | None = None

    async def open(self) -> None:
        engine = create_async_engine(self._url)
        if engine.dialect.name == "sqlite":
            # Many visitors' tasks are written at once: wait for the lock instead of failing
            # ("database is locked"), and let readers go on while one writes (WAL).
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        store = _DemoTaskStore(engine)
        try:
            await store.initialize()
            await _fail_interrupted(store)
        except BaseException:
            await engine.dispose()
            raise
        self._store = store

    async def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            await store.engine.dispose()

    @property
    def _opened(self) -> DatabaseTaskStore:
        if self._store is None:
            raise RuntimeError("The demo agent's task store opens with the app's lifespan.")
        return self._store

    async def save(self, task: Task, context: ServerCallContext) -> None:
        await self._opened.save(task, context)

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        return await self._opened.get(task_id, context)

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        return await self._opened.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        await self._opened.delete(task_id, context)


def build_app(
    base_url: str,
    timing: DemoTiming | None = None,
    *,
    streaming: bool = True,
    auth: DemoAuth | None = None,
    database_url: str | None = None,
) -> Starlette:
    """A Starlette app serving the demo agent: card, JSON-RPC at `/`, REST at `/rest`.

    `streaming=False` serves a card without streaming, for clients' polling paths.
    `auth` requires its credentials on everything but the card and `/files/...`.
    `database_url` (`sqlite:///path`, `postgresql+psycopg://...`) keeps tasks in table
    `demo_agent_tasks` of that database instead of memory; the app's lifespan opens it
    (and fails tasks a restart cut off) and closes it, so serve it with lifespan on.
    """
    card = build_agent_card(base_url, auth=auth)
    card.capabilities.streaming = streaming
    persistent = _PersistentTaskStore(database_url) if database_url else None
    handler = DefaultRequestHandler(
        agent_executor=DemoAgentExecutor(timing, base_url),
        task_store=persistent or InMemoryTaskStore(),
        agent_card=card,
        extended_agent_card=build_extended_agent_card(card),
    )
    routes = [
        *create_agent_card_routes(card),
        # Before the REST routes: they mount `/{tenant}` at the root, which would
        # otherwise take `/files/...` for a tenant and answer 404.
        Route("/files/{name}", _public_file, methods=["GET"]),
        *create_jsonrpc_routes(
            handler, rpc_url="/", enable_v0_3_compat=True, context_builder=_PerVisitor()
        ),
        *create_rest_routes(
            handler, path_prefix="/rest", enable_v0_3_compat=True, context_builder=_PerVisitor()
        ),
    ]
    middleware = [Middleware(_RequireCredentials, auth=auth)] if auth else []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if persistent:
            await persistent.open()
        try:
            yield
        finally:
            await handler.aclose()  # running tasks stop before their store closes
            if persistent:
                await persistent.close()

    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


# --- running it in-process ----------------------------------------------------------


class LoopbackServer:
    """An ASGI app served by uvicorn on its own portal thread, on 127.0.0.1.

    `app_factory` gets the base URL (known once the port is bound) and returns the app.
    Used for the demo agent and for the purpose-built agents in the tests. With
    `lifespan=True` the app's ASGI lifespan runs on the server's loop: start-up before
    the constructor returns (its failure raises), shutdown in `stop()`.
    """

    def __init__(
        self,
        app_factory: Callable[[str], ASGIApp],
        *,
        port: int = 0,
        thread_name: str = "loopback-server",
        lifespan: bool = False,
    ) -> None:
        # IPPROTO_TCP explicitly: with protocol 0 asyncio never sets TCP_NODELAY on the
        # accepted connections, and each short reply waits ~40 ms for a delayed ACK.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app_factory(self.url),
            log_config=None,  # leave the host app's logging alone
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            lifespan="on" if lifespan else "off",
        )
        self._server = uvicorn.Server(config)
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal(name=thread_name))
        self._portal.call(name_native_thread, thread_name)
        self._serving = self._portal.start_task_soon(self._server.serve, [self._sock])
        # Wait until uvicorn listens, so the URL works as soon as we return.
        while not self._server.started:
            if self._serving.done():
                error = self._serving.exception()  # uvicorn logs a failed lifespan start-up
                self._closed = True
                self._stack.close()
                self._sock.close()
                raise RuntimeError(f"{thread_name} did not start") from error
            time.sleep(0.005)
        self._closed = False

    def stop(self) -> None:
        """Stop serving and end the thread; open streams get a second to finish."""
        if self._closed:
            return
        self._closed = True
        self._server.should_exit = True
        try:
            self._serving.result(timeout=3)
        except BaseException:  # noqa: BLE001 - shutting down: whatever it ended with
            pass
        try:
            self._portal.call(self._portal.stop, True)
        except RuntimeError:
            pass  # the portal already stopped
        self._stack.close()
        self._sock.close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DemoAgentServer(LoopbackServer):
    """The demo agent on 127.0.0.1 (a free port unless `port` is given)."""

    def __init__(
        self,
        *,
        port: int = 0,
        timing: DemoTiming | None = None,
        streaming: bool = True,
        auth: DemoAuth | None = None,
        database_url: str | None = None,
    ) -> None:
        super().__init__(
            lambda url: build_app(
                url, timing, streaming=streaming, auth=auth, database_url=database_url
            ),
            port=port,
            thread_name=_THREAD_NAME,
            lifespan=database_url is not None,  # the database opens and closes on its loop
        )


_demo_lock = threading.Lock()
_demo: DemoAgentServer | None = None


def ensure_demo_agent(database_url: str | None = None) -> str:
    """Start the process-wide demo agent once and return its base URL.

    Args:
        database_url: where it keeps tasks (see `build_app`); in memory without one. The
            first call starts the agent, so its URL is the one that counts.
    """
    global _demo
    with _demo_lock:
        if _demo is None:
            _demo = DemoAgentServer(database_url=database_url)
            atexit.register(_demo.stop)
        return _demo.url


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the A2A demo agent on its own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--bearer-token", help="require this bearer token")
    parser.add_argument("--api-key", help=f"require this API key (in {API_KEY_HEADER})")
    parser.add_argument(
        "--database-url", help="keep tasks in this database (sqlite:///tasks.db) across restarts"
    )
    args = parser.parse_args()
    base_url = f"http://{args.host}:{args.port}"
    auth = (
        DemoAuth(bearer_token=args.bearer_token, api_key=args.api_key)
        if args.bearer_token or args.api_key
        else None
    )
    print(f"A2A demo agent at {base_url}  (card: {base_url}/.well-known/agent-card.json)")  # noqa: T201
    if auth:
        print("Requests need a credential; the card and /files/... stay public.")  # noqa: T201
    app = build_app(base_url, auth=auth, database_url=args.database_url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
