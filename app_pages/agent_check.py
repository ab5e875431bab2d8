"""Agent check: why can't I connect, step by step, and does the agent do what its card
says, per the spec. The same run as `python -m services.agent_check URL` for CI."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from app_pages.ui.agent_check import render_comparison, render_report, watch_run
from app_pages.ui.errors import show_error
from services import session
from services.errors import AppError
from services.safe_text import code, plain

st.title("Agent check", anchor=False)
info = session.agent_info()
if info is None:
    st.info("Connect to an agent in the sidebar to check it.", icon=":material/link:")
    st.stop()
st.caption(
    f"**{plain(info.name[:200])}** at {code(session.agent_url())}, "
    "with this session's credentials and binding"
)

message = st.text_input(
    "The message the run sends",
    value="ping",
    max_chars=500,
    key="check_message",
    help="Sent with SendMessage and SendStreamingMessage; only tasks the run starts are canceled.",
)
consent = session.check_is_against_demo() or st.checkbox(
    "This agent may receive the run's messages and tasks (a few dozen requests at most)",
    key="check_consent",
)
session.finish_agent_check()  # a run that has ended joins the runs below
running = session.running_agent_check()
busy = running is not None and not running.done.is_set()
if st.button(
    "Run the check",
    type="primary",
    icon=":material/rule:",
    disabled=not consent or busy,
    key="check_run",
):
    try:
        running = session.start_agent_check(message)
    except AppError as error:
        show_error(error)
if running is not None:
    watch_run()

runs = session.agent_check_runs()
if not runs:
    st.stop()
labels = {
    index: f"{datetime.fromtimestamp(run.created_at).strftime('%H:%M:%S')} · "
    f"{plain(str(run.agent.get('name') or run.agent.get('url') or 'agent'))[:60]}"
    for index, run in enumerate(runs)
}
chosen = st.selectbox("Run", list(labels), format_func=labels.__getitem__, key="check_shown")
render_report(runs[chosen], key="check")
if len(runs) > 1:
    with st.expander("Compare with another run"):
        other = st.selectbox(
            "Earlier run",
            [i for i in labels if i != chosen],
            format_func=labels.__getitem__,
            key="check_compare",
        )
        render_comparison(runs[chosen], runs[other])
