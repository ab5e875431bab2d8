"""Draws an agent's reply inside a chat bubble, live while it streams and in history.

Agent text goes through `st.markdown` with HTML off (Streamlit's default), so what an
agent sends is shown, never run.

A reply is drawn as a list of items (the status box, each markdown block, each data or
file part, the footer). Text is split into markdown blocks at blank lines where that
cannot change how it renders (`markdown_blocks`), so while a reply streams
(`LiveReply`) only the items that changed are sent again: finished paragraphs are sent
once and only the last one keeps growing, instead of the whole reply on every update.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal
from urllib.parse import urlsplit

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.mutable_status_container import StatusContainer

from services.replies import ArtifactView, PartView, Reply
from services.safe_text import plain, safe_markdown
from services.session import STREAM_PARAM

__all__ = ["UPDATES_PER_SECOND", "LiveReply", "markdown_blocks", "render_files", "render_reply"]

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
# At most this many redraws a second while a reply streams, however fast the agent sends:
# each redraw re-sends the growing markdown block (about 100 bytes of envelope besides).
UPDATES_PER_SECOND = 6
INSPECTOR_PAGE = "pages/inspector.py"
# What a finished st.status shows; history draws its box as an expander with this icon,
# because st.status sleeps 50 ms each time one is created (60 in a chat = 3 s a rerun).
_DONE_ICON = ":material/check:"

# Where to draw: `st` itself (the current container) or a placeholder / container.
Canvas = DeltaGenerator | ModuleType


# --- markdown blocks -------------------------------------------------------------------

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_MATH = re.compile(r"\s*\$\$\s*$")
_LIST_ITEM = re.compile(r"([-*+]|\d{1,9}[.)])(\s|$)")
# A link reference or footnote definition ("[x]: url", "[^1]: note") serves the whole
# text: split, the blocks that use it would lose it.
_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
_ITEM_START = re.compile(r"([-*+]|\d{1,9}[.)]?)")  # what a list item's first chars can be


def _may_be_item(line: str, partial: bool) -> bool:
    """The line is a list item, or (still arriving) may yet turn out to be one."""
    return bool(_LIST_ITEM.match(line) or (partial and _ITEM_START.fullmatch(line)))


def markdown_blocks(text: str, *, final: bool = True) -> list[str]:
    """`text` cut into consecutive pieces that render as the whole does; "".join() == text.

    A cut goes after a blank line, before a line that starts a new top-level block: not
    inside a code fence or a `$$` math block, not before an indented line (a list item's
    continuation, indented code) and not between two items of one list. Text that
    defines link references stays whole, and so does an indented start (st.markdown
    dedents what it is given). With `final=False` (a stream still arriving)
    a cut after a list waits until the next line shows whether it is one more item, so
    a cut once made holds as the text grows.
    """
    if _DEFINITION.search(text):
        return [text]
    lines = _LINE.findall(text)  # markdown ends lines at "\n" only (not at U+2028 etc.)
    blocks: list[str] = []
    start = 0  # offset where the current block starts
    offset = 0
    fence = ""  # the open fence's marker ("```", "~~~~", ...) or "$$"
    blank_before = False
    list_in_block = False
    flush = False  # the block has a line at column 0: st.markdown's dedent leaves it as is
    for number, line in enumerate(lines):
        stripped = line.strip(" \t\r\n")  # what markdown calls blank: nothing else
        partial = not final and number == len(lines) - 1 and not line.endswith("\n")
        if (
            not fence
            and blank_before
            and stripped
            and not line[0].isspace()
            and not (list_in_block and _may_be_item(line, partial))
            and flush
        ):
            blocks.append(text[start:offset])
            start = offset
            list_in_block = False
        if fence:
            if (fence == "$$" and _MATH.match(line)) or (
                fence != "$$" and stripped.startswith(fence) and set(stripped) == {fence[0]}
            ):
                fence = ""
        elif match := _FENCE.match(line):
            fence = match.group(1)
        elif _MATH.match(line):
            fence = "$$"
        elif _LIST_ITEM.match(line):
            list_in_block = True
        blank_before = not stripped
        flush = flush or bool(stripped and not line[0].isspace())
        offset += len(line)
    blocks.append(text[start:])
    return blocks


# --- items -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One thing a reply shows. Equal items draw the same; `draw` puts it on a canvas."""

    kind: str
    value: Any
    draw: Callable[[Canvas], object] = field(compare=False, repr=False)
    compound: bool = False  # draws more than one element: give it a container


def _markdown(text: str) -> _Item:
    return _Item("markdown", text, lambda c: c.markdown(text))


def _caption(text: str) -> _Item:
    return _Item("caption", text, lambda c: c.caption(text))


def _status_label(reply: Reply, live: bool) -> tuple[str, bool]:
    log = reply.working_log
    done = reply.settled or not live
    label = f"Worked through {_plural(len(log), 'step')}" if done else plain(log[-1])
    return label, done


def _items(
    reply: Reply,
    *,
    live: bool,
    key: str,
    on_reconnect: Callable[[], None] | None,
    inspect: bool = False,
) -> tuple[list[_Item], list[_Item], list[_Item]]:
    """What `reply` shows, as (status box, body, footer) items."""
    head: list[_Item] = []
    log = reply.working_log
    if log:
        label, done = _status_label(reply, live)
        lines = tuple(safe_markdown(line) for line in log)
        head.append(_Item("status", (label, done, lines), lambda c: _draw_status(c, label, lines)))

    body: list[_Item] = []
    for part in reply.message_parts:
        body += _part_items(part, live=live, key=f"{key}-msg")
    for index, artifact in enumerate(reply.artifacts.values()):
        body += _artifact_items(artifact, live=live, key=f"{key}-a{index}")

    settling = "".join(p.text for p in reply.status_parts if p.kind == "text")
    if settling:
        text = safe_markdown(settling)
        if reply.state in ("failed", "rejected"):
            body.append(_Item("error", text, lambda c: c.error(text, icon=":material/error:")))
        else:
            body.append(_markdown(text))

    if not (reply.message_parts or reply.artifacts or settling or log) and live:
        body.append(_caption("Waiting for the agent…"))

    foot = _footer_items(reply, live=live, inspect=inspect and bool(reply.stream_id))
    if not live and on_reconnect is not None and reply.can_reconnect:
        reconnect = on_reconnect
        foot.append(
            _Item(
                "button",
                f"{key}-reconnect",
                lambda c: c.button(
                    "Reconnect",
                    key=f"{key}-reconnect",
                    icon=":material/sync:",
                    on_click=reconnect,
                    help="Resubscribe to the task, fill in what was missed, and follow it "
                    "to the end.",
                ),
            )
        )
    return head, body, foot


def _draw_status(canvas: Canvas, label: str, lines: tuple[str, ...]) -> None:
    """A finished reply's status box, folded (see _DONE_ICON for why not st.status)."""
    box = canvas.expander(label, expanded=False, icon=_DONE_ICON)
    for line in lines:
        box.markdown(line)


def _footer_items(reply: Reply, *, live: bool, inspect: bool) -> list[_Item]:
    items: list[_Item] = []
    if reply.error:
        error, detail = reply.error, reply.error_detail

        def draw_error(canvas: Canvas) -> None:
            canvas.error(error, icon=":material/warning:")
            if detail:
                canvas.expander("Details").code(detail, language=None, wrap_lines=True)

        items.append(_Item("failure", (error, detail), draw_error, compound=bool(detail)))
    elif not live and not reply.settled and not reply.stopped:
        warning = (
            "This reply was interrupted before it finished (the page reran or the "
            "connection dropped). What arrived is kept"
            + ("; Reconnect follows the task to its end." if reply.task_id else ".")
        )
        items.append(
            _Item("warning", warning, lambda c: c.warning(warning, icon=":material/link_off:"))
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
    if inspect and not live:
        items.append(_caption_with_inspect_link(" · ".join(bits), reply.stream_id))
    elif bits:
        items.append(_caption(" · ".join(bits)))
    return items


def _caption_with_inspect_link(text: str, stream_id: int) -> _Item:
    """The footer caption and, beside it, a link to the reply's stream in the inspector."""

    def draw(canvas: Canvas) -> None:
        row = canvas.container(horizontal=True, vertical_alignment="center", gap="small")
        if text:
            row.caption(text)
        row.page_link(
            INSPECTOR_PAGE,
            label="Inspect stream",
            icon=":material/troubleshoot:",
            query_params={STREAM_PARAM: str(stream_id)},
            help="Every event of this reply's stream, on the wire and as the SDK saw it.",
        )

    return _Item("caption", (text, stream_id), draw, compound=True)


def _artifact_items(artifact: ArtifactView, *, live: bool, key: str) -> list[_Item]:
    items: list[_Item] = []
    if artifact.name and any(p.kind == "data" for p in artifact.parts):
        items.append(_caption(f":material/data_object: {plain(artifact.name)}"))
    for index, part in enumerate(artifact.parts):
        items += _part_items(part, live=live, key=f"{key}-p{index}")
    return items


def _part_items(part: PartView, *, live: bool, key: str) -> list[_Item]:
    if part.kind == "text":
        return [_markdown(safe_markdown(b)) for b in markdown_blocks(part.text, final=not live)]
    if part.kind == "data":
        data = part.data
        rows = _table_rows(data)
        if rows is not None:
            table = rows
            return [_Item("table", table, lambda c: c.dataframe(table, hide_index=True))]
        return [_Item("json", data, lambda c: c.json(data, expanded=2))]
    value = (part, live, key)
    return [_Item("file", value, lambda c: _draw_file(c, part, live=live, key=key), True)]


def _draw_file(canvas: Canvas, part: PartView, *, live: bool, key: str) -> None:
    """A raw image inline, other raw files as downloads, URL files as links."""
    if part.url:
        name = part.filename or part.url.rsplit("/", 1)[-1] or "file"
        kind = f" · {part.media_type}" if part.media_type else ""
        if urlsplit(part.url).scheme in ("http", "https"):
            canvas.markdown(f":material/link: [{plain(name)}]({part.url}){plain(kind)}")
        else:  # javascript:, data: and the like are shown, never followed
            canvas.markdown(
                f":material/link_off: {plain(name)}{plain(kind)} · {plain(part.url[:80])}"
            )
        return
    name = part.filename or "attachment"
    data = part.raw or b""
    if part.media_type.startswith("image/") and part.media_type != "image/svg+xml":
        try:
            canvas.image(data, caption=f"{name} ({len(data):,} bytes)", width="content")
        except Exception:  # noqa: BLE001 - an agent's broken image is not our crash
            canvas.caption(f":material/broken_image: {plain(name)} could not be shown as an image.")
    if live:
        canvas.caption(f":material/draft: {plain(name)} ({len(data):,} bytes)")
        return
    canvas.download_button(
        f"{name} ({len(data):,} bytes)",
        data=data,
        file_name=name,
        mime=part.media_type or "application/octet-stream",
        icon=":material/download:",
        key=key,
    )


# --- drawing ---------------------------------------------------------------------------


def render_reply(
    reply: Reply,
    *,
    key: str = "",
    on_reconnect: Callable[[], None] | None = None,
    inspect: bool = False,
) -> None:
    """Draw a finished (or interrupted) `reply` in the current container; streaming ones
    are drawn by `LiveReply`. A broken task reply offers Reconnect when `on_reconnect` is
    given, and `inspect` links to the reply's stream in the inspector (pass whether it is
    kept)."""
    head, body, foot = _items(
        reply, live=False, key=key, on_reconnect=on_reconnect, inspect=inspect
    )
    for item in [*head, *body, *foot]:
        item.draw(st)


class _Region:
    """A run of items in one container, each in its own placeholder: redraws what changed."""

    def __init__(self, container: DeltaGenerator) -> None:
        self._container = container
        self._slots: list[DeltaGenerator] = []
        self._shown: list[_Item | None] = []

    def show(self, items: list[_Item]) -> None:
        for index, item in enumerate(items):
            if index == len(self._slots):
                self._slots.append(self._container.empty())
                self._shown.append(None)
            if self._shown[index] != item:
                slot = self._slots[index]
                item.draw(slot.container() if item.compound else slot)
                self._shown[index] = item
        for index in range(len(items), len(self._slots)):
            if self._shown[index] is not None:
                self._slots[index].empty()
                self._shown[index] = None


class LiveReply:
    """A reply drawn where it is created and kept up to date as it streams.

    `show` draws only what changed since the last call: a finished markdown block is
    sent once, the growing one again, the status box gets its new lines appended and its
    label updated in place. The final `show(..., live=False)` adds the widgets and the
    footer and completes the status box; what it leaves on screen is what
    `render_reply` draws for the same reply in history (there the status box is an
    expander with the finished status's icon: it looks the same and costs no sleep).
    """

    def __init__(self) -> None:
        self._head = st.empty()
        self._status: StatusContainer | None = None
        self._status_shown: tuple[str, bool, tuple[str, ...]] | None = None
        self._body = _Region(st.container())
        self._foot = _Region(st.container())

    def show(
        self,
        reply: Reply,
        *,
        live: bool = True,
        key: str = "",
        on_reconnect: Callable[[], None] | None = None,
        inspect: bool = False,
    ) -> None:
        head, body, foot = _items(
            reply, live=live, key=key, on_reconnect=on_reconnect, inspect=inspect
        )
        self._show_status(head[0].value if head else None)
        self._body.show(body)
        self._foot.show(foot)

    def _show_status(self, value: tuple[str, bool, tuple[str, ...]] | None) -> None:
        if value == self._status_shown:
            return
        if value is None:
            self._head.empty()
            self._status = self._status_shown = None
            return
        label, done, lines = value
        state: Literal["complete", "running"] = "complete" if done else "running"
        shown = self._status_shown
        if self._status is None or shown is None or lines[: len(shown[2])] != shown[2]:
            # st.status sleeps 50 ms when it is created: once per reply, not per update.
            self._status = self._head.status(label, state=state, expanded=False)
            new_lines = lines
        else:
            new_lines = lines[len(shown[2]) :]
            if (label, done) != shown[:2]:
                self._status.update(label=label, state=state)
        for line in new_lines:
            self._status.markdown(line)
        self._status_shown = value


def render_files(files: list[PartView], *, key: str) -> None:
    """Files the user attached to a message: names, sizes, image thumbnails."""
    for index, part in enumerate(files):
        _draw_file(st, part, live=False, key=f"{key}-f{index}")


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
