"""Sign-in: OAuth 2 and OpenID Connect from the agent's card, every step on a timeline.

The authorization server sends the browser back here (`?code=...&state=...`): that
page load finishes the sign-in the state names.
"""

from __future__ import annotations

import streamlit as st

from app_pages.ui.errors import show_error
from app_pages.ui.sign_in import (
    render_form,
    render_next_step,
    render_status,
    render_timeline,
)
from services import session
from services.errors import AppError
from services.safe_text import plain

_REDIRECT_PARAMS = ("code", "state", "error", "error_description", "iss", "session_state")

st.title("Sign in", anchor=False)
st.caption(
    "OAuth 2 and OpenID Connect sign-in from the agent's card: client credentials, "
    "authorization code with PKCE, or the device grant. The token stays in this session "
    "and is never shown."
)
query = st.query_params.to_dict()
if "state" in query and ("code" in query or "error" in query):
    try:
        finished = session.finish_redirect(query)
        st.success(
            f"Signed in to {plain(finished.agent_url)}. If you started in another tab, it "
            "uses the token too: you may close this one.",
            icon=":material/verified_user:",
        )
    except AppError as error:
        show_error(error)
    finally:
        for name in _REDIRECT_PARAMS:  # a reload must not replay the code
            st.query_params.pop(name, None)

info = session.agent_info()
if info is None:
    st.info("Connect to an agent in the sidebar first.", icon=":material/link:")
    st.stop()
attempt = session.sign_in()
render_status(attempt)
schemes = session.sign_in_schemes()
if not schemes:
    st.info(
        "This agent's card declares no OAuth 2 or OpenID Connect scheme: it needs no "
        "sign-in, or takes a token or key under Credentials in the sidebar.",
        icon=":material/key_off:",
    )
else:
    render_form(info.card, schemes)
if (attempt := session.sign_in()) is not None:  # the form may have started one
    render_next_step(attempt)
    render_timeline(attempt)
