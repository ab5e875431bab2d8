"""`DemoAgentExecutor`: the a2a-sdk adapter that hands each message to a scenario.

What the agent says lives in `scenarios/`; this module only turns a request into a
`Turn`, opens the task, and cancels.
"""

from __future__ import annotations

from a2a.helpers.proto_helpers import new_task, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types.a2a_pb2 import TaskState

from services.demo_agent.extensions import TIMESTAMPS_URI, StampedQueue
from services.demo_agent.scenarios import AgentState, DemoTiming, Turn, choose, trip

__all__ = ["DemoAgentExecutor"]


class DemoAgentExecutor(AgentExecutor):
    """Routes each message to a scenario by keyword; no LLM, no network."""

    def __init__(self, timing: DemoTiming | None = None, base_url: str = "") -> None:
        self.timing = timing or DemoTiming()
        self.base_url = base_url.rstrip("/")  # for the URL parts it hands out
        # Per executor, not per module: tests run several demo agents in one process.
        self.state = AgentState()

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id and context.message
        if TIMESTAMPS_URI in context.requested_extensions:  # the extension, activated
            event_queue = StampedQueue(event_queue)
        text = context.get_user_input().strip()
        task = context.current_task
        if task is not None and task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            # Only the trip asks for input, so an answer always continues a trip.
            updater = TaskUpdater(event_queue, task.id, task.context_id)
            await trip.resume(self._turn(context, event_queue, updater, text))
            return

        scenario = choose(context.message, text)
        self.state.runs[scenario.name] += 1
        if scenario.opens_task:
            await event_queue.enqueue_event(
                new_task(
                    context.task_id,
                    context.context_id,
                    TaskState.TASK_STATE_SUBMITTED,
                    history=[context.message],
                )
            )
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await scenario.handle(self._turn(context, event_queue, updater, text))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.cancel(updater.new_agent_message([new_text_part("Canceled by the user.")]))

    def _turn(
        self, context: RequestContext, queue: EventQueue, updater: TaskUpdater, text: str
    ) -> Turn:
        return Turn(
            context=context,
            queue=queue,
            updater=updater,
            text=text,
            state=self.state,
            timing=self.timing,
            base_url=self.base_url,
        )
