"""Streaming inspector: every event of a stream, on the wire and as the SDK saw it."""

from __future__ import annotations

import streamlit as st

from app_pages.ui.errors import show_error
from app_pages.ui.inspection import render_inspection
from app_pages.ui.replay import render_replay
from services import session
from services.errors import AppError
from services.inspector.capture import StreamRecord
from services.inspector.inspection import StreamFileError, import_jsonl, inspect

st.set_page_config(layout="wide")  # tables and timelines want the width
st.title("Streaming inspector", anchor=False)
st.caption(
    "Every event of a stream as it came over the wire (SSE frames, with times) next to what "
    "the SDK made of it, checked against the A2A 1.0 rules."
)
redactor = session.redactor()
requested = session.take_stream_request()  # from a chat reply's "Inspect stream" link
if requested is not None and session.stream_kept(requested):
    session.preset_widget("inspector_source", "This session")
    session.preset_widget("inspector_stream", requested)
elif requested is not None:
    st.info(
        f"Stream #{requested} is no longer kept: the inspector keeps the last "
        f"{session.recorder().max_streams} streams of a session.",
        icon=":material/history:",
    )
source = st.segmented_control(
    "Source",
    ["This session", "Push notifications", "Import a file"],
    default="This session",
    key="inspector_source",
)


def choose_recorded() -> StreamRecord | None:
    with st.form("inspector_probe", border=False, enter_to_submit=True):
        text_col, send_col = st.columns([5, 1], vertical_alignment="bottom")
        text = text_col.text_input(
            "Send a message from here and watch its events arrive",
            key="inspector_probe_text",
            placeholder="Explain how A2A streaming works",
        )
        sent = send_col.form_submit_button("Send", icon=":material/send:")
    if sent and text.strip():
        watch_live(text.strip())
    streams = session.recorder().streams()
    if not streams:
        st.info("No streams yet: send a message here or in Chat.", icon=":material/stream:")
        return None
    by_id = {r.id: r for r in reversed(streams)}  # the latest first, and the default
    chosen = st.selectbox(
        "Stream",
        list(by_id),
        format_func=lambda i: f"#{i} · {by_id[i].label[:60]} · {len(by_id[i].events)} events",
        key="inspector_stream",
    )
    return by_id.get(chosen)


def watch_live(text: str) -> None:
    """Send `text` and redraw the inspection as its events arrive."""
    try:
        stream = session.send_probe(text)
        live = st.empty()
        for _batch in stream.batches(interval=0.25):
            record = session.recorder().streams()[-1]
            with live.container():
                render_inspection(inspect(record, redactor), redactor, live=True)
        live.empty()
        session.save_stream(session.recorder().streams()[-1].id)
    except AppError as error:
        show_error(error)
    session.reset_widget("inspector_stream")  # select the new stream


def choose_imported() -> StreamRecord | None:
    upload = st.file_uploader(
        "A stream exported from this page (.jsonl)", type=["jsonl"], key="inspector_upload"
    )
    if upload is None:
        return None
    try:
        # surrogateescape: bytes that are not UTF-8 reach the door, which refuses them.
        return import_jsonl(upload.getvalue().decode("utf-8", "surrogateescape"))
    except StreamFileError as error:  # one sentence; the page stays usable
        show_error(str(error), icon=":material/error:")
        return None


def choose_push() -> StreamRecord | None:
    tasks = session.push_tasks()
    if not tasks:
        st.info(
            "No push notifications yet: in Chat, switch on Run in the background and notify "
            "me, or add a push config to a task on Tasks.",
            icon=":material/notifications:",
        )
        return None
    task_id = st.selectbox("Task (the latest news first)", tasks, key="inspector_push_task")
    return session.push_record(task_id) if task_id else None


if source == "Import a file":
    record = choose_imported()
elif source == "Push notifications":
    record = choose_push()
else:
    record = choose_recorded()
session.show_stream(record.id if record is not None and source == "This session" else None)
if record is not None:
    render_inspection(inspect(record, redactor), redactor)
    if source == "This session":
        render_replay(record)  # send its request again, compare; Copy as curl is above
