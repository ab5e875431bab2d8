"""Tasks: the connected agent's tasks (ListTasks), each one's detail, Cancel, Subscribe,
and "open in chat" to continue it."""

from __future__ import annotations

from datetime import datetime, time

import streamlit as st

from app_pages.ui.errors import show_error, turn_boundary
from app_pages.ui.push import render_push
from app_pages.ui.reply import (
    UPDATES_PER_SECOND,
    LiveReply,
    render_files,
    render_reply,
    render_text,
)
from services import session
from services.client.tasks import STATES, TaskDetail, TaskFilter
from services.errors import AppError
from services.replies import Reply
from services.safe_text import plain

HISTORY_SHOWN = 50  # the latest messages of a task's history; the JSON view has them all

st.set_page_config(layout="wide")
st.title("Tasks", anchor=False)
info = session.agent_info()
if info is None:
    st.info("Connect to an agent in the sidebar to see its tasks.", icon=":material/link:")
    st.stop()
st.caption(f"Tasks on **{plain(info.name[:200])}**, newest first, as its ListTasks returns them.")

context_col, state_col, date_col, size_col = st.columns([3, 2, 2, 1])
scope = context_col.selectbox(
    "Context", ["All contexts", "This conversation's context"], key="tasks_scope"
)
state = state_col.selectbox("State", ["any", *STATES], key="tasks_state")
since = date_col.date_input("Updated on or after", value=None, key="tasks_since")
page_size = size_col.number_input("Per page", 5, 100, 20, step=5, key="tasks_page_size")
context_id = session.conversation().context_id if scope != "All contexts" else ""
where = TaskFilter(
    context_id=context_id,
    state="" if state == "any" else state,
    updated_after=datetime.combine(since, time.min) if since else None,
    page_size=int(page_size),
    page_token=session.tasks_page_token(),
)
if scope != "All contexts" and not context_id:
    st.caption("This conversation has no context yet: send a message in Chat first.")

try:
    page = session.list_tasks(where)
except AppError as error:
    show_error(error)
    st.stop()

rows = [
    {"task": t.id, "state": t.state, "updated": t.updated, "artifacts": t.artifacts,
     "context": t.context_id, "latest": t.preview}
    for t in page.tasks
]  # fmt: skip
st.dataframe(rows, hide_index=True, key="tasks_table")
pager = st.container(horizontal=True)
total = f" of {page.total_size}" if page.total_size else ""
pager.caption(f"{len(rows)} task(s){total} on this page")
if session.tasks_page_token() and pager.button("First page", icon=":material/first_page:"):
    session.set_tasks_page_token("")
    st.rerun()
if page.next_page_token and pager.button("Next page", icon=":material/navigate_next:"):
    session.set_tasks_page_token(page.next_page_token)
    st.rerun()

by_id = {t.id: t for t in page.tasks}
task_id = st.selectbox(
    "Open a task",
    list(by_id),
    index=None,
    format_func=lambda i: f"{i[:8]} · {by_id[i].state} · {by_id[i].preview[:60]}",
    placeholder="Pick a task to see its detail",
    key="tasks_open_id",
)
if task_id is None:
    st.stop()
try:
    detail: TaskDetail = session.get_task(task_id)
except AppError as error:
    show_error(error)
    st.stop()

# Ids come from the agent: shown as plain text, like everything else it sends.
st.subheader(f"Task {plain(detail.id[:200])}", anchor=False)
st.caption(f"context {plain(detail.context_id[:200])}")
actions = st.container(horizontal=True)
if detail.running and actions.button("Cancel", icon=":material/cancel:", key="tasks_cancel"):
    try:
        state_after = session.cancel_task(detail.id)
        st.toast(plain(f"Task {detail.id[:8]} is now {state_after}."))
        st.rerun()
    except AppError as error:
        show_error(error)
subscribe = detail.running and actions.button(
    "Subscribe", icon=":material/sensors:", key="tasks_subscribe"
)
if actions.button("Open in chat", icon=":material/chat:", key="tasks_open"):
    session.open_task_in_chat(detail)
    st.switch_page("app_pages/chat.py")

if subscribe:
    # Drawn as the chat draws a streaming reply: only what changed is re-sent.
    live_reply = Reply()
    with st.container(border=True):
        caption = st.empty()
        caption.caption(":orange[live] · SubscribeToTask")
        view = LiveReply()
        try:
            watcher = session.subscribe_task(detail.id)
            for batch in watcher.batches(interval=1 / UPDATES_PER_SECOND):
                for event in batch:
                    live_reply.apply(event)
                view.show(live_reply)
        except AppError as error:
            live_reply.fail(str(error), error.detail)
        else:
            live_reply.finish()
        caption.empty()
        kept = session.stream_kept(live_reply.stream_id)
        view.show(live_reply, live=False, key="tasks-live", inspect=kept)
else:
    with st.container(border=True), turn_boundary("This task"):
        render_reply(detail.reply, key="tasks-detail")

with st.expander(f"History ({len(detail.history)} messages)"):
    first = max(0, len(detail.history) - HISTORY_SHOWN)
    if first:
        st.caption(f"The latest {HISTORY_SHOWN} messages; {first:,} earlier ones are in the JSON.")
    for number, turn in enumerate(detail.history[first:], start=first):
        with st.chat_message("user" if turn.role == "user" else "assistant"):
            with turn_boundary("This message"):
                render_text(turn.text or "_(no text)_", key=f"tasks-history-{number}")
                render_files(turn.files, key=f"tasks-history-{number}")
with st.expander("As JSON (GetTask)"):
    st.json(detail.raw, expanded=False)
render_push(detail.id)
