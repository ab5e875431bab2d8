"""Draws the Loop health figures, charts, runtime table and action results."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from services.health import HealthReport, Reproduction, RuntimeHealth, SelfTest, Stats

_VERDICTS = {
    "healthy": (st.success, ":material/favorite:"),
    "degraded": (st.warning, ":material/speed:"),
    "leaking": (st.error, ":material/water_drop:"),
}


def render_report(report: HealthReport) -> None:
    alert, icon = _VERDICTS[report.verdict]
    alert(f"**{report.verdict.capitalize()}**: {report.reason}", icon=icon)

    this = report.current
    top = st.columns(4)
    top[0].metric("Loop lag p50 / p95", _pair(report.lag))
    top[1].metric("Round trip p50 / p95", _pair(report.rtt))
    top[2].metric("Lag max / round trip max", _maxes(report.lag, report.rtt))
    top[3].metric("This loop's age", f"{this.age_s:,.0f} s" if this else "–")
    process = report.process
    bottom = st.columns(4)
    bottom[0].metric("Session loops", process.runtimes)
    bottom[1].metric("Leaked loops", process.leaks)
    bottom[2].metric("Process threads", process.threads)
    bottom[3].metric("Resident memory", f"{process.rss_kb / 1024:,.1f} MB")

    if report.samples:
        chart = pd.DataFrame(
            {
                "time": [datetime.fromtimestamp(s.at) for s in report.samples],
                "loop lag (ms)": [s.lag_ms for s in report.samples],
                "round trip (ms)": [s.rtt_ms for s in report.samples],
            }
        ).set_index("time")
        st.line_chart(chart, height=220, y_label="ms")

    st.markdown("**Every session loop in this process**")
    st.dataframe(_table(report.runtimes), hide_index=True)


def _pair(stats: Stats | None) -> str:
    return "–" if stats is None else f"{stats.median:.2f} / {stats.p95:.2f} ms"


def _maxes(lag: Stats | None, rtt: Stats | None) -> str:
    if lag is None or rtt is None:
        return "–"
    return f"{lag.max:.2f} / {rtt.max:.2f} ms"


def _table(runtimes: list[RuntimeHealth]) -> list[dict[str, object]]:
    return [
        {
            "session": ("● " if r.current else "") + r.session,
            "thread": r.thread_name,
            "thread alive": r.thread_alive,
            "loop": "running" if r.loop_running else ("closed" if r.loop_closed else "stopped"),
            "answers": r.responsive,
            "age (s)": round(r.age_s),
            "rebuilds": r.generation,
            "pending tasks": f"{len(r.tasks)}: {', '.join(r.tasks)}" if r.tasks else "0",
            "stream": r.stream or "–",
            "connections open / idle": f"{r.connections_open} / {r.connections_idle}",
            "errors": len(r.errors),
            "leak": r.leak or "–",
        }
        for r in runtimes
    ]


def render_self_test(result: SelfTest) -> None:
    st.markdown("**Self-test**")
    calls = result.call_us
    cols = st.columns(4)
    cols[0].metric(f"{result.calls} portal calls p50", f"{calls.median:.0f} µs" if calls else "–")
    cols[1].metric("p95 / max", f"{calls.p95:.0f} / {calls.max:.0f} µs" if calls else "–")
    cols[2].metric("Stream: first event", _ms(result.first_event_ms))
    cols[3].metric(f"Stream: {result.events} events", _ms(result.stream_ms))
    if result.error:
        st.error(result.error, icon=":material/warning:")


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} ms"


def render_reproduction(result: Reproduction) -> None:
    st.markdown(f"**The classic error, reproduced** ({result.seconds:.1f} s, in a subprocess)")
    if result.error:
        st.error(result.error, icon=":material/error:")
        return
    naive, portal = st.columns(2)
    with naive:
        st.markdown("Naive: a cached `httpx.AsyncClient` + `asyncio.run` per message")
        _render_outcomes(result.naive)
    with portal:
        st.markdown("This app: one loop per session behind an anyio portal")
        _render_outcomes(result.portal)
    if result.shows_the_bug:
        st.caption(
            "The first naive message works; the second reuses a pooled connection bound to "
            "the first `asyncio.run` loop, which is closed by then. The portal's loop never closes."
        )


def _render_outcomes(outcomes: list[dict[str, object]]) -> None:
    for outcome in outcomes:
        number = outcome["message"]
        if outcome.get("ok"):
            st.success(f"Message {number}: {outcome.get('events')} events", icon=":material/check:")
        else:
            st.error(f"Message {number}: {outcome.get('error')}", icon=":material/close:")
