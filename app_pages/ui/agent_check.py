"""Drawing an agent check: the summary, the checks (filtered by level and status), each
finding's exchange in the inspector, exports, and what changed between two runs."""

from __future__ import annotations

import json

import streamlit as st

from services import session
from services.agent_check import LEVELS, STATUSES, AgentCheckReport
from services.agent_check.cli import junit_xml
from services.safe_text import plain

INSPECTOR_PAGE = "app_pages/inspector.py"
ROW_HEIGHT = 35  # px, Streamlit's own for one line
ICONS = {
    "pass": ":green[:material/check_circle:]",
    "fail": ":red[:material/cancel:]",
    "warn": ":orange[:material/warning:]",
    "skip": ":gray[:material/skip_next:]",
}


def render_report(report: AgentCheckReport, *, key: str) -> None:
    summary = report.summary
    cols = st.columns(4)
    for col, status in zip(cols, STATUSES, strict=True):
        col.metric(status, summary[status])
    if report.must_failed:
        st.error("A MUST check failed: the agent does not do what the spec requires.")
    elif not report.reachable:
        st.error("The agent could not be reached: the first failed check says why.")
    levels = st.pills(
        "Level", LEVELS, selection_mode="multi", default=list(LEVELS), key=f"{key}_levels"
    )
    statuses = st.pills(
        "Status", STATUSES, selection_mode="multi", default=list(STATUSES), key=f"{key}_statuses"
    )
    shown = [c for c in report.checks if c.level in levels and c.status in statuses]
    st.dataframe(
        [
            {
                "check": c.id,
                "level": c.level,
                "status": c.status,
                "what happened": c.message,
                "spec": c.spec,
            }
            for c in shown
        ],
        hide_index=True,
        # Every check at once (a run has a few dozen), not ten rows and a scroll bar.
        height=ROW_HEIGHT * (min(len(shown), 80) + 1) + 3,
        row_height=ROW_HEIGHT,
        key=f"{key}_table",
    )
    # The failures first: they are the exchanges one opens.
    with_exchange = sorted(
        (c for c in shown if c.stream_id), key=lambda c: c.status not in ("fail", "warn")
    )
    if with_exchange:
        by_id = {c.id: c for c in with_exchange}
        opened = st.selectbox(
            "A check's exchange",
            list(by_id),
            format_func=lambda i: f"{i} · {by_id[i].status}",
            key=f"{key}_exchange",
        )
        st.page_link(
            INSPECTOR_PAGE,
            label=f"Open {opened} in the inspector",
            icon=":material/troubleshoot:",
            query_params={session.STREAM_PARAM: str(by_id[opened].stream_id)},
        )
    row = st.container(horizontal=True)
    name = plain(str(report.agent.get("name") or "agent"))[:40].replace(" ", "-")
    row.download_button(
        "Export JSON",
        data=lambda: json.dumps(report.as_json(), indent=2),
        file_name=f"agent-check-{name}.json",
        mime="application/json",
        icon=":material/download:",
        key=f"{key}_json",
    )
    row.download_button(
        "Export JUnit XML",
        data=lambda: junit_xml(report),
        file_name=f"agent-check-{name}.xml",
        mime="application/xml",
        icon=":material/download:",
        key=f"{key}_junit",
    )


@st.fragment(run_every=0.5)
def watch_run() -> None:
    """The checks of the run in progress, as they arrive; once it has ended, the page
    runs again and shows the run like any other (which also ends this poll)."""
    run = session.running_agent_check()
    if run is None:
        return
    if run.done.is_set():
        st.rerun()
    checks = list(run.report.checks)  # the worker only appends: a copy is consistent
    with st.status(f"Checking… {len(checks)} check(s) so far", expanded=True):
        for check in checks[-30:]:
            st.markdown(f"{ICONS[check.status]} `{check.id}` {plain(check.message)}")


def render_comparison(newer: AgentCheckReport, older: AgentCheckReport) -> None:
    """The checks whose status changed between two runs (by id)."""
    before = {c.id: c for c in older.checks}
    after = {c.id: c for c in newer.checks}
    changed = [
        {
            "check": check_id,
            "before": before[check_id].status if check_id in before else "-",
            "now": after[check_id].status if check_id in after else "-",
            "what happened now": after[check_id].message if check_id in after else "",
        }
        for check_id in [*after, *(i for i in before if i not in after)]
        if (before.get(check_id) and before[check_id].status)
        != (after.get(check_id) and after[check_id].status)
    ]
    if not changed:
        st.caption("No check changed between these two runs.")
        return
    st.dataframe(changed, hide_index=True)
