"""The Chat page's Advanced send: the whole SendMessage request as JSON, edited and sent.

The draft is what the chat would send next in this conversation (`session.composer_draft`).
Its widget key names the conversation, how many turns it has and its settings, so once a
message goes (or the settings change) the next draw starts from a fresh draft with the
new context and task ids and a new message id.
"""

from __future__ import annotations

import zlib

import streamlit as st
from a2a.types.a2a_pb2 import SendMessageRequest

from app_pages.ui.errors import show_error
from services import session
from services.client.agent import AgentInfo
from services.client.composer import MAX_REQUEST_BYTES, RequestRejected, parse_request
from services.replies import Conversation

SEND_KEY = "chat_composer_send"
HELP = (
    "Edit any field of the A2A SendMessageRequest (protobuf JSON, camelCase). "
    'Parts: `{"text": "…"}`, `{"data": {…}}`, '
    '`{"raw": "<base64>", "mediaType": "text/plain", "filename": "a.txt"}` or '
    '`{"url": "https://…", "mediaType": "…", "filename": "…"}`. Also '
    "`message.metadata`, `message.referenceTaskIds`, `message.taskId`, `message.contextId`, "
    "and `configuration`: `acceptedOutputModes`, `historyLength`, `returnImmediately`, "
    "`taskPushNotificationConfig` (`url`, `token`, `authentication`)."
)


def draft_key(conversation: Conversation) -> str:
    """The text area's key: a new one (a fresh draft) whenever the chat's request changes."""
    settings = f"{conversation.accepted_output_modes}|{conversation.history_length}"
    digest = zlib.crc32(settings.encode("utf-8"))
    return f"chat_composer-{conversation.id}-{len(conversation.turns)}-{digest:x}"


def render_composer(
    info: AgentInfo | None, conversation: Conversation
) -> SendMessageRequest | None:
    """The Advanced send popover above the chat input; the checked request to send this
    run (its problems, one sentence each, are drawn instead when it does not pass)."""
    key = draft_key(conversation)
    with (
        st.bottom,
        st.popover("Advanced send", icon=":material/data_object:", disabled=info is None),
    ):
        if session.widget_value(key) is None:
            session.preset_widget(key, session.composer_draft())
        st.text_area(
            "SendMessage request (JSON)",
            key=key,
            height=360,
            max_chars=MAX_REQUEST_BYTES,
            help=HELP,
        )
        st.caption(
            "Starts from what the chat would send next. Checked against the A2A schema "
            "before it goes; the reply joins the conversation."
        )
        with st.container(horizontal=True):
            send = st.button("Send request", key=SEND_KEY, icon=":material/send:", type="primary")
            st.button(
                "Reset draft",
                key="chat_composer_reset",
                icon=":material/restart_alt:",
                on_click=session.reset_widget,
                args=(key,),
            )
        if not send or info is None:
            return None
        try:
            return parse_request(str(session.widget_value(key) or ""))
        except RequestRejected as rejected:
            for problem in rejected.problems:
                show_error(f"Not sent: {problem}", icon=":material/block:")
            return None
