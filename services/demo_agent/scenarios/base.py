"""What every scenario is made of: `Scenario`, the `Turn` it handles, and shared helpers.

A scenario module declares one `SCENARIO`: its keywords (what routes a message to it), its
skill (what the card advertises) and its handler, side by side, so the card and the
router cannot drift. What the agent remembers between messages lives in an `AgentState`
that each executor owns: tests run several demo agents in one process.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from a2a.helpers.proto_helpers import new_text_part
from a2a.server.agent_execution import RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types.a2a_pb2 import AgentSkill

__all__ = [
    "AgentState",
    "DemoTiming",
    "Handler",
    "Memory",
    "Scenario",
    "Turn",
    "skill",
    "stream_text",
]


@dataclass(frozen=True)
class DemoTiming:
    """How fast the demo agent talks; tests shrink these."""

    token_delay: float = 0.025  # one word per event: about 40 words a second
    step_delay: float = 0.6  # between status updates
    slow_interval: float = 1.0  # the slow task's chunk interval
    slow_chunks: int = 35  # the slow task's length (35 s at one a second)
    job_steps: int = 10  # the background job's progress updates
    job_interval: float = 2.0  # between them: the job takes about 20 s


@dataclass
class Memory:
    """What the chat scenario remembers of one context."""

    messages: list[str] = field(default_factory=list)
    name: str | None = None


@dataclass
class AgentState:
    """What one demo agent remembers between messages (the admin report reads it all)."""

    memory: dict[str, Memory] = field(default_factory=dict)  # context id -> chat memory
    trips: dict[str, list[str]] = field(default_factory=dict)  # task id -> answers so far
    runs: Counter[str] = field(default_factory=Counter)  # scenario name -> runs


@dataclass(frozen=True)
class Turn:
    """One message for a scenario: what was said, where to answer, what the agent knows."""

    context: RequestContext
    queue: EventQueue
    updater: TaskUpdater  # the turn's task (a scenario that opens none ignores it)
    text: str  # the user's text, stripped
    state: AgentState
    timing: DemoTiming
    base_url: str  # without a trailing slash, for the URL parts a scenario hands out


Handler = Callable[[Turn], Awaitable[None]]


# eq=False: compared and hashed by identity (an AgentSkill is not hashable).
@dataclass(frozen=True, eq=False)
class Scenario:
    """One thing the demo agent does: what picks it, what the card says, what runs."""

    name: str  # what the admin report counts its runs under
    keywords: tuple[str, ...]  # lowercase; the first scenario in ROUTING with one wins
    skill: AgentSkill
    handle: Handler
    opens_task: bool = True  # False: the handler answers with a message and no task
    extended: bool = False  # True: on the extended card only


def skill(skill_id: str, name: str, description: str, *examples: str) -> AgentSkill:
    """A skill tagged "demo", as most scenarios advertise themselves."""
    return AgentSkill(
        id=skill_id, name=name, description=description, tags=["demo"], examples=examples
    )


def _words(text: str) -> list[str]:
    """Split into chunks that join back to exactly `text` (whitespace kept)."""
    return re.split(r"(?<=\s)(?=\S)", text)


async def stream_text(turn: Turn, text: str, name: str) -> None:
    """Stream `text` as markdown artifact `name`, a word per event."""
    updater = turn.updater
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
        await asyncio.sleep(turn.timing.token_delay)
