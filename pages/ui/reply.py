"""Draws an agent's reply inside a chat bubble, live while it streams and in history.

Agent text goes through `st.markdown` with HTML off (Streamlit's default), so what an
agent sends is shown, never run.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import streamlit as st

from services.replies import ArtifactView, PartView, Reply
from services.safe_text import plain, safe_markdown

_STATE_BADGES = {
    "completed": ("completed", "green", ":material/check_circle:"),
    "failed": ("failed", "red", ":material/error:"),
    "canceled": ("canceled", "gray", ":material/cancel:"),
    "rejected": ("rejected", "red", ":material/block:"),
    "input-required": ("input required", "orange", ":material/help:"),
    "auth-required": ("auth required", "orange", ":material/lock:"),
    "working": ("working", "blue", ":material/pending:"),
    "submitted": ("submitted", "blue", ":material/schedule:"),
}


def render_reply(
    reply: Reply,
    *,
    live: bool = False,
    key: str = "",
    on_reconnect: Callable[[], None] | None = None,
) -> None:
    """Draw `reply`. `live` skips widgets (drawn once, when the stream ends); a broken
    task reply offers Reconnect when `on_reconnect` is given."""
    log = reply.working_log
    if log:
        done = reply.settled or not live
        label = f"Worked through {_plural(len(log), 'step')}" if done else plain(log[-1])
        # Not `with st.status(...)`: leaving the block would mark it complete mid-stream.
        box = st.status(label, state="complete" if done else "running", expanded=False)
        for line in log:
            box.markdown(safe_markdown(line))

    for part in reply.message_parts:
        _render_part(part, live=live, key=f"{key}-msg")
    for index, artifact in enumerate(reply.artifacts.values()):
        _render_artifact(artifact, live=live, key=f"{key}-a{index}")

    settling = "".join(p.text for p in reply.status_parts if p.kind == "text")
    if settling:
        if reply.state in ("failed", "rejected"):
            st.error(safe_markdown(settling), icon=":material/error:")
        else:
            st.markdown(safe_markdown(settling))

    if not (reply.message_parts or reply.artifacts or settling or log) and live:
        st.caption("Waiting for the agent…")

    _render_footer(reply, live=live)
    if not live and on_reconnect is not None and reply.can_reconnect:
        st.button(
            "Reconnect",
            key=f"{key}-reconnect",
            icon=":material/sync:",
            on_click=on_reconnect,
            help="Resubscribe to the task, fill in what was missed, and follow it to the end.",
        )


def _render_footer(reply: Reply, *, live: bool) -> None:
    if reply.error:
        st.error(reply.error, icon=":material/warning:")
        if reply.error_detail:
            with st.expander("Details"):
                st.code(reply.error_detail, language=None, wrap_lines=True)
    elif not live and not reply.settled and not reply.stopped:
        st.warning(
            "This reply was interrupted before it finished (the page reran or the "
            "connection dropped). What arrived is kept"
            + ("; Reconnect follows the task to its end." if reply.task_id else "."),
            icon=":material/link_off:",
        )
    bits = []
    if reply.state in _STATE_BADGES:
        label, color, icon = _STATE_BADGES[reply.state]
        bits.append(f":{color}-badge[{icon} {label}]")
    elif reply.message_parts and not reply.task_id:
        bits.append(":gray-badge[:material/chat: message]")  # a direct reply, no task
    if reply.stopped:
        bits.append("stopped by you")
    if reply.reconnected:
        bits.append(":violet-badge[:material/sync: reconnected]")
    if reply.gaps and not live:
        bits.append(f"could not fill in: {', '.join(plain(g) for g in reply.gaps)}")
    if reply.needs_input and not live:
        bits.append("the agent is waiting for your answer: reply below to continue this task")
    if reply.ended_at is not None:
        seconds = reply.ended_at - reply.started_at
        bits.append(f"{_plural(reply.event_count, 'event')} in {seconds:.1f} s")
    if bits:
        st.caption(" · ".join(bits))


def _render_artifact(artifact: ArtifactView, *, live: bool, key: str) -> None:
    if artifact.name and any(p.kind == "data" for p in artifact.parts):
        st.caption(f":material/data_object: {plain(artifact.name)}")
    for index, part in enumerate(artifact.parts):
        _render_part(part, live=live, key=f"{key}-p{index}")


def _render_part(part: PartView, *, live: bool, key: str) -> None:
    if part.kind == "text":
        st.markdown(safe_markdown(part.text))
    elif part.kind == "data":
        rows = _table_rows(part.data)
        if rows is not None:
            st.dataframe(rows, hide_index=True)
        else:
            st.json(part.data, expanded=2)
    else:
        _render_file(part, live=live, key=key)


def _render_file(part: PartView, *, live: bool, key: str) -> None:
    """A raw image inline, other raw files as downloads, URL files as links."""
    if part.url:
        name = part.filename or part.url.rsplit("/", 1)[-1] or "file"
        kind = f" · {part.media_type}" if part.media_type else ""
        if urlsplit(part.url).scheme in ("http", "https"):
            st.markdown(f":material/link: [{plain(name)}]({part.url}){plain(kind)}")
        else:  # javascript:, data: and the like are shown, never followed
            st.markdown(f":material/link_off: {plain(name)}{plain(kind)} · {plain(part.url[:80])}")
        return
    name = part.filename or "attachment"
    data = part.raw or b""
    if part.media_type.startswith("image/") and part.media_type != "image/svg+xml":
        try:
            st.image(data, caption=f"{name} ({len(data):,} bytes)", width="content")
        except Exception:  # noqa: BLE001 - an agent's broken image is not our crash
            st.caption(f":material/broken_image: {plain(name)} could not be shown as an image.")
    if live:
        st.caption(f":material/draft: {plain(name)} ({len(data):,} bytes)")
        return
    st.download_button(
        f"{name} ({len(data):,} bytes)",
        data=data,
        file_name=name,
        mime=part.media_type or "application/octet-stream",
        icon=":material/download:",
        key=key,
    )


def render_files(files: list[PartView], *, key: str) -> None:
    """Files the user attached to a message: names, sizes, image thumbnails."""
    for index, part in enumerate(files):
        _render_file(part, live=False, key=f"{key}-f{index}")


def _table_rows(data: object) -> list[dict[str, object]] | None:
    """Rows for a table when `data` is a list of flat objects (or one key holding one)."""
    if isinstance(data, dict) and len(data) == 1:
        data = next(iter(data.values()))
    if not (
        isinstance(data, list)
        and data
        and all(isinstance(r, dict) for r in data)
        and all(not isinstance(v, dict | list) for r in data for v in r.values())
    ):
        return None
    # Data parts travel as protobuf Structs, which do not keep key order: put text
    # columns (labels) first, then the rest by name, so tables read the same every time.
    names = {name: None for row in data for name in row}
    first = data[0]
    columns = sorted(names, key=lambda n: (not isinstance(first.get(n), str), n))
    return [{name: row.get(name) for name in columns} for row in data]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
