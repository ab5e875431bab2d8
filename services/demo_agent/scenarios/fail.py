"""Fail: a task that ends in the failed state with an error message."""

from __future__ import annotations

import asyncio

from a2a.helpers.proto_helpers import new_text_part

from services.demo_agent.scenarios.base import Scenario, Turn, skill

__all__ = ["SCENARIO"]


async def _fail(turn: Turn) -> None:
    updater = turn.updater
    await updater.start_work(
        updater.new_agent_message([new_text_part("Connecting to the billing system…")])
    )
    await asyncio.sleep(turn.timing.step_delay)
    await updater.failed(
        updater.new_agent_message(
            [new_text_part("The billing system refused the request (a deliberate demo failure).")]
        )
    )


SCENARIO = Scenario(
    name="fail",
    keywords=("fail",),
    skill=skill(
        "fail",
        "Failing task",
        "A task that ends in the failed state with an error message.",
        "Make a task that fails",
    ),
    handle=_fail,
)
