"""Draws an `Inspection`: summary, findings, timeline, event table, the exchange."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui.replay import render_curl
from services.inspector.capture import Exchange
from services.inspector.inspection import Inspection, Row, Summary, export_jsonl
from services.redact import Redactor
from services.safe_text import code, plain

KIND_COLORS = {
    "task": "#4F46E5",
    "status": "#0EA5E9",
    "artifact": "#10B981",
    "message": "#F59E0B",
    "error": "#EF4444",
    "not-json": "#EF4444",
    "unknown": "#9CA3AF",
}
TIMELINE_POINTS = 5_000  # a chart of more is slow in the browser: longer streams are sampled
FINDINGS_SHOWN = 50


def _short(text: str, limit: int = 200) -> str:
    """Recorded text (a label, a URL, an agent's error) as plain text, cut to `limit`."""
    return plain(text if len(text) <= limit else text[: limit - 1] + "…")


def render_inspection(ins: Inspection, redactor: Redactor, *, live: bool = False) -> None:
    """Draw `ins`. `live` draws no widgets, so it can be redrawn while the stream grows."""
    record = ins.record
    started = datetime.fromtimestamp(record.started_wall).strftime("%H:%M:%S")
    st.caption(
        f"**{_short(record.label) or '(imported)'}** · sent {started} to "
        f"{code(record.agent_url[:200])} · {_short(record.binding, 20) or '?'} · "
        f"A2A {_short(record.protocol_version, 20) or '?'}" + (" · :orange[live]" if live else "")
    )
    assert ins.summary is not None
    _render_summary(ins.summary)
    if ins.findings:
        with st.expander(f":orange[{ins.summary.verdict}]", expanded=True):
            # Findings quote the stream (ids, states, raw data): plain text.
            for finding in ins.findings[:FINDINGS_SHOWN]:
                st.markdown(f"- {_short(finding.message, 500)}")
            if len(ins.findings) > FINDINGS_SHOWN:
                st.caption(f"… and {len(ins.findings) - FINDINGS_SHOWN:,} more findings.")
    if record.error:
        st.error(_short(record.error, 1_000), icon=":material/warning:")
    if ins.rows:
        _render_timeline(ins.rows)
    if live:
        st.dataframe(_table(ins.rows), hide_index=True)
        return
    _render_table(ins)
    _render_exchanges(record.exchanges, redactor, record.binding)
    st.download_button(
        "Export as JSON Lines",
        data=export_jsonl(record, redactor),
        file_name=f"a2a-stream-{record.id}.jsonl",
        mime="application/jsonl",
        icon=":material/download:",
        key="inspector_export",
    )


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} ms"


def _render_summary(summary: Summary) -> None:
    first = st.columns(5)
    first[0].metric("First byte", _ms(summary.ttfb_ms))
    first[1].metric("First event", _ms(summary.first_event_ms))
    first[2].metric("Duration", _ms(summary.duration_ms))
    first[3].metric("Events", f"{summary.events:,}")
    first[4].metric("Bytes", f"{summary.bytes:,}" + (" (cut)" if summary.truncated else ""))
    second = st.columns(5)
    rate = summary.events_per_s
    second[0].metric("Events / s", "–" if rate is None else f"{rate:,.1f}")
    second[1].metric("Gap median", _ms(summary.gap_median_ms))
    second[2].metric("Gap p95", _ms(summary.gap_p95_ms))
    second[3].metric("Gap max", _ms(summary.gap_max_ms))
    second[4].metric("Final state", summary.final_state or "–")
    if summary.findings == 0:
        st.success("Valid: no findings against the A2A 1.0 rules.", icon=":material/verified:")


def _render_timeline(rows: list[Row]) -> None:
    step = -(-len(rows) // TIMELINE_POINTS)  # rounded up
    if step > 1:
        st.caption(f"The timeline shows one event in {step} ({len(rows):,} in all).")
        rows = rows[::step]
    data = pd.DataFrame(
        {
            "t": [r.offset_ms for r in rows],
            "kind": [r.kind for r in rows],
            "index": [r.index for r in rows],
            "state": [r.state for r in rows],
            "text": [r.preview for r in rows],
        }
    )
    kinds = sorted({r.kind for r in rows})
    chart = (
        alt.Chart(data)
        .mark_tick(thickness=2, size=18)
        .encode(
            x=alt.X("t:Q", title="time since send (ms)"),
            y=alt.Y("kind:N", title=None, sort=kinds),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=kinds, range=[KIND_COLORS.get(k, "#9CA3AF") for k in kinds]),
                legend=None,
            ),
            tooltip=["index:Q", "t:Q", "kind:N", "state:N", "text:N"],
        )
        .properties(height=60 + 36 * len(kinds))
    )
    st.altair_chart(chart, width="stretch")


def _table(rows: list[Row]) -> list[dict[str, object]]:
    return [
        {
            "#": r.index,
            "t (ms)": round(r.offset_ms, 1),
            "gap (ms)": round(r.gap_ms, 1),
            "kind": r.kind,
            "state": r.state,
            "text": r.preview,
            "verdict": r.verdict,
        }
        for r in rows
    ]


def _render_table(ins: Inspection) -> None:
    left, right = st.columns([2, 3])
    # Keyed by the kinds on offer: a stream with other kinds starts with all of them shown
    # (with one key, the last stream's choice would hide every row of the next).
    kinds_key = "inspector_kinds-" + "-".join(ins.kinds)
    kinds = left.multiselect("Kinds", ins.kinds, default=ins.kinds, key=kinds_key)
    query = right.text_input("Search", key="inspector_search", placeholder="text, state, verdict…")
    rows = [
        r
        for r in ins.rows
        if r.kind in kinds
        and (not query or query.lower() in f"{r.preview} {r.state} {r.verdict}".lower())
    ]
    selection = st.dataframe(
        _table(rows),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="inspector_table",
    )
    chosen = selection.selection.rows
    if not chosen or chosen[0] >= len(rows):
        st.caption("Select a row to see its raw frame next to the event the SDK made of it.")
        return
    row = rows[chosen[0]]
    wire, sdk = st.columns(2)  # st.code and st.json show text as it is: no markdown
    wire.markdown(f"**Frame {row.index} on the wire**")
    wire.code(row.frame.raw, language=None, wrap_lines=True)
    sdk.markdown("**As the SDK saw it**")
    if row.sdk is not None:
        sdk.json(row.sdk)
    else:
        sdk.caption("The SDK made no event of this frame.")


def _render_exchanges(exchanges: list[Exchange], redactor: Redactor, binding: str) -> None:
    for exchange in exchanges:
        method = exchange.rpc_method or exchange.url
        status = f"{exchange.status} {exchange.reason}".strip() or "no response"
        with st.expander(_short(f"{exchange.method} {method} → {status}")):
            st.caption(code(exchange.url[:500]))
            if exchange.error:
                st.error(_short(exchange.error, 1_000))
            request, response = st.columns(2)
            request.markdown("**Request headers**")
            request.dataframe(_headers(exchange.request_headers), hide_index=True)
            response.markdown("**Response headers**")
            response.dataframe(_headers(exchange.response_headers), hide_index=True)
            if exchange.protocol == "grpc":  # headers are metadata; the status is in trailers
                response.markdown("**Trailers**")
                response.dataframe(_headers(exchange.trailers), hide_index=True)
            st.markdown("**Request body**")
            body = exchange.request_json
            if body is not None:
                st.json(body)
            else:
                st.code(exchange.request_body or "(empty)", language=None, wrap_lines=True)
            render_curl(exchange, redactor, binding)


def _headers(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"header": name, "value": value} for name, value in items]
