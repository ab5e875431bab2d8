"""The Streaming inspector's links, probes and replays: `?stream=N` naming the stream it
shows, messages sent outside the chat, and a stream's request sent again and compared.
(Whether a stream is still kept: `_resources.stream_kept`.)
"""

from __future__ import annotations

import streamlit as st

from services.client import agent
from services.client import replay as replays
from services.inspector.inspection import inspect
from services.inspector.replay import Comparison, NotReplayable, compare
from services.replies import ReplyEvent
from services.runtime import EventStream
from services.session import _keys as keys
from services.session._agents import agent_url
from services.session._resources import recorder, redactor
from services.session._runtime import checkpoint, runtime
from services.session._store import save_stream

__all__ = [
    "replay_comparison",
    "replay_stream",
    "send_probe",
    "show_stream",
    "take_stream_request",
]


def take_stream_request() -> int | None:
    """The stream `?stream=N` names (a reply's Inspect link, a reload, a bookmark), once
    per value: the page then keeps the URL naming the stream it shows (`show_stream`)."""
    value = st.query_params.get(keys.STREAM_PARAM)
    if value is None or keys.STREAM_SHOWN.get() == value:
        return None
    keys.STREAM_SHOWN.set(value)
    # Stream numbers are small; a long run of digits is not one (and int() refuses
    # more than 4,300 digits with a ValueError).
    return int(value) if value.isascii() and value.isdecimal() and len(value) <= 9 else None


def show_stream(stream_id: int | None) -> None:
    """Keep `?stream=` naming the stream the inspector shows, so a reload lands on it."""
    if stream_id is None:
        if keys.STREAM_PARAM in st.query_params:
            del st.query_params[keys.STREAM_PARAM]
        return
    keys.STREAM_SHOWN.set(str(stream_id))
    if st.query_params.get(keys.STREAM_PARAM) != str(stream_id):
        st.query_params[keys.STREAM_PARAM] = str(stream_id)


def send_probe(text: str) -> EventStream[ReplyEvent]:
    """Send `text` in a fresh context, outside the chat (the inspector's own messages)."""
    return agent.send_message(runtime(), agent_url(), text, checkpoint=checkpoint)


def replay_stream(stream_id: int, body: str | None = None) -> int:
    """Send stream `stream_id`'s request again (with `body` instead, if given) and wait
    for the replay to end; returns the new stream's id. Raises `NotReplayable` or the
    project's errors with a sentence."""
    original = recorder().stream(stream_id)
    if original is None:
        raise NotReplayable(f"Stream #{stream_id} is no longer kept, so it cannot be replayed.")
    request = replays.replay_request(original, body)
    record, stream = replays.replay(runtime(), request, checkpoint=checkpoint)
    keys.REPLAYS.setdefault(dict)[record.id] = stream_id
    try:
        for _event in stream:
            pass
    finally:
        save_stream(record.id)
    return record.id


def replay_comparison(stream_id: int) -> Comparison | None:
    """Stream `stream_id` next to its latest replay, or (for a replay) next to its
    original; None when it has neither, or the other is no longer kept."""
    pairs = keys.REPLAYS.get_or({})
    if stream_id in pairs:
        original_id, replay_id = pairs[stream_id], stream_id
    else:
        replay_id = max((r for r, o in pairs.items() if o == stream_id), default=0)
        original_id = stream_id
    original, replayed = recorder().stream(original_id), recorder().stream(replay_id)
    if original is None or replayed is None:
        return None
    return compare(inspect(original, redactor()), inspect(replayed, redactor()))
