"""Trip: a multi-turn task that stops in input-required twice, then books."""

from __future__ import annotations

from a2a.helpers.proto_helpers import new_text_part

from services.demo_agent.scenarios.base import Scenario, Turn, skill

__all__ = ["SCENARIO", "TRIP_QUESTIONS", "resume"]

TRIP_QUESTIONS = ("Where would you like to go?", "How many nights will you stay?")


async def _trip(turn: Turn) -> None:
    updater, trips = turn.updater, turn.state.trips
    answers = trips.setdefault(updater.task_id, [])
    await updater.start_work()
    if len(answers) < len(TRIP_QUESTIONS):
        question = TRIP_QUESTIONS[len(answers)]
        await updater.requires_input(updater.new_agent_message([new_text_part(question)]))
        return
    destination, nights = answers
    del trips[updater.task_id]
    summary = f"Booked: {nights} night(s) in {destination}. Have a good trip!"
    await updater.add_artifact(
        [new_text_part(summary, media_type="text/markdown")],
        name="booking",
        last_chunk=True,
    )
    await updater.complete()


async def resume(turn: Turn) -> None:
    """Continue a task waiting in input-required: `turn.text` answers its last question."""
    turn.state.trips.setdefault(turn.updater.task_id, []).append(turn.text)
    await _trip(turn)


SCENARIO = Scenario(
    name="trip",
    keywords=("book", "trip"),
    skill=skill(
        "trip",
        "Book a trip (multi-turn)",
        "Stops in input-required twice and completes when you answer.",
        "Book a trip",
    ),
    handle=_trip,
)
