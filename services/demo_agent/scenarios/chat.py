"""Chat: the fallback when no keyword matches; remembers the conversation, opens no task."""

from __future__ import annotations

import re

from a2a.helpers.proto_helpers import new_text_message

from services.demo_agent.scenarios.base import Memory, Scenario, Turn, skill

__all__ = ["HELP_TEXT", "SCENARIO"]

HELP_TEXT = (
    "I'm the demo agent. Try: **explain streaming** (a long streamed answer), "
    "**search for A2A news** (live status updates), **book a trip** (a multi-turn "
    "task), **run a slow task** (try Stop), **make a task that fails**, "
    "**generate a sales report** (JSON and CSV artifacts), **draw a chart image** "
    "(a PNG, a linked file and JSON), **start a background job** (about 20 s, made "
    "for push notifications), attach a file (I echo it back), or tell me your name "
    "and ask for it later."
)


def _reply(memory: Memory, text: str) -> str:
    memory.messages.append(text)
    name = re.search(r"\bmy name is\s+([\w' -]+)", text, re.IGNORECASE)
    if name:
        memory.name = name.group(1).strip().rstrip(".!").title()
        return f"Nice to meet you, {memory.name}. I'll remember that in this conversation."
    if re.search(r"\bwhat(?:'s| is) my name\b", text, re.IGNORECASE):
        return (
            f"Your name is {memory.name}."
            if memory.name
            else "You haven't told me your name in this conversation yet."
        )
    if len(memory.messages) == 1:
        return f'You said: "{text}". {HELP_TEXT}'
    return (
        f'You said: "{text}". That is message {len(memory.messages)} of this '
        f'conversation; your first was "{memory.messages[0]}".'
    )


async def _chat(turn: Turn) -> None:
    context_id = turn.updater.context_id
    memory = turn.state.memory.setdefault(context_id, Memory())
    await turn.queue.enqueue_event(
        new_text_message(_reply(memory, turn.text), context_id=context_id)
    )


SCENARIO = Scenario(
    name="chat",
    keywords=(),  # what no other scenario takes
    skill=skill(
        "memory",
        "Remembers the conversation",
        "Plain replies that recall what you said earlier in the same context.",
        "My name is Ada",
        "What is my name?",
    ),
    handle=_chat,
    opens_task=False,  # a plain message, the quick-reply path of the protocol
)
