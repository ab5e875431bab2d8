"""A2A Streamlit: chat with and debug A2A agents. Run it with `streamlit run app.py`.

This file is the server's entry (`st.App`): it serves the page router, `router.py`, and
adds what a script cannot do itself: a cookie that names the browser's workspace (see
services/store/identity.py), and the webhook agents post push notifications to,
`POST /a2a/push/{config_id}` (services/push/), on Streamlit's own port since that is the
only one a deployment exposes. The route opens the process's store the way a session
does, if no session has yet. With no agent configured the app starts its embedded demo
agent.
"""

import streamlit as st
from starlette.middleware import Middleware

from services.push import push_routes
from services.session import route_store
from services.store.identity import WorkspaceCookie

app = st.App(
    "router.py",
    routes=push_routes(route_store),
    middleware=[Middleware(WorkspaceCookie)],
)
