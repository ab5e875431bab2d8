"""Background job: about 20 seconds of progress status updates, then a result artifact.

Made for push notifications: a client sends it with `returnImmediately` and a push config,
gets the submitted task at once, and learns the rest from the agent's POSTs to its
webhook (one per event: the task, each status update, the artifact, the completed
status). Streamed normally, it is an ordinary task with live status messages.
"""

from __future__ import annotations

import asyncio

from a2a.helpers.proto_helpers import new_text_part

from services.demo_agent.scenarios.base import Scenario, Turn, skill

__all__ = ["SCENARIO"]


async def _background(turn: Turn) -> None:
    updater, timing = turn.updater, turn.timing
    total = timing.job_steps
    seconds = total * timing.job_interval
    await updater.start_work(
        updater.new_agent_message(
            [new_text_part(f"Background job started: {total} steps, about {seconds:g} s.")]
        )
    )
    for step in range(1, total + 1):
        await asyncio.sleep(timing.job_interval)
        # A status update per step (not an artifact chunk): what a push receiver shows
        # as progress, since each one arrives as its own notification.
        await updater.start_work(
            updater.new_agent_message([new_text_part(f"Step {step} of {total} done.")])
        )
    result = (
        "## Background job finished\n\n"
        f"{total} steps in about {seconds:g} s. Sent with push notifications, every step "
        "above also reached the client's webhook as it happened.\n"
    )
    await updater.add_artifact(
        [new_text_part(result, media_type="text/markdown")],
        name="job-result",
        last_chunk=True,
    )
    await updater.complete(
        updater.new_agent_message([new_text_part("The background job is done.")])
    )


SCENARIO = Scenario(
    name="background",
    keywords=("background job", "long job"),
    skill=skill(
        "background",
        "Background job (push notifications)",
        "About 20 seconds of progress updates, then a result: send it in the background "
        "with a push notification URL, or stream it.",
        "Start a background job",
    ),
    handle=_background,
)
