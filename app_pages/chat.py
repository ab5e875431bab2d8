"""Chat: a conversation with the connected A2A agent, replies streaming into one bubble."""

from __future__ import annotations

import logging
from functools import partial

import streamlit as st

from app_pages.ui.chat import (
    AGENT_AVATAR,
    USER_AVATAR,
    background_reply,
    placeholder,
    read_input,
    reconnect_turn,
    stream_into,
)
from app_pages.ui.composer import render_composer
from app_pages.ui.conversations import render_conversation_menu
from app_pages.ui.errors import show_error, turn_boundary
from app_pages.ui.reply import render_files, render_reply, render_text
from services import session
from services.client.agent import AgentInfo
from services.client.uploads import check_uploads, to_parts
from services.errors import AppError
from services.replies import ReplyEvent
from services.runtime import EventStream
from services.safe_text import code, plain

log = logging.getLogger(__name__)
EXAMPLES_SHOWN = 8  # a card may list thousands of skills: offer a few of their examples


def send_example(text: str) -> None:
    """An example clicked: send it in a run of the whole page, whose Stop button can
    interrupt it (a click inside the fragment cannot interrupt the fragment's run)."""
    session.queue_prompt(text)
    st.rerun()


def render_examples(info: AgentInfo) -> None:
    examples = [example for skill in info.skills for example in skill.examples]
    examples = examples[:EXAMPLES_SHOWN]
    if examples:
        st.markdown("Try one of the agent's examples:")
        with st.container(horizontal=True):
            for number, example in enumerate(examples):
                st.button(
                    plain(example[:200]),
                    key=f"chat_example_{number}",
                    on_click=send_example,
                    args=(example,),
                )


@st.fragment
def chat_area(info: AgentInfo | None) -> None:
    """The conversation, its menu and its input. A fragment: sending a message and
    drawing its reply rerun only this, not the sidebar and the rest of the page.

    A reply the input asked for streams in the fragment's run, and the input's send
    button is its Stop. Any other reply (an example, Reconnect, a resume after a reload)
    streams in a run of the whole page, under the page's Stop button. A message sent
    while a reply streams waits for that reply to end, then goes.
    """
    conversation = session.conversation()
    asked = placeholder(conversation)
    composed = render_composer(info, conversation)  # Advanced send: a whole request
    prompt, uploads, background = read_input(info, conversation)
    prompt = prompt or session.take_queued_prompt()
    refusals = check_uploads(uploads, info.input_modes, session.max_upload_bytes()) if info else []
    if prompt or uploads:  # a required extension left off: the agent would refuse it
        refusals += session.extension_refusals(info)
    sending = bool(prompt or uploads) and info is not None and not refusals

    # What streams in this run, by turn: a Reconnect clicked, or a reply that was still
    # streaming when its session ended (a reload, a closed tab, a server that stopped),
    # which follows its task again by itself; else the message just sent. The message
    # joins the history first, so the menu and the history below already show it.
    live: dict[int, EventStream[ReplyEvent]] = {}
    resumed: int | None = None
    if (follow := session.take_queued_reconnect()) is None:
        follow = resumed = session.take_resumable(conversation)
    broken = conversation.turns[follow].reply if follow is not None else None
    if follow is not None and broken is not None:
        live[follow] = session.reconnect(broken, resumed=follow == resumed)
        if sending:  # one stream at a time: the message goes once this reply has ended
            session.queue_prompt(prompt)
            sending = False
    elif sending and background:
        try:
            session.send_in_background(prompt, to_parts(uploads))
        except AppError as error:  # before anything was sent: nothing to keep
            show_error(error)
    elif sending:
        _, stream = session.send(prompt, to_parts(uploads))
        live[len(conversation.turns) - 1] = stream
    elif composed is not None:
        _, stream = session.send("", request=composed)
        live[len(conversation.turns) - 1] = stream

    if info is not None:
        render_conversation_menu(info)
        if not conversation.turns:
            render_examples(info)
    # Long conversations show their latest turns, a page at a time: a 3,000-turn import
    # drawn whole would send more elements in one run than the browser's connection holds.
    first = session.history_start(conversation)
    if first:
        st.button(
            f"Show earlier messages ({first:,} not shown)",
            icon=":material/expand_less:",
            on_click=session.show_earlier_history,
            args=(conversation.id,),
            key="chat_show_earlier",
        )
    for index, turn in enumerate(conversation.turns[first:], start=first):
        if turn.reply is None:
            with st.chat_message("user", avatar=USER_AVATAR), turn_boundary("This message"):
                render_text(turn.text, key=f"chat-{index}")
                render_files(turn.files, key=f"chat-{index}")
            continue
        with st.chat_message("assistant", avatar=AGENT_AVATAR):
            if index in live:
                stream_into(turn.reply, live[index], index)
                continue
            if turn.reply.background and not (turn.reply.settled or turn.reply.error):
                background_reply(index)
                continue
            with turn_boundary("This reply"):
                render_reply(
                    turn.reply,
                    key=f"chat-{index}",
                    on_reconnect=partial(reconnect_turn, index),
                    inspect=session.stream_kept(turn.reply.stream_id),
                )

    for refusal in refusals:
        show_error(f"Not sent: {refusal}", icon=":material/block:")
    if placeholder(conversation) != asked or session.has_queued_prompt():
        # The reply now waits for an answer (or no longer does): the input says so at
        # once. Or a message waits for the reply that was streaming: it goes now.
        session.rerun_chat()


session.settle_stopped_reply()
link_problem = session.follow_conversation_link()
info = session.agent_info()

st.title("Chat", anchor=False)
if link_problem:
    st.info(link_problem, icon=":material/link_off:")
if info is not None:
    st.caption(f"with **{plain(info.name[:200])}** at {code(session.agent_url())}")
else:
    st.info("Connect to an agent in the sidebar to start chatting.", icon=":material/link:")

with st.bottom:
    stop = st.empty()
if session.reply_pending(session.conversation()):
    stop.button("Stop", key="chat_stop", icon=":material/stop_circle:", on_click=session.stop_reply)
chat_area(info)
stop.empty()
