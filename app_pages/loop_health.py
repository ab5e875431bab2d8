"""Loop health: each browser session's own event loop, its thread and portal, live."""

from __future__ import annotations

import streamlit as st

from app_pages.ui.health import render_report, render_reproduction, render_self_test
from services import session
from services.health import root_cause_text

st.set_page_config(layout="wide")
st.title("Loop health", anchor=False)
st.caption(
    "Each browser session owns one event loop on its own thread, reached through an anyio "
    "portal, so its httpx and a2a-sdk clients never meet a closed loop. Here are those "
    "loops, measured live."
)
with st.expander("Why “Event loop is closed” cannot happen here (from the README)"):
    st.markdown(root_cause_text())


@st.fragment(run_every=1.0)
def live_figures() -> None:
    """Redraws itself every second without rerunning the rest of the app."""
    render_report(session.health_report())


live_figures()

st.subheader("Actions", anchor=False)
restart, test, reproduce = st.columns(3)
if restart.button("Restart this session's runtime", icon=":material/restart_alt:"):
    session.restart_runtime()
    st.toast("Runtime restarted: a new loop and clients; the conversation is kept.")
if test.button("Run the self-test", icon=":material/speed:"):
    with st.spinner("500 portal calls, then a short stream from the demo agent…"):
        session.run_self_test()
if reproduce.button("Reproduce the classic error", icon=":material/bug_report:"):
    with st.spinner("Running the naive pattern and the portal pattern in a subprocess…"):
        session.run_reproduction()

if (self_test := session.last_self_test()) is not None:
    render_self_test(self_test)
if (reproduction := session.last_reproduction()) is not None:
    render_reproduction(reproduction)
