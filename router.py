"""The page router: page config, the pages, the sidebar they share.

`streamlit run app.py` serves this script (app.py is the server's entry, `st.App`).
"""

import streamlit as st

from app_pages.ui.sidebar import render_sidebar
from services import session

st.set_page_config(page_title="A2A Streamlit", page_icon=":material/hub:")
session.begin_run()
session.restore_sign_in()  # a sign-in kept in the workspace, once per session

page = st.navigation(
    [
        st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", default=True),
        st.Page("app_pages/tasks.py", title="Tasks", icon=":material/task_alt:"),
        st.Page(
            "app_pages/inspector.py", title="Streaming inspector", icon=":material/troubleshoot:"
        ),
        st.Page("app_pages/agent_check.py", title="Agent check", icon=":material/rule:"),
        st.Page("app_pages/side_by_side.py", title="Side by side", icon=":material/view_column:"),
        st.Page(
            "app_pages/sign_in.py",
            title="Sign-in",
            icon=":material/key:",
            url_path=session.AUTH_PAGE_PATH,  # where authorization servers send users back
        ),
        st.Page("app_pages/loop_health.py", title="Loop health", icon=":material/monitor_heart:"),
        st.Page("app_pages/your_data.py", title="Your data", icon=":material/database:"),
        st.Page(
            "app_pages/shared.py",
            title="Shared conversation",
            url_path="shared",
            visibility="hidden",
        ),
    ]
)
render_sidebar()
page.run()
