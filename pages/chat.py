"""Chat: a conversation with the connected A2A agent, replies streaming into one bubble."""

from __future__ import annotations

import logging

import streamlit as st

from pages.ui.reply import render_reply
from services import session
from services.errors import AppError

log = logging.getLogger(__name__)
USER_AVATAR = ":material/person:"
AGENT_AVATAR = ":material/smart_toy:"


def stream_reply(text: str) -> None:
    """Send `text` and draw the reply as it streams; the reply is kept in history."""
    reply, stream = session.send(text)
    turn_key = f"chat-{len(session.conversation().turns) - 1}"
    with st.chat_message("user", avatar=USER_AVATAR):
        st.markdown(text)
    with st.chat_message("assistant", avatar=AGENT_AVATAR):
        body = st.empty()
        stop = st.empty()
        stop.button(
            "Stop", key="chat_stop", icon=":material/stop_circle:", on_click=session.stop_reply
        )
        try:
            for batch in stream.batches():
                for event in batch:
                    reply.apply(event)
                with body.container():
                    render_reply(reply, live=True)
        except AppError as error:
            log.warning("reply failed: %s (%s)", error, session.redact(error.detail))
            reply.fail(str(error), error.detail)
        else:
            reply.finish()
        stop.empty()
        with body.container():
            render_reply(reply, key=turn_key)


info = session.agent_info()
conversation = session.conversation()
placeholder = "Answer the agent…" if conversation.task_id else "Message the agent"
prompt = st.chat_input(placeholder, key="chat_prompt", disabled=info is None)
prompt = prompt or session.take_queued_prompt()

st.title("Chat", anchor=False)
if info is not None:
    st.caption(f"with **{info.name}** at {session.agent_url()}")
else:
    st.info("Connect to an agent in the sidebar to start chatting.", icon=":material/link:")

if not conversation.turns and not prompt and info is not None:
    examples = [example for skill in info.skills for example in skill.examples]
    if examples:
        st.markdown("Try one of the agent's examples:")
        with st.container(horizontal=True):
            for number, example in enumerate(examples):
                st.button(
                    example,
                    key=f"chat_example_{number}",
                    on_click=session.queue_prompt,
                    args=(example,),
                )

for index, turn in enumerate(conversation.turns):
    if turn.reply is None:
        with st.chat_message("user", avatar=USER_AVATAR):
            st.markdown(turn.text)
    else:
        with st.chat_message("assistant", avatar=AGENT_AVATAR):
            render_reply(turn.reply, key=f"chat-{index}")

if prompt and info is not None:
    stream_reply(prompt)
