"""Admin: which scenarios ran and how often, and who asks; on the extended card only."""

from __future__ import annotations

from a2a.helpers.proto_helpers import new_text_part
from a2a.types.a2a_pb2 import AgentSkill

from services.demo_agent.scenarios.base import Scenario, Turn

__all__ = ["SCENARIO"]


async def _admin(turn: Turn) -> None:
    updater, state = turn.updater, turn.state
    await updater.start_work()
    user = turn.context.call_context.user
    caller = (
        f"authenticated as `{user.user_name}`"
        if user.is_authenticated
        else "anonymous (this agent runs without authentication)"
    )
    rows = "".join(f"| {name} | {count} |\n" for name, count in sorted(state.runs.items()))
    report = (
        "## Admin report\n\n"
        f"Caller: {caller}.\n\n"
        "| Scenario | Runs |\n|---|---|\n"
        f"{rows}\n"
        f"Conversations remembered: {len(state.memory)} · trips in progress: "
        f"{len(state.trips)}.\n"
    )
    await updater.add_artifact(
        [new_text_part(report, media_type="text/markdown")],
        name="admin-report",
        last_chunk=True,
    )
    await updater.complete()


SCENARIO = Scenario(
    name="admin",
    keywords=("admin",),
    skill=AgentSkill(
        id="admin",
        name="Admin report",
        description="Which scenarios ran and how often, and who is asking.",
        tags=["demo", "admin"],
        examples=["Show the admin report"],
    ),
    handle=_admin,
    extended=True,
)
