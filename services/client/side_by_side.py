"""One prompt to several agents at once: their replies side by side, with metrics.

`arun` sends the prompt to every target concurrently on the session's loop (an anyio
task group; each agent's stream is recorded by the inspector as any chat reply is) and
yields `LaneUpdate`s as the replies arrive, in whatever order they come. A lane that fails
(unreachable, an error, `timeout` passed) ends with its sentence; the others go on.
`Lane` is what a page draws and the store keeps: the reply's text and state, first-event
time, duration, event count and the inspector's verdict on the stream.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from services.client import agent, resources
from services.errors import AppError
from services.formats import FileRejected, load_json
from services.inspector.inspection import inspect
from services.replies import Reply, ReplyEvent
from services.runtime import EventStream, SessionRuntime

__all__ = [
    "AGENT_TIMEOUT",
    "MAX_AGENTS",
    "MAX_PROMPT_CHARS",
    "MIN_AGENTS",
    "Lane",
    "LaneUpdate",
    "Target",
    "arun",
    "check_request",
    "lanes_from_json",
    "lanes_to_json",
    "run",
]

log = logging.getLogger(__name__)

MIN_AGENTS = 2
MAX_AGENTS = 4
MAX_PROMPT_CHARS = 4_000
AGENT_TIMEOUT = 60.0  # seconds one agent has for its whole reply
TEXT_KEPT = 20_000  # characters of each reply the store keeps


@dataclass(frozen=True)
class Target:
    """An agent to send to, with the settings its client is built with."""

    url: str
    name: str = ""
    binding: str = ""
    tenant: str = ""


@dataclass(frozen=True)
class LaneUpdate:
    """What happened in lane `index`: an event, or its end (with an error or a verdict)."""

    index: int
    at: float  # time.monotonic() on the loop
    event: ReplyEvent | None = None
    done: bool = False
    error: str = ""
    verdict: str = ""


@dataclass
class Lane:
    """One agent's column: its reply as it grows, then its metrics and verdict."""

    url: str
    name: str
    text: str = ""
    state: str = ""
    events: int = 0
    first_event_s: float | None = None
    duration_s: float | None = None
    verdict: str = ""
    error: str = ""
    stream_id: int = 0
    done: bool = False
    reply: Reply = field(default_factory=Reply, repr=False, compare=False)

    def apply(self, update: LaneUpdate, started_at: float) -> None:
        """Take an update (script thread); `started_at` is when the run began."""
        if update.event is not None:
            if self.first_event_s is None:
                self.first_event_s = update.at - started_at
            self.reply.apply(update.event)
            self.events += 1
            self.text = self.reply.text
            self.state = self.reply.state or self.state
            self.stream_id = self.reply.stream_id
        if update.done:
            self.done = True
            self.duration_s = update.at - started_at
            self.error = update.error
            self.verdict = update.verdict
            self.reply.finish()


def check_request(targets: Sequence[Target], prompt: str) -> str:
    """One sentence if the run cannot go as asked, else ""."""
    if not MIN_AGENTS <= len(targets) <= MAX_AGENTS:
        return f"Pick {MIN_AGENTS} to {MAX_AGENTS} agents (you picked {len(targets)})."
    if len({t.url for t in targets}) != len(targets):
        return "Pick each agent once."
    if not prompt.strip():
        return "Type a prompt to send."
    if len(prompt) > MAX_PROMPT_CHARS:
        return f"The prompt is {len(prompt):,} characters; at most {MAX_PROMPT_CHARS:,} go."
    return ""


async def arun(
    runtime: SessionRuntime,
    targets: Sequence[Target],
    prompt: str,
    *,
    limit_s: float = AGENT_TIMEOUT,
) -> AsyncIterator[LaneUpdate]:
    """Send `prompt` to every target at once; yield each lane's updates as they come."""
    if problem := check_request(targets, prompt):
        raise ValueError(problem)
    send, receive = anyio.create_memory_object_stream[LaneUpdate](max_buffer_size=math.inf)
    async with anyio.create_task_group() as group, receive:
        async with send:
            for index, target in enumerate(targets):
                group.start_soon(_alane, runtime, index, target, prompt, limit_s, send.clone())
        async for update in receive:
            yield update


async def _alane(
    runtime: SessionRuntime,
    index: int,
    target: Target,
    prompt: str,
    limit_s: float,
    send: MemoryObjectSendStream[LaneUpdate],
) -> None:
    async with send:
        stream_id, error = 0, ""
        try:
            with anyio.fail_after(limit_s):
                if target.url not in await resources.aconnections(runtime):
                    await agent.aconnect(runtime, target.url, target.binding, tenant=target.tenant)
                # A generator: closed here, in its own task, if the time runs out.
                replies = cast(
                    AsyncGenerator[ReplyEvent], agent.astream_reply(runtime, target.url, prompt)
                )
                async with aclosing(replies):
                    async for event in replies:
                        stream_id = event.stream_id or stream_id
                        await send.send(LaneUpdate(index, time.monotonic(), event=event))
        except AppError as failure:
            error = str(failure)
        except TimeoutError:
            error = (
                f"No complete reply within {limit_s:.0f} s: the agent is slow or stuck. "
                "Try it alone in the Chat."
            )
        except Exception as failure:  # noqa: BLE001 - one lane's bug must not end the others
            log.warning("side by side: %s failed", target.url, exc_info=True)
            error = f"This agent's reply failed ({type(failure).__name__}). See the logs."
        verdict = await _averdict(runtime, stream_id) if stream_id else ""
        end = LaneUpdate(index, time.monotonic(), done=True, error=error, verdict=verdict)
        await send.send(end)


async def _averdict(runtime: SessionRuntime, stream_id: int) -> str:
    """The inspector's verdict on the lane's recorded stream ("valid", "2 findings")."""
    recorder = await resources.arecorder(runtime)
    record = next((r for r in recorder.streams() if r.id == stream_id), None)
    if record is None:
        return ""
    summary = inspect(record, recorder.redactor).summary
    return summary.verdict if summary is not None else ""


def run(
    runtime: SessionRuntime,
    targets: Sequence[Target],
    prompt: str,
    *,
    checkpoint: Callable[[], None] | None = None,
) -> EventStream[LaneUpdate]:
    """Start the run on the session's loop; read the updates from the script thread."""
    if problem := check_request(targets, prompt):
        raise ValueError(problem)
    return runtime.stream(lambda: arun(runtime, targets, prompt), checkpoint=checkpoint)


# --- kept in the store ------------------------------------------------------------------

_FIELDS = ("url", "name", "text", "state", "verdict", "error")
_NUMBERS = ("first_event_s", "duration_s")


def lanes_to_json(lanes: Sequence[Lane]) -> str:
    """The lanes as the store keeps them (text cut to `TEXT_KEPT`; no stream ids: those
    name records of this session only)."""
    return json.dumps(
        [
            {
                "url": lane.url,
                "name": lane.name,
                "text": lane.text[:TEXT_KEPT],
                "state": lane.state,
                "events": lane.events,
                "first_event_s": lane.first_event_s,
                "duration_s": lane.duration_s,
                "verdict": lane.verdict,
                "error": lane.error,
            }
            for lane in lanes
        ],
        ensure_ascii=False,
    )


def lanes_from_json(text: str) -> list[Lane]:
    """Lanes read back from the store; a row is input too: anything odd is refused."""
    body = load_json(text, what="side-by-side run", max_bytes=MAX_AGENTS * TEXT_KEPT * 8)
    if not isinstance(body, list) or len(body) > MAX_AGENTS:
        raise FileRejected("The kept side-by-side run is not a list of agents.")
    return [_lane_from(item) for item in body]


def _lane_from(item: Any) -> Lane:
    if not isinstance(item, dict) or not all(isinstance(item.get(k, ""), str) for k in _FIELDS):
        raise FileRejected("An agent in the kept side-by-side run is not readable.")
    numbers: dict[str, float | None] = {}
    for name in _NUMBERS:
        value = item.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            numbers[name] = float(value) if math.isfinite(value) else None
        else:
            numbers[name] = None
    events = item.get("events", 0)
    return Lane(
        url=item.get("url", "")[:2048],
        name=item.get("name", "")[:300],
        text=item.get("text", "")[:TEXT_KEPT],
        state=item.get("state", "")[:40],
        events=events if isinstance(events, int) and not isinstance(events, bool) else 0,
        first_event_s=numbers["first_event_s"],
        duration_s=numbers["duration_s"],
        verdict=item.get("verdict", "")[:200],
        error=item.get("error", "")[:2000],
        done=True,
    )
