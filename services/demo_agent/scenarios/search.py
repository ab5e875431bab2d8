"""Search: status updates with messages, then a streamed answer from a tiny offline index."""

from __future__ import annotations

import asyncio

from a2a.helpers.proto_helpers import new_text_part

from services.demo_agent.scenarios.base import Scenario, Turn, skill, stream_text

__all__ = ["SCENARIO"]


async def _search(turn: Turn) -> None:
    updater, text = turn.updater, turn.text
    for step in ("Searching the knowledge base…", "Reading 3 sources…", "Writing the answer…"):
        await updater.start_work(updater.new_agent_message([new_text_part(step)]))
        await asyncio.sleep(turn.timing.step_delay)
    topic = text.split("for", 1)[1].strip() if " for " in f" {text} " else text
    answer = (
        f"**Results for {topic!r}** (from the demo agent's tiny offline index):\n\n"
        "1. *A2A Protocol 1.0*: tasks, messages, artifacts and streaming over "
        "JSON-RPC, gRPC or HTTP+JSON.\n"
        "2. *Agent cards*: each agent publishes `/.well-known/agent-card.json`.\n"
        "3. *Multi-turn*: a task can stop in `input-required` and continue.\n"
    )
    await stream_text(turn, answer, "results")
    await updater.complete()


SCENARIO = Scenario(
    name="search",
    keywords=("search",),
    skill=skill(
        "search",
        "Search with progress",
        "Status updates with messages before the answer.",
        "Search for A2A news",
    ),
    handle=_search,
)
