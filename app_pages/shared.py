"""A shared conversation: a read-only snapshot someone made a link to, and a way to keep
a copy of it in your own workspace."""

from __future__ import annotations

import streamlit as st

from app_pages.ui.errors import show_error, turn_boundary
from app_pages.ui.reply import render_files, render_reply, render_text
from services import session
from services.store import StoreError
from services.store.workspace import ConversationFileError, import_conversation

st.title("Shared conversation", anchor=False)
token = st.query_params.get(session.SHARE_PARAM, "")
try:
    found = session.shared(token)
except StoreError as error:
    show_error(error)
    st.stop()
if found is None:
    st.info("This link does not name a shared conversation (it may be mistyped).")
    st.stop()
text, revoked = found
if revoked:
    st.info("Its owner stopped sharing this conversation.", icon=":material/link_off:")
    st.stop()
try:
    snapshot, _agent = import_conversation(text)
except ConversationFileError as error:
    show_error(str(error))
    st.stop()

st.caption(f"**{snapshot.label}** · read-only · {len(snapshot.turns)} messages")
if st.button("Import into my workspace", icon=":material/download:", key="shared_import"):
    session.import_conversation_file(text)
    st.switch_page("app_pages/chat.py")
for index, turn in enumerate(snapshot.turns):
    with st.chat_message("user" if turn.reply is None else "assistant"):
        with turn_boundary("This message"):
            if turn.reply is None:
                render_text(turn.text, key=f"shared-{index}")
                render_files(turn.files, key=f"shared-{index}")
            else:
                render_reply(turn.reply, key=f"shared-{index}")
