"""The Tasks page's push notifications for one task: the agent's configs (list, add one
that notifies this app, delete) and what this app's webhook received for the task."""

from __future__ import annotations

import json
from datetime import datetime

import streamlit as st

from app_pages.ui.errors import show_error
from services import session
from services.errors import AppError
from services.safe_text import code, plain

INBOX_SHOWN = 20  # the newest deliveries drawn with their body; the table lists them all


def render_push(task_id: str) -> None:
    with st.expander("Push notifications"):
        if refusal := session.push_refusal():
            st.info(refusal, icon=":material/notifications_off:")
            return
        _render_configs(task_id)
        _render_inbox(task_id)


def _render_configs(task_id: str) -> None:
    if st.button(
        "Notify this app of this task",
        icon=":material/add_alert:",
        key="tasks_push_add",
        help="Gives the agent a push config naming this app's webhook, with a new token.",
    ):
        try:
            added = session.add_task_push_config(task_id)
            st.toast(plain(f"The agent will notify this app (config {added.id[:12]})."))
        except AppError as error:
            show_error(error)
    try:
        configs = session.task_push_configs(task_id)
    except AppError as error:
        show_error(error)
        return
    if not configs:
        st.caption("The agent holds no push config for this task.")
    for config in configs:
        row = st.container(horizontal=True, vertical_alignment="center")
        token = "a token" if config.has_token else "no token"
        auth = f" · auth {plain(config.auth_scheme[:40])}" if config.auth_scheme else ""
        row.markdown(f"{code(config.id[:64])} → {code(config.url[:300])} · {token}{auth}")
        if row.button("Delete", icon=":material/delete:", key=f"tasks_push_delete_{config.id}"):
            try:
                session.delete_task_push_config(task_id, config.id)
                st.rerun()
            except AppError as error:
                show_error(error)


def _render_inbox(task_id: str) -> None:
    received = session.push_inbox(task_id)
    st.markdown(f"**Received by this app** ({len(received)})")
    if not received:
        st.caption("Nothing yet: notifications for this task appear here as they arrive.")
        return
    st.dataframe(
        [
            {
                "received": datetime.fromtimestamp(d.received_at).strftime("%H:%M:%S"),
                "kind": d.kind,
                "state": d.state,
                "verified JWT": d.verified,
            }
            for d in received
        ],
        hide_index=True,
    )
    for delivery in received[:INBOX_SHOWN]:
        when = datetime.fromtimestamp(delivery.received_at).strftime("%H:%M:%S")
        with st.expander(f"{when} · {delivery.kind} · {delivery.state or '-'}"):
            try:
                st.json(json.loads(delivery.body), expanded=2)
            except ValueError:
                st.code(delivery.body[:2000], language=None)
