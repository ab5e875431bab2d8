"""The Streaming inspector's links and probes: `?stream=N` naming the stream it shows, and
messages sent outside the chat. (Whether a stream is still kept: `_resources.stream_kept`.)
"""

from __future__ import annotations

import streamlit as st

from services.client import agent
from services.replies import ReplyEvent
from services.runtime import EventStream
from services.session import _keys as keys
from services.session._agents import agent_url
from services.session._runtime import checkpoint, runtime

__all__ = ["send_probe", "show_stream", "take_stream_request"]


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
