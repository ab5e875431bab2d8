"""Explain: a long markdown answer (heading, list, code, table) streamed word by word."""

from __future__ import annotations

from services.demo_agent.scenarios.base import Scenario, Turn, skill, stream_text

__all__ = ["LONG_ANSWER", "SCENARIO"]

LONG_ANSWER = """\
## How A2A streaming works

An A2A client sends `SendStreamingMessage` and the agent answers with a stream of \
**Server-Sent Events**. Each event is one JSON-RPC response whose `result` is a \
`StreamResponse`:

- a `task` that opens the exchange,
- `statusUpdate` events as the task moves from *working* to a final state,
- `artifactUpdate` events that carry the answer in chunks (`append`, `lastChunk`),
- or a single `message` for a quick reply.

The client keeps the `contextId` for the next turn, so the agent remembers the \
conversation. A task that needs more from the user stops in `input-required`.

```python
async for event in client.send_message(request):
    kind = event.WhichOneof("payload")
    print(kind, event)
```

| Event | Carries | Ends the stream? |
|---|---|---|
| task | the task and its status | no |
| statusUpdate | state, optional message | when final |
| artifactUpdate | a chunk of an artifact | no |
| message | a direct reply | yes |

Streamlit reruns its script on fresh threads, so this app keeps one event loop per \
browser session and reaches it through an anyio portal: the client above is created, \
used and closed on that loop only, and never meets a closed one.
"""


async def _explain(turn: Turn) -> None:
    await turn.updater.start_work()
    await stream_text(turn, LONG_ANSWER, "answer")
    await turn.updater.complete()


SCENARIO = Scenario(
    name="long",
    keywords=("explain", "stream"),
    skill=skill(
        "explain",
        "Long streamed answer",
        "A markdown answer with a heading, a list, code and a table, word by word.",
        "Explain how A2A streaming works",
    ),
    handle=_explain,
)
