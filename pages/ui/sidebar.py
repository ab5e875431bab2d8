"""The sidebar every page shares: the agent's URL, its card, New conversation."""

from __future__ import annotations

import streamlit as st

from services import session
from services.agent import AgentInfo


def render_sidebar() -> None:
    with st.sidebar:
        st.subheader("Agent", anchor=False)
        with st.form("sidebar_connect", border=False, enter_to_submit=True):
            url = st.text_input(
                "Agent URL",
                value=session.agent_url(),
                key="sidebar_agent_url",
                help="The agent's base URL (its card is at /.well-known/agent-card.json) "
                "or the card's full URL.",
            )
            if st.form_submit_button("Connect", icon=":material/link:"):
                session.connect(url)
        info = session.agent_info()
        if error := session.agent_error():
            st.error(str(error), icon=":material/link_off:")
            if error.detail:
                with st.expander("Details"):
                    st.code(error.detail, language=None, wrap_lines=True)
        if info is not None:
            _render_card(info)
        _render_loop_status()
        st.button(
            "New conversation",
            icon=":material/add_comment:",
            on_click=session.new_conversation,
            width="stretch",
        )


def _render_card(info: AgentInfo) -> None:
    with st.container(border=True):
        st.markdown(f"**{info.name}**  \nversion {info.version or '?'}")
        if info.description:
            st.caption(info.description)
        streaming = "streaming" if info.streaming else "no streaming (polls)"
        st.caption(f"A2A {info.protocol_version} · {info.binding} · {streaming}")
    if info.skills:
        st.markdown("**Skills** · click an example to send it")
        for index, skill in enumerate(info.skills):
            with st.expander(skill.name):
                if skill.description:
                    st.caption(skill.description)
                for number, example in enumerate(skill.examples):
                    st.button(
                        example,
                        key=f"sidebar_example_{index}_{number}",
                        on_click=session.queue_prompt,
                        args=(example,),
                        icon=":material/send:",
                    )


_LOOP_COLORS = {"ok": "green", "rebuilt": "blue", "lagging": "orange", "down": "red"}


def _render_loop_status() -> None:
    state, text = session.loop_status()
    st.caption(f":{_LOOP_COLORS[state]}[:material/circle:] {text}", help="See Loop health.")
