"""A2A Streamlit: chat with and debug A2A agents. Run it with `streamlit run app.py`.

This file is the server's entry (`st.App`): it serves the page router, `router.py`, and
adds what a script cannot do itself, a cookie that names the browser's workspace (see
services/store/identity.py). With no agent configured the app starts its embedded demo agent.
"""

import streamlit as st
from starlette.middleware import Middleware

from services.store.identity import WorkspaceCookie

app = st.App("router.py", middleware=[Middleware(WorkspaceCookie)])
