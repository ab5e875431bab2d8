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

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal
from urllib.parse import urlsplit

import pyarrow as pa
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.mutable_status_container import StatusContainer

from app_pages.ui.extensions import extensions_caption
from services.replies import ArtifactView, PartView, Reply
from services.safe_text import link, plain, safe_markdown
from services.session import STREAM_PARAM

__all__ = [
    "UPDATES_PER_SECOND",
    "LiveReply",
    "markdown_blocks",
    "render_files",
    "render_reply",
    "render_text",
]

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
INSPECTOR_PAGE = "app_pages/inspector.py"
_IMAGE_FORMATS: dict[str, Literal["PNG", "JPEG"]] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
}
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


# --- limits ----------------------------------------------------------------------------
# What one reply may put on the page. Past these, a part is summarised (its start, its
# size, a download of the whole), so no agent can freeze the viewer's browser or send
# more elements in one run than Streamlit's websocket queue holds (500 messages).

STATUS_LINES_SHOWN = 20  # the status box shows the latest few, and counts the rest
STATUS_LINE_CHARS = 2_000
LABEL_CHARS = 200
BLOCK_CHARS = 20_000  # one markdown block (a paragraph, a table, a code fence)
BLOCK_LINES = 400
TEXT_CHARS = 100_000  # of one text part; the rest is offered as a download
PREVIEW_LINES = 40  # what a summarised block shows
PREVIEW_LINE_CHARS = 300
PARTS_SHOWN = 50  # per message or artifact
ARTIFACTS_SHOWN = 20
TABLE_ROWS = 5_000
JSON_CHARS = 100_000
JSON_DEPTH = 20


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
    steps = len(log) + reply.status_dropped
    label = (
        f"Worked through {_plural(steps, 'step')}" if done else plain(_cut(log[-1], LABEL_CHARS))
    )
    return label, done


def _status_lines(reply: Reply) -> tuple[str, ...]:
    """The status box's content: the latest lines, after a count of the earlier ones."""
    log = reply.working_log
    shown = log[-STATUS_LINES_SHOWN:]
    earlier = len(log) - len(shown) + reply.status_dropped
    lines = tuple(safe_markdown(_cut(line, STATUS_LINE_CHARS)) for line in shown)
    if earlier:
        lines = (f"_… {earlier:,} earlier update{'' if earlier == 1 else 's'} not shown_", *lines)
    return lines


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
    if reply.working_log:
        label, done = _status_label(reply, live)
        lines = _status_lines(reply)
        head.append(_Item("status", (label, done, lines), lambda c: _draw_status(c, label, lines)))

    body: list[_Item] = []
    body += _parts_items(reply.message_parts, live=live, key=f"{key}-msg")
    artifacts = list(reply.artifacts.values())
    for index, artifact in enumerate(artifacts[:ARTIFACTS_SHOWN]):
        body += _artifact_items(artifact, live=live, key=f"{key}-a{index}")
    if len(artifacts) > ARTIFACTS_SHOWN:
        body.append(_more_artifacts_item(artifacts, live=live, key=f"{key}-more"))

    settling = "".join(p.text for p in reply.status_parts if p.kind == "text")
    if settling:
        text = safe_markdown(_cut(settling, BLOCK_CHARS))
        if reply.state in ("failed", "rejected"):
            body.append(_Item("error", text, lambda c: c.error(text, icon=":material/error:")))
        else:
            body.append(_markdown(text))

    if not (reply.message_parts or reply.artifacts or settling or reply.working_log) and live:
        body.append(_caption("Waiting for the agent…"))

    foot = _footer_items(
        reply,
        live=live,
        inspect=inspect and bool(reply.stream_id),
        reconnectable=on_reconnect is not None,
    )
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
    canvas.expander(label, expanded=False, icon=_DONE_ICON).markdown(_status_text(lines))


def _status_text(lines: tuple[str, ...]) -> str:
    return "\n\n".join(lines)


def _footer_items(reply: Reply, *, live: bool, inspect: bool, reconnectable: bool) -> list[_Item]:
    items: list[_Item] = []
    if reply.error:
        error, detail = plain(reply.error), reply.error_detail

        def draw_error(canvas: Canvas) -> None:
            canvas.error(error, icon=":material/warning:")
            if detail:
                canvas.expander("Details").code(detail, language=None, wrap_lines=True)

        items.append(_Item("failure", (error, detail), draw_error, compound=bool(detail)))
    elif not live and not reply.settled and not reply.stopped and not reply.background:
        # (a background reply is not interrupted: its notifications are still coming)
        follow = reply.task_id and reconnectable
        warning = (
            "This reply was interrupted before it finished (the page reran or the "
            "connection dropped). What arrived is kept"
            + ("; Reconnect follows the task to its end." if follow else ".")
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
    if reply.background:
        bits.append(":blue-badge[:material/notifications: background]")
    if reply.resumed:
        bits.append(":violet-badge[:material/sync: resumed]")
    elif reply.reconnected:
        bits.append(":violet-badge[:material/sync: reconnected]")
    if reply.gaps and not live:
        gaps = ", ".join(plain(_cut(g, 60)) for g in reply.gaps[:5])
        more = f" and {len(reply.gaps) - 5:,} more" if len(reply.gaps) > 5 else ""
        bits.append(f"could not fill in: {gaps}{more}")
    if reply.needs_input and not live:
        bits.append("the agent is waiting for your answer: reply below to continue this task")
    if reply.extensions:
        bits.append(extensions_caption(reply.extensions))
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
        items.append(_caption(f":material/data_object: {plain(_cut(artifact.name, LABEL_CHARS))}"))
    return items + _parts_items(artifact.parts, live=live, key=key)


def _parts_items(parts: list[PartView], *, live: bool, key: str) -> list[_Item]:
    """The first PARTS_SHOWN parts, then a count of the rest (with a download)."""
    items: list[_Item] = []
    for index, part in enumerate(parts[:PARTS_SHOWN]):
        items += _part_items(part, live=live, key=f"{key}-p{index}")
    if len(parts) > PARTS_SHOWN:
        rest = parts[PARTS_SHOWN:]
        note = f"… and {len(rest):,} more parts, not drawn here."
        items.append(_summary_item(note, lambda: _parts_json(rest), "parts.json", live, key))
    return items


def _part_items(part: PartView, *, live: bool, key: str) -> list[_Item]:
    if part.kind == "text":
        return _text_items(part.text, live=live, key=key)
    if part.kind == "data":
        return _data_items(part.data, live=live, key=key)
    value = (part, live, key)
    return [_Item("file", value, lambda c: _draw_file(c, part, live=live, key=key), True)]


def _text_items(text: str, *, live: bool, key: str) -> list[_Item]:
    """Markdown blocks; a block too big to draw is summarised, and past TEXT_CHARS the
    rest of the text is offered as a download (only the start is cut into blocks, so a
    huge reply costs no more per update than a long one)."""
    head = text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS]
    blocks = markdown_blocks(head, final=not live and head is text)
    if head is not text:
        blocks.pop()  # cut mid-block: it goes on past what is drawn
    items = [_block_item(b, live=live, key=f"{key}-b{n}") for n, b in enumerate(blocks)]
    drawn = sum(len(b) for b in blocks)
    if drawn < len(text):
        subject = "The rest of this text" if blocks else "This text"
        items.append(_too_big_item(text[drawn:], lambda: text, subject, live=live, key=key))
    return items


def _block_item(block: str, *, live: bool, key: str) -> _Item:
    lines = block.count("\n") + 1
    longest = max(map(len, block.split("\n")))
    if len(block) <= BLOCK_CHARS and lines <= BLOCK_LINES and longest <= BLOCK_CHARS // 4:
        return _markdown(safe_markdown(block))
    return _too_big_item(block, lambda: block, "This block", live=live, key=key)


def _too_big_item(
    piece: str, whole: Callable[[], str], subject: str, *, live: bool, key: str
) -> _Item:
    """`piece`'s size and first lines as plain text, and a download of `whole`."""
    lines = piece.split("\n", PREVIEW_LINES)[:PREVIEW_LINES]
    preview = "\n".join(_cut(line, PREVIEW_LINE_CHARS) for line in lines)
    size = f"{_plural(piece.count(chr(10)) + 1, 'line')}, {len(piece):,} characters"
    note = f"{subject} is too big to draw here ({size}); its first lines are shown as plain text."
    return _summary_item(note, whole, "reply.md", live, key, preview=preview)


def _data_items(data: object, *, live: bool, key: str) -> list[_Item]:
    rows = _table_rows(data)
    if rows is not None and len(rows) <= TABLE_ROWS:
        table = _arrow_table(rows)
        return [_Item("table", rows, lambda c: c.dataframe(table, hide_index=True))]
    depth = _depth(data, JSON_DEPTH + 1)
    text = json.dumps(data, ensure_ascii=False, indent=1) if depth <= JSON_DEPTH else ""
    if depth <= JSON_DEPTH and len(text) <= JSON_CHARS:
        return [_Item("json", data, lambda c: c.json(data, expanded=2))]
    why = (
        f"nested more than {JSON_DEPTH} levels deep"
        if depth > JSON_DEPTH
        else f"{len(text):,} characters of JSON"
    )
    preview = text[:2_000] if text else _cut(repr(data), 2_000)
    note = f"This data is too big to draw here ({why}); its start is shown as plain text."
    return [_summary_item(note, lambda: _json_text(data), "data.json", live, key, preview=preview)]


def _more_artifacts_item(artifacts: list[ArtifactView], *, live: bool, key: str) -> _Item:
    rest = artifacts[ARTIFACTS_SHOWN:]
    note = f"… and {len(rest):,} more artifacts, not drawn here."

    def whole() -> str:
        return _json_text(
            [{"artifactId": a.artifact_id, "name": a.name, "parts": _parts_dicts(a.parts)}
             for a in rest]
        )  # fmt: skip

    return _summary_item(note, whole, "artifacts.json", live, key)


def _summary_item(
    note: str,
    whole: Callable[[], str],
    file_name: str,
    live: bool,
    key: str,
    *,
    preview: str = "",
) -> _Item:
    """A caption saying what was not drawn, an optional plain-text preview, and (once the
    reply has finished) a download of the whole thing, made only if it is clicked."""

    def draw(canvas: Canvas) -> None:
        canvas.caption(f":material/content_cut: {note}")
        if preview:
            canvas.code(preview, language=None)
        if not live:
            canvas.download_button(
                f"Download it whole ({file_name})",
                data=whole,
                file_name=file_name,
                mime="text/plain",
                icon=":material/download:",
                key=f"{key}-whole",
            )

    return _Item("summary", (note, preview, live, key), draw, compound=True)


def _draw_file(canvas: Canvas, part: PartView, *, live: bool, key: str) -> None:
    """A raw image inline, other raw files as downloads, URL files as links."""
    if part.url:
        name = _cut(part.filename or part.url.rsplit("/", 1)[-1] or "file", LABEL_CHARS)
        kind = f" · {_cut(part.media_type, 100)}" if part.media_type else ""
        if urlsplit(part.url).scheme in ("http", "https"):
            canvas.markdown(f":material/link: {link(name, part.url)}{plain(kind)}")
        else:  # javascript:, data: and the like are shown, never followed
            canvas.markdown(
                f":material/link_off: {plain(name)}{plain(kind)} · {plain(part.url[:80])}"
            )
        return
    name = _cut(part.filename or "attachment", LABEL_CHARS)
    data = part.raw or b""
    if part.media_type.startswith("image/") and part.media_type != "image/svg+xml":
        try:
            canvas.image(
                data,
                caption=f"{plain(name)} ({len(data):,} bytes)",
                width="content",
                # "auto" takes bytes for JPEG and re-encodes a PNG on every rerun
                output_format=_IMAGE_FORMATS.get(part.media_type, "auto"),
            )
        except Exception:  # noqa: BLE001 - an agent's broken image is not our crash
            canvas.caption(f":material/broken_image: {plain(name)} could not be shown as an image.")
    if live:
        canvas.caption(f":material/draft: {plain(name)} ({len(data):,} bytes)")
        return
    canvas.download_button(
        f"{plain(name)} ({len(data):,} bytes)",
        data=lambda: data,  # handed over when clicked: not hashed and stored on every rerun
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
    sent once, the growing one again, the status box's latest lines and its label are
    updated in place. The final `show(..., live=False)` adds the widgets and the
    footer and completes the status box; what it leaves on screen is what
    `render_reply` draws for the same reply in history (there the status box is an
    expander with the finished status's icon: it looks the same and costs no sleep).
    """

    def __init__(self) -> None:
        self._head = st.empty()
        self._status: StatusContainer | None = None
        self._status_lines: DeltaGenerator | None = None
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
            self._status = self._status_lines = self._status_shown = None
            return
        label, done, lines = value
        state: Literal["complete", "running"] = "complete" if done else "running"
        if self._status is None or self._status_lines is None:
            # st.status sleeps 50 ms when it is created: once per reply, not per update.
            self._status = self._head.status(label, state=state, expanded=False)
            self._status_lines = self._status.empty()
        elif self._status_shown is None or (label, done) != self._status_shown[:2]:
            self._status.update(label=label, state=state)
        if self._status_shown is None or lines != self._status_shown[2]:
            # One element holding the latest lines: a task that reports progress 30,000
            # times sends one small update per redraw, not one element per line.
            self._status_lines.markdown(_status_text(lines))
        self._status_shown = value


def render_text(text: str, *, key: str) -> None:
    """Text someone else wrote (a history message, an imported turn), drawn as reply text
    is: images never loaded, and too big a block summarised."""
    for item in _text_items(text, live=False, key=key):
        item.draw(st.container() if item.compound else st)


def render_files(files: list[PartView], *, key: str) -> None:
    """Files the user attached to a message: names, sizes, image thumbnails."""
    for index, part in enumerate(files):
        _draw_file(st, part, live=False, key=f"{key}-f{index}")


def _arrow_table(rows: list[dict[str, object]]) -> object:
    """`rows` as an Arrow table, which `st.dataframe` sends as it is: from a list of dicts
    it builds a pandas frame first, about 1 ms a table on every rerun of the history.
    Rows whose values do not fit one type per column stay rows (pandas copes)."""
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return rows


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


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _depth(data: object, limit: int) -> int:
    """How deeply `data` nests (lists and objects), counted up to `limit` (iteratively:
    agent data can be nested deeper than Python's recursion limit)."""
    deepest, pending = 0, [(data, 1)]
    while pending and deepest < limit:
        value, level = pending.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            children = value.values() if isinstance(value, dict) else value
            pending += [(child, level + 1) for child in children]
    return deepest


def _json_text(data: object) -> str:
    try:
        return json.dumps(data, ensure_ascii=False, indent=1)
    except (RecursionError, TypeError, ValueError):
        return repr(data)


def _parts_dicts(parts: list[PartView]) -> list[dict[str, object]]:
    """Parts as JSON-able dicts for a download (file bytes as their size)."""
    return [
        {"kind": p.kind, "text": p.text, "data": p.data, "url": p.url,
         "filename": p.filename, "mediaType": p.media_type,
         "bytes": len(p.raw) if p.raw is not None else None}
        for p in parts
    ]  # fmt: skip


def _parts_json(parts: list[PartView]) -> str:
    return _json_text(_parts_dicts(parts))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count:,} {noun}s"
