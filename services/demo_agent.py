"""The embedded demo A2A agent: deterministic scenarios that exercise the protocol.

Built on a2a-sdk's server side (AgentExecutor, DefaultRequestHandler, Starlette routes)
and served by uvicorn on 127.0.0.1. The app starts one per process when no agent is
configured (`ensure_demo_agent`); it also runs alone:

    python -m services.demo_agent --port 9999
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

import uvicorn
from a2a.helpers.proto_helpers import (
    new_data_part,
    new_raw_part,
    new_task,
    new_text_message,
    new_text_part,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import (
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    Message,
    TaskState,
)
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, TransportProtocol
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette
from starlette.types import ASGIApp

from services.runtime import name_native_thread

__all__ = [
    "DemoAgentServer",
    "DemoTiming",
    "LoopbackServer",
    "build_agent_card",
    "build_app",
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
    "**generate a sales report** (JSON and CSV artifacts), or tell me your name "
    "and ask for it later."
)


@dataclass(frozen=True)
class DemoTiming:
    """How fast the demo agent talks; tests shrink these."""

    token_delay: float = 0.025  # one word per event: about 40 words a second
    step_delay: float = 0.6  # between status updates
    slow_interval: float = 1.0  # the slow task's chunk interval
    slow_chunks: int = 35  # the slow task's length (35 s at one a second)


def _words(text: str) -> list[str]:
    """Split into chunks that join back to exactly `text` (whitespace kept)."""
    return re.split(r"(?<=\s)(?=\S)", text)


def _route(text: str) -> str:
    lowered = text.lower()
    for keyword, scenario in (
        ("explain", "long"),
        ("stream", "long"),
        ("search", "search"),
        ("book", "trip"),
        ("trip", "trip"),
        ("slow", "slow"),
        ("fail", "fail"),
        ("report", "report"),
    ):
        if keyword in lowered:
            return scenario
    return "chat"


@dataclass
class _Memory:
    """What the chat scenario remembers of one context."""

    messages: list[str] = field(default_factory=list)
    name: str | None = None


class DemoAgentExecutor(AgentExecutor):
    """Routes each message to a scenario by keyword; no LLM, no network."""

    def __init__(self, timing: DemoTiming | None = None) -> None:
        self.timing = timing or DemoTiming()
        self._memory: dict[str, _Memory] = {}
        self._trips: dict[str, list[str]] = {}

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id and context.message
        text = context.get_user_input().strip()
        task = context.current_task
        if task is not None and task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            updater = TaskUpdater(event_queue, task.id, task.context_id)
            self._trips.setdefault(task.id, []).append(text)
            await self._trip(updater, text)
            return

        scenario = _route(text)
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
        }
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


# --- the card and the app ------------------------------------------------------------


def build_agent_card(base_url: str) -> AgentCard:
    """The demo agent's card, served at `/.well-known/agent-card.json`."""
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
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/markdown", "application/json", "text/csv"],
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
        ],
    )


def build_app(
    base_url: str, timing: DemoTiming | None = None, *, streaming: bool = True
) -> Starlette:
    """A Starlette app serving the demo agent: card, JSON-RPC at `/`, REST at `/rest`.

    `streaming=False` serves a card without streaming, for clients' polling paths.
    """
    card = build_agent_card(base_url)
    card.capabilities.streaming = streaming
    handler = DefaultRequestHandler(
        agent_executor=DemoAgentExecutor(timing),
        task_store=InMemoryTaskStore(),
        agent_card=card,
    )
    routes = [
        *create_agent_card_routes(card),
        *create_jsonrpc_routes(handler, rpc_url="/", enable_v0_3_compat=True),
        *create_rest_routes(handler, path_prefix="/rest", enable_v0_3_compat=True),
    ]
    return Starlette(routes=routes)


# --- running it in-process ----------------------------------------------------------


class LoopbackServer:
    """An ASGI app served by uvicorn on its own portal thread, on 127.0.0.1.

    `app_factory` gets the base URL (known once the port is bound) and returns the app.
    Used for the demo agent and for the purpose-built agents in the tests.
    """

    def __init__(
        self,
        app_factory: Callable[[str], ASGIApp],
        *,
        port: int = 0,
        thread_name: str = "loopback-server",
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal(name=thread_name))
        self._portal.call(name_native_thread, thread_name)
        self._serving = self._portal.start_task_soon(self._server.serve, [self._sock])
        # Wait until uvicorn listens, so the URL works as soon as we return.
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # re-raises the start-up error
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
        self, *, port: int = 0, timing: DemoTiming | None = None, streaming: bool = True
    ) -> None:
        super().__init__(
            lambda url: build_app(url, timing, streaming=streaming),
            port=port,
            thread_name=_THREAD_NAME,
        )


_demo_lock = threading.Lock()
_demo: DemoAgentServer | None = None


def ensure_demo_agent() -> str:
    """Start the process-wide demo agent once and return its base URL."""
    global _demo
    with _demo_lock:
        if _demo is None:
            _demo = DemoAgentServer()
            atexit.register(_demo.stop)
        return _demo.url


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the A2A demo agent on its own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    args = parser.parse_args()
    base_url = f"http://{args.host}:{args.port}"
    print(f"A2A demo agent at {base_url}  (card: {base_url}/.well-known/agent-card.json)")  # noqa: T201
    uvicorn.run(build_app(base_url), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
