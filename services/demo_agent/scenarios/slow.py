"""Slow: one progress chunk per interval for over 30 seconds, to try Stop (cancel) on."""

from __future__ import annotations

import asyncio

from a2a.helpers.proto_helpers import new_text_part

from services.demo_agent.scenarios.base import Scenario, Turn, skill

__all__ = ["SCENARIO"]


async def _slow(turn: Turn) -> None:
    updater = turn.updater
    await updater.start_work(
        updater.new_agent_message([new_text_part("Working slowly: press Stop to cancel.")])
    )
    artifact_id = f"{updater.task_id}-progress"
    total = turn.timing.slow_chunks
    for index in range(total):
        await updater.add_artifact(
            [new_text_part(f"Step {index + 1} of {total} done.\n\n")],
            artifact_id=artifact_id,
            name="progress",
            append=index > 0,
            last_chunk=index == total - 1,
        )
        await asyncio.sleep(turn.timing.slow_interval)
    await updater.complete()


SCENARIO = Scenario(
    name="slow",
    keywords=("slow",),
    skill=skill(
        "slow",
        "Slow task",
        "One chunk a second for over 30 seconds: try Stop.",
        "Run a slow task",
    ),
    handle=_slow,
)
