"""Your data: where this workspace is kept, a copy of all of it, and deleting it."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from app_pages.ui.errors import show_error
from services import session
from services.safe_text import plain
from services.store import StoreError

st.title("Your data", anchor=False)
kept = session.store()
st.markdown(f"This workspace is {session.workspace_kind()}.")
if kept is not None:  # the kind of database, not its path or host: every visitor sees this
    where = "a SQLite file on this server" if kept.dialect == "sqlite" else "a PostgreSQL database"
    st.caption(f"Kept in {where}.")
if problem := session.store_problem():
    show_error(problem, icon=":material/cloud_off:")

st.subheader("A copy of everything", anchor=False)
st.download_button(
    "Export the whole workspace (JSON)",
    data=session.export_workspace,  # made when clicked
    file_name="a2a-workspace.json",
    mime="application/json",
    icon=":material/download:",
    key="data_export",
)

st.subheader("Conversations", anchor=False)
for entry in session.agents():
    talks = [c for c in entry.conversations if c.turns]
    if not talks:
        continue
    st.markdown(f"**{plain(entry.label[:200])}**")
    for conversation in talks:
        row = st.container(horizontal=True, vertical_alignment="center")
        row.caption(f"{plain(conversation.label)} · {len(conversation.turns)} messages")
        if row.button("Delete", key=f"data_delete_{conversation.id}", icon=":material/delete:"):
            session.delete_conversation(conversation.id, entry.url)
            st.rerun()

st.subheader("Shared links", anchor=False)
try:
    links = session.shares()
except StoreError as error:
    show_error(error)
    links = []
if not links:
    st.caption("None: Share in a conversation's menu makes one.")
for link in links:
    row = st.container(horizontal=True, vertical_alignment="center")
    when = datetime.fromtimestamp(link.created_at).strftime("%Y-%m-%d %H:%M")
    state = "revoked" if link.revoked else "active"
    row.caption(f"{plain(link.title or link.conversation_id)} · made {when} · {state}")
    if not link.revoked and row.button("Revoke", key=f"data_revoke_{link.token[:12]}"):
        session.revoke_share(link.token)
        st.rerun()

st.subheader("Forget this workspace", anchor=False)
st.caption(
    "Deletes every conversation, stream and shared link of this workspace, here and in "
    "the database. It cannot be undone."
)
sure = st.checkbox("Yes, delete all of it", key="data_forget_sure")
if st.button("Forget this workspace", disabled=not sure, type="primary", key="data_forget"):
    session.forget_workspace()
    st.rerun()
