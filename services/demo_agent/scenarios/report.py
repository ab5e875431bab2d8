"""Report: a sales report as a JSON data artifact and a CSV file artifact."""

from __future__ import annotations

import asyncio

from a2a.helpers.proto_helpers import new_data_part, new_raw_part, new_text_part

from services.demo_agent.scenarios.base import Scenario, Turn, skill

__all__ = ["REPORT_ROWS", "SCENARIO"]

REPORT_ROWS = [
    {"region": "North", "q1": 120, "q2": 135, "q3": 150},
    {"region": "South", "q1": 98, "q2": 101, "q3": 117},
    {"region": "East", "q1": 143, "q2": 139, "q3": 160},
    {"region": "West", "q1": 87, "q2": 110, "q3": 121},
]


async def _report(turn: Turn) -> None:
    updater = turn.updater
    await updater.start_work(updater.new_agent_message([new_text_part("Crunching the numbers…")]))
    await asyncio.sleep(turn.timing.step_delay)
    await updater.add_artifact(
        [new_data_part({"quarterly_sales": REPORT_ROWS}, media_type="application/json")],
        name="sales.json",
        last_chunk=True,
    )
    header = "region,q1,q2,q3\n"
    lines = "".join(f"{r['region']},{r['q1']},{r['q2']},{r['q3']}\n" for r in REPORT_ROWS)
    await updater.add_artifact(
        [new_raw_part((header + lines).encode(), media_type="text/csv", filename="sales.csv")],
        name="sales.csv",
        last_chunk=True,
    )
    await updater.complete(
        updater.new_agent_message([new_text_part("The report is ready: JSON and CSV.")])
    )


SCENARIO = Scenario(
    name="report",
    keywords=("report",),
    skill=skill(
        "report",
        "Sales report",
        "A JSON data artifact and a CSV file artifact.",
        "Generate a sales report",
    ),
    handle=_report,
)
