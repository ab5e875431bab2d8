"""The conversation menu on the Chat page: switch, new, rename, delete, export, import,
and the conversation's advanced A2A settings.

Drawn in the chat's fragment, with popovers that draw their content only while open: a
message and its reply send the menu's three buttons, not its forms and lists.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from app_pages.ui.errors import show_error
from app_pages.ui.extensions import render_extension_choice
from services import session
from services.client.agent import AgentInfo
from services.store import StoreError
from services.store.workspace import ConversationFileError

LIST_KEY = "chat_menu_conversations"  # the popovers' open state
SETTINGS_KEY = "chat_menu_settings"


def render_conversation_menu(info: AgentInfo | None) -> None:
    current = session.conversation()
    with st.container(horizontal=True):
        with st.popover(
            f":material/forum: {current.label}", key=LIST_KEY, on_change="rerun"
        ) as conversations:
            if conversations.open:
                _render_list(current.id)
        st.button(
            "New conversation",
            icon=":material/add_comment:",
            on_click=session.new_conversation,
        )
        with st.popover(":material/tune: Advanced", key=SETTINGS_KEY, on_change="rerun") as more:
            if more.open:
                _render_settings(info)


def _render_list(current_id: str) -> None:
    conversations = session.conversations()
    labels = {c.id: f"{c.label} · {len(c.replies)} replies" for c in reversed(conversations)}
    session.preset_widget("chat_conversation_choice", current_id)
    st.radio(
        "Conversations with this agent",
        list(labels),
        format_func=labels.__getitem__,
        key="chat_conversation_choice",
        on_change=lambda: session.select_conversation(
            session.widget_value("chat_conversation_choice")
        ),
    )
    with st.form("chat_rename", border=False):
        st.text_input("Rename", value=session.conversation().title, key="chat_title")
        st.form_submit_button(
            "Rename",
            icon=":material/edit:",
            on_click=lambda: session.rename_conversation(
                current_id, session.widget_value("chat_title") or ""
            ),
        )
    st.download_button(
        "Export as JSON",
        data=session.export_current_conversation,  # made when clicked, not on every run
        file_name=f"a2a-conversation-{current_id}.json",
        mime="application/json",
        icon=":material/download:",
        key="chat_export",
    )
    upload = st.file_uploader("Import a conversation", type=["json"], key="chat_import")
    if upload is not None and st.button("Open it", icon=":material/upload:", key="chat_import_go"):
        try:
            # surrogateescape keeps bytes that are not UTF-8 visible to the door, which
            # refuses them; "replace" would have let them in as U+FFFD.
            session.import_conversation_file(upload.getvalue().decode("utf-8", "surrogateescape"))
        except ConversationFileError as error:  # one sentence; nothing entered the session
            show_error(str(error), icon=":material/error:")
        else:
            st.rerun()
    _render_share()
    st.button(
        "Delete this conversation",
        icon=":material/delete:",
        on_click=session.delete_conversation,
        args=(current_id,),
        key="chat_delete",
    )


def _render_share() -> None:
    """A read-only link to a snapshot of the conversation as it is now."""
    if st.button("Share a read-only link", icon=":material/share:", key="chat_share"):
        if not session.conversation().turns:
            st.info("Send a message first: an empty conversation has nothing to share.")
            return
        try:
            token = session.share_conversation()
        except StoreError as error:
            show_error(error)
            return
        page = urlsplit(str(st.context.url or ""))
        base = f"{page.scheme}://{page.netloc}" if page.netloc else ""
        st.code(f"{base}/shared?{session.SHARE_PARAM}={token}", language=None)
        st.caption("Anyone with this link can read this snapshot. Revoke it under Your data.")


def _render_settings(info: AgentInfo | None) -> None:
    current = session.conversation()
    modes = sorted(set(info.output_modes) | set(current.accepted_output_modes)) if info else []
    chosen = st.multiselect(
        "Accepted output modes",
        modes,
        default=current.accepted_output_modes,
        key=f"chat_output_modes_{current.id}",
        help="Sent as acceptedOutputModes; empty lets the agent choose.",
    )
    limit = st.number_input(
        "History length",
        min_value=0,
        value=current.history_length,
        step=1,
        key=f"chat_history_length_{current.id}",
        help="Sent as historyLength: how many past messages the agent returns with a task. "
        "Empty leaves it to the agent.",
    )
    session.set_conversation_options(chosen, int(limit) if limit is not None else None)
    render_extension_choice(info)
