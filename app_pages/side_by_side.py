"""Side by side: one prompt to 2-4 of the workspace's agents at once, replies in columns
with their first-event time, duration, event count and the inspector's verdict."""

from __future__ import annotations

import streamlit as st

from app_pages.ui.errors import show_error
from app_pages.ui.side_by_side import draw_run, run_label, stream_run
from services import session
from services.client.side_by_side import MAX_AGENTS, MAX_PROMPT_CHARS
from services.errors import AppError
from services.safe_text import plain

st.title("Side by side", anchor=False)
st.caption(
    "One prompt to several agents at once: each reply streams into its own column, "
    "recorded in the Streaming inspector as any chat reply is."
)
known = {entry.url: entry.label for entry in session.side_by_side_agents()}
if len(known) < 2:
    st.info(
        "Side by side needs at least two agents: connect another one in the sidebar.",
        icon=":material/view_column:",
    )
chosen = st.multiselect(
    f"Agents (2 to {MAX_AGENTS})",
    list(known),
    default=list(known)[:2],
    format_func=lambda url: plain(str(known.get(url) or url)[:80]),
    max_selections=MAX_AGENTS,
    key="side_by_side_agents",
)
prompt = st.text_area(
    "Prompt", max_chars=MAX_PROMPT_CHARS, key="side_by_side_prompt", placeholder="Hello"
)
live = None
if st.button("Send to all", type="primary", icon=":material/send:", key="side_by_side_send"):
    try:
        live = session.start_side_by_side(chosen, prompt)
    except AppError as error:
        show_error(error)

if live is not None:
    stream_run(*live)
elif (shown := session.shown_side_by_side()) is not None:
    st.markdown(f"**Prompt:** {plain(shown.prompt[:300])}")
    draw_run(shown)

runs = session.side_by_side_runs()
if runs:
    st.subheader("Earlier runs", anchor=False)
    labels = {index: run_label(run) for index, run in enumerate(runs)}
    picked = st.selectbox(
        "Reopen a run",
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        key="side_by_side_earlier",
    )
    if picked is not None and st.button("Open", icon=":material/history:", key="side_by_side_open"):
        session.open_side_by_side_run(runs[picked])
        st.rerun()
