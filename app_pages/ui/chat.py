"""The Chat page's pieces: a reply streaming into its bubble, the input pinned to the
bottom (with the background switch), and a background reply filled from notifications."""

from __future__ import annotations

import logging
from functools import partial

import streamlit as st
from streamlit.runtime.scriptrunner import StopException

from app_pages.ui.reply import UPDATES_PER_SECOND, LiveReply, render_reply
from services import session
from services.client.agent import AgentInfo
from services.client.uploads import Upload, accepts_files
from services.errors import AppError
from services.replies import Conversation, Reply, ReplyEvent
from services.runtime import EventStream

log = logging.getLogger(__name__)
USER_AVATAR = ":material/person:"
AGENT_AVATAR = ":material/smart_toy:"
PUSH_POLL_SECONDS = 2.0  # how often a background reply looks for new notifications


def reconnect_turn(index: int) -> None:
    session.queue_reconnect(index)
    st.rerun()  # as for an example: the page's run, with its Stop button


def stream_into(reply: Reply, stream: EventStream[ReplyEvent], index: int) -> None:
    """Draw turn `index`'s reply as `stream` fills it; errors end it with one sentence."""
    key = f"chat-{index}"
    view = LiveReply()
    writer = session.reply_writer(reply)
    stop = session.reply_stop(reply)  # made now: after a Stop, st.* raises again
    try:
        for batch in stream.batches(interval=1 / UPDATES_PER_SECOND):
            for event in batch:
                reply.apply(event)
            view.show(reply)
            if writer:
                writer.progress()  # the first event at once, then every few seconds
    except AppError as error:
        log.warning("reply failed: %s (%s)", error, session.redact(error.detail))
        reply.fail(str(error), error.detail)
    except StopException:
        stop.stopped()  # the input's Stop cancels the task; a page switch leaves it be
        raise
    else:
        reply.finish()
    finally:
        if writer:
            writer.done()  # also when a rerun or Stop cut the run short: what arrived is kept
    view.show(
        reply,
        live=False,
        key=key,
        on_reconnect=partial(reconnect_turn, index),
        inspect=session.stream_kept(reply.stream_id),
    )


def placeholder(conversation: Conversation) -> str:
    return "Answer the agent…" if conversation.task_id else "Message the agent"


def read_input(
    info: AgentInfo | None, conversation: Conversation
) -> tuple[str, list[Upload], bool]:
    """The chat input, pinned to the bottom, and the background switch above it; what it
    sent this run (text, files, whether to run it in the background).

    `submit_mode="stop"`: while the reply it asked for streams, its send button is Stop.
    """
    takes_files = info is not None and accepts_files(info.input_modes)
    refusal = session.push_refusal() if info is not None else ""
    with st.bottom:
        background = st.toggle(
            "Run in the background and notify me",
            key="chat_background",
            disabled=info is None or bool(refusal),
            help=refusal
            or "The agent answers at once with its task and posts its progress to this app; "
            "the reply fills in as the notifications arrive, also after a reload.",
        )
        submitted = st.chat_input(
            placeholder(conversation),
            key="chat_prompt",
            disabled=info is None,
            accept_file="multiple" if takes_files else False,
            max_upload_size=max(1, session.max_upload_bytes() // (1024 * 1024)),
            submit_mode="stop",
        )
    background = background and not refusal
    # With files accepted, chat_input returns text and files together; else plain text.
    if isinstance(submitted, str) or submitted is None:
        return submitted or "", [], background
    uploads = [Upload(f.name, f.type or "", f.getvalue()) for f in submitted.files]
    return submitted.text or "", uploads, background


@st.fragment(run_every=PUSH_POLL_SECONDS)
def background_reply(index: int) -> None:
    """A reply sent to run in the background, filled from the webhook's inbox every few
    seconds; once it has ended, the page draws it as any other reply."""
    conversation = session.conversation()
    if index >= len(conversation.turns) or (reply := conversation.turns[index].reply) is None:
        return
    session.catch_up(reply)
    reply = conversation.turns[index].reply or reply
    if reply.settled or reply.error:
        st.rerun()  # a run of the page, which also ends this poll
    st.caption(
        ":material/notifications_active: Running in the background: this reply fills in as "
        "the agent's notifications arrive (also after a reload)."
    )
    render_reply(reply, key=f"chat-{index}", inspect=False)
