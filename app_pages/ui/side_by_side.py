"""The Side by side page's drawing: one column per agent, its reply and its metrics,
filled as the replies stream in, or as a kept run was."""

from __future__ import annotations

import logging
from datetime import datetime

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages.ui.reply import UPDATES_PER_SECOND
from services import session
from services.client.side_by_side import Lane, LaneUpdate
from services.errors import AppError
from services.runtime import EventStream
from services.safe_text import code, plain, safe_markdown

log = logging.getLogger(__name__)
TEXT_SHOWN = 20_000  # characters of a reply a column draws


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _draw_lane(slot: DeltaGenerator, lane: Lane) -> None:
    with slot.container():
        st.markdown(f"**{plain(lane.name[:80])}**")
        st.caption(code(lane.url[:200]))
        if lane.text:
            text = lane.text if len(lane.text) <= TEXT_SHOWN else lane.text[:TEXT_SHOWN] + "…"
            st.markdown(safe_markdown(text))
        if lane.error:
            st.error(plain(lane.error), icon=":material/warning:")
        elif not lane.done:
            st.caption(":material/hourglass_top: waiting…" if not lane.events else "streaming…")
        facts = [
            f"first event {_seconds(lane.first_event_s)}",
            f"duration {_seconds(lane.duration_s) if lane.done else '…'}",
            f"{lane.events:,} events",
        ]
        if lane.state:
            facts.append(plain(lane.state))
        if lane.verdict:
            color = "green" if lane.verdict == "valid" else "orange"
            facts.append(f":{color}-badge[{plain(lane.verdict)}]")
        st.caption(" · ".join(facts))


def _columns(count: int) -> list[DeltaGenerator]:
    return [column.empty() for column in st.columns(count, border=True)]


def stream_run(run: session.SideBySideRun, stream: EventStream[LaneUpdate]) -> None:
    """Draw the run's columns as its stream fills them; keep it when it ends."""
    slots = _columns(len(run.lanes))
    try:
        with stream:  # a rerun or Stop while it streams cancels every lane on the loop
            for batch in stream.batches(interval=1 / UPDATES_PER_SECOND):
                run.apply(batch)
                for slot, lane in zip(slots, run.lanes, strict=True):
                    _draw_lane(slot, lane)
    except AppError as error:  # the run itself broke (each lane's failure is its own)
        log.warning("side by side failed: %s", error)
        st.error(plain(str(error)), icon=":material/warning:")
    session.finish_side_by_side(run)
    for slot, lane in zip(slots, run.lanes, strict=True):
        _draw_lane(slot, lane)


def draw_run(run: session.SideBySideRun) -> None:
    """A finished (or reopened) run's columns."""
    for slot, lane in zip(_columns(len(run.lanes)), run.lanes, strict=True):
        _draw_lane(slot, lane)


def run_label(run: session.SideBySideRun) -> str:
    when = datetime.fromtimestamp(run.created_at).strftime("%Y-%m-%d %H:%M:%S")
    prompt = " ".join(run.prompt.split())
    prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    return f"{when} · {len(run.lanes)} agents · {prompt}"
