"""The Streaming inspector's Replay (a stream's request sent again, then compared side by
side with the original) and Copy as curl (any recorded HTTP request; grpcurl for a gRPC
call; secrets as placeholders)."""

from __future__ import annotations

import json

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages.ui.errors import show_error
from services import session
from services.errors import AppError
from services.inspector.capture import Exchange, StreamRecord
from services.inspector.curl import CurlUnavailable, curl_command
from services.inspector.grpcurl import grpcurl_for
from services.inspector.replay import Comparison, NotReplayable, Side, replayable
from services.redact import Redactor
from services.safe_text import plain

PAIRS_SHOWN = 2_000  # rows of the event-by-event table


def render_curl(exchange: Exchange, redactor: Redactor, binding: str = "") -> None:
    """The exchange's request as a curl command, or a grpcurl one for a gRPC call
    (Streamlit's code block has a copy button)."""
    if exchange.protocol == "grpc":
        st.markdown("**Copy as grpcurl**")
        st.code(grpcurl_for(exchange), language="bash", wrap_lines=True)
        st.caption(
            "The demo agent serves gRPC reflection, so grpcurl needs no .proto file. "
            "Secrets are placeholders: set `A2A_TOKEN` (or the variable named) first."
        )
        return
    try:
        command = curl_command(exchange, redactor, binding=binding)
    except CurlUnavailable as error:
        st.caption(plain(str(error)))
        return
    st.markdown("**Copy as curl**")
    st.code(command, language="bash", wrap_lines=True)
    st.caption(
        "Secrets are placeholders: set `A2A_TOKEN`, `A2A_API_KEY` (or the variable named) "
        "in your shell first."
    )


def _body_draft(body: str) -> str:
    """The recorded body, indented for editing when it is JSON."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def render_replay(record: StreamRecord) -> None:
    """Replay `record`'s request (as recorded or edited) and compare the two streams."""
    try:
        exchange = replayable(record)
    except NotReplayable as reason:
        st.caption(plain(str(reason)))
        exchange = None
    if exchange is not None:
        with st.expander("Replay this stream's request", icon=":material/replay:"):
            st.caption(
                f"Sends {exchange.method} {plain(exchange.url[:200])} again through this "
                "session's client: its credentials and allow list apply, the recorded "
                "headers do not (they were masked). The replay becomes a new stream."
            )
            draft = _body_draft(exchange.request_body)
            key = f"inspector_replay_body_{record.id}"
            body = st.text_area("Request body (JSON)", value=draft, key=key, height=240)
            if st.button("Replay", key="inspector_replay", icon=":material/replay:"):
                try:
                    session.replay_stream(record.id, None if body == draft else body)
                except (NotReplayable, AppError) as error:
                    show_error(error if isinstance(error, AppError) else str(error))
                else:
                    st.rerun()  # the stream list then offers the replay too
    comparison = session.replay_comparison(record.id)
    if comparison is not None:
        render_comparison(comparison)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} ms"


def _render_side(column: DeltaGenerator, title: str, side: Side) -> None:
    column.markdown(f"**{title} #{side.record_id}**")
    column.caption(plain(side.label[:120]))
    first, second = column.columns(2)
    first.metric("First event", _ms(side.first_event_ms))
    second.metric("Total", _ms(side.total_ms))
    first.metric("Gap median", _ms(side.gap_median_ms))
    second.metric("Gap max", _ms(side.gap_max_ms))
    column.metric("Events", f"{len(side.kinds):,}")
    if side.verdict == "valid":
        column.success("Valid against the A2A 1.0 rules.", icon=":material/verified:")
    else:
        column.warning(plain(f"{side.verdict}: " + "; ".join(side.findings[:5])[:500]))
    if side.error:
        column.error(plain(side.error[:500]), icon=":material/warning:")


def render_comparison(comparison: Comparison) -> None:
    """The original and its replay side by side: timings, verdicts, events, differences."""
    st.subheader("Original and replay", anchor=False)
    if comparison.same_events:
        st.success(comparison.headline, icon=":material/check_circle:")
    else:
        st.warning(comparison.headline, icon=":material/difference:")
        for sentence in comparison.differences:
            st.markdown(f"- {plain(sentence)}")
    left, right = st.columns(2)
    _render_side(left, "Original", comparison.original)
    _render_side(right, "Replay", comparison.replay)
    rows = [
        {
            "#": pair.index,
            "original": pair.original or "–",
            "replay": pair.replay or "–",
            "match": "same" if pair.same else "≠ differs",
        }
        for pair in comparison.pairs[:PAIRS_SHOWN]
    ]
    st.dataframe(
        rows,
        hide_index=True,
    )
