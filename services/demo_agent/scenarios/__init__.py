"""The demo agent's scenarios: one module each, declaring its keywords, skill and handler.

- `base`: `Scenario`, the `Turn` a handler gets, `AgentState`, `DemoTiming`.
- `explain`, `search`, `trip`, `slow`, `fail`, `report`, `chart`, `background`: picked by
  keyword.
- `chat`: the fallback (a plain reply, no task); `files`: picked by attachments;
  `admin`: on the extended card only.

`SCENARIOS` is the card's order (and so the order of the examples the app offers);
`ROUTING` is the keywords' order. No LLM, no network: every answer is deterministic.
"""

from __future__ import annotations

from a2a.types.a2a_pb2 import Message

from services.demo_agent.scenarios import (
    admin,
    background,
    chart,
    chat,
    explain,
    fail,
    files,
    report,
    search,
    slow,
    trip,
)
from services.demo_agent.scenarios.base import AgentState, DemoTiming, Scenario, Turn

__all__ = [
    "ROUTING",
    "SCENARIOS",
    "AgentState",
    "DemoTiming",
    "Scenario",
    "Turn",
    "choose",
    "route",
]

# As the card lists them; `extended` ones go on the extended card only.
SCENARIOS: tuple[Scenario, ...] = (
    explain.SCENARIO,
    search.SCENARIO,
    trip.SCENARIO,
    slow.SCENARIO,
    fail.SCENARIO,
    report.SCENARIO,
    chat.SCENARIO,
    chart.SCENARIO,
    background.SCENARIO,
    files.SCENARIO,
    admin.SCENARIO,
)

# The first scenario with a keyword in the message wins, so the narrower go first:
# "Show the admin report" is admin, "Draw a chart image of the report" a chart, "Stream
# a background job" a background job.
ROUTING: tuple[Scenario, ...] = (
    admin.SCENARIO,
    background.SCENARIO,
    explain.SCENARIO,
    search.SCENARIO,
    trip.SCENARIO,
    slow.SCENARIO,
    fail.SCENARIO,
    chart.SCENARIO,
    report.SCENARIO,
)


def route(text: str) -> Scenario:
    """The first scenario in `ROUTING` with a keyword in `text`, else chat."""
    lowered = text.lower()
    for scenario in ROUTING:
        if any(keyword in lowered for keyword in scenario.keywords):
            return scenario
    return chat.SCENARIO


def choose(message: Message, text: str) -> Scenario:
    """The scenario for a new message: attached files win over keywords."""
    return files.SCENARIO if files.file_parts(message) else route(text)
