"""`python -m benchmarks`: every figure, a readable table (or `--json`), goals checked.

python -m benchmarks              everything, the browser figures too (when Chromium is there)
python -m benchmarks --browser    only the figures through the real app (Streamlit + Chromium)
python -m benchmarks --no-browser everything else
python -m benchmarks --quick      a fast smoke run: few rounds, short replies
python -m benchmarks --json       one JSON object: figure name -> number (null if not measured)
python -m benchmarks --agent thread   the demo agent on a thread here, sharing the GIL
python -m benchmarks --check      exit with 1 when a goal is not met

The figures and their goals are FIGURES and GOALS below; each module says how it measures.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import service
from benchmarks.agent import Where, agent_pool, agents
from benchmarks.browser import browser_figures, browser_unavailable
from benchmarks.render import rerun_figures
from benchmarks.store import PG_URL_VARIABLE, persist_stream_figures, restore_figures
from services.demo_agent import DemoTiming
from services.store.live import SAVE_EVERY

__all__ = ["BROWSER_FIGURES", "FIGURES", "GOALS", "POSTGRES_FIGURES", "SIGNED_FIGURES", "main"]

# Every figure, in the order the table shows them, with its unit.
FIGURES: dict[str, str] = {
    "stream_ratio": "",
    "stream_eps_app": "events/s",
    "stream_eps_raw": "events/s",
    "first_event_ms_app": "ms",
    "first_event_ms_raw": "ms",
    "first_event_overhead_ms": "ms",
    "short_ratio": "",
    "short_ms_app": "ms/message",
    "short_ms_workaround": "ms/message",
    "portal_call_us_p50": "us",
    "portal_call_us_p99": "us",
    "runtime_start_ms": "ms",
    "threads_per_session": "threads",
    "rss_kb_per_session": "KiB",
    "threads_after_release": "threads",
    "sessions50_eps_ratio": "",
    "sessions50_eps_app": "events/s",
    "sessions50_eps_raw": "events/s",
    "sessions50_eps_raw_loops": "events/s",
    "sessions50_eps_ratio_loops": "",
    "sessions50_first_event_p95_ms_app": "ms",
    "sessions50_first_event_p95_ms_raw": "ms",
    "sessions50_cpu_us_per_event_app": "us/event",
    "sessions50_cpu_us_per_event_raw": "us/event",
    "binding_eps_jsonrpc": "events/s",
    "binding_eps_http_json": "events/s",
    "binding_eps_grpc": "events/s",
    "binding_first_event_ms_jsonrpc": "ms",
    "binding_first_event_ms_http_json": "ms",
    "binding_first_event_ms_grpc": "ms",
    "persist_stream_ratio": "",
    "persist_stream_eps_on": "events/s",
    "persist_stream_eps_off": "events/s",
    "persist_turns_ms": "ms/reply",
    "persist_stream_record_ms": "ms/reply",
    "rerun_ms_200": "ms",
    "restore_ms_200": "ms",
    "restore_ms_empty": "ms",
    "restore_load_ms_200": "ms",
    "restore_turns_drawn": "messages",
    "db_bytes_per_message": "bytes",
    "db_bytes_per_message_pg": "bytes",
    "render_ratio": "",
    "ws_bytes_per_reply_byte": "bytes/byte",
}
BROWSER_FIGURES = ("render_ratio", "ws_bytes_per_reply_byte")
# Measured only when A2A_BENCH_DATABASE_URL names a PostgreSQL database.
POSTGRES_FIGURES = ("db_bytes_per_message_pg",)
# Differences: a few noisy rounds (`--quick`) can put them below zero.
SIGNED_FIGURES = ("first_event_overhead_ms",)

Figures = dict[str, float | None]


@dataclass(frozen=True)
class Goal:
    figure: str  # the row it is shown on
    text: str
    met: Callable[[dict[str, float]], bool]


GOALS = [
    Goal("stream_ratio", ">= 0.95", lambda f: f["stream_ratio"] >= 0.95),
    Goal("first_event_overhead_ms", "< 0.5", lambda f: f["first_event_overhead_ms"] < 0.5),
    Goal("short_ratio", "<= 0.5", lambda f: f["short_ratio"] <= 0.5),
    Goal("portal_call_us_p50", "< 200", lambda f: f["portal_call_us_p50"] < 200),
    Goal("runtime_start_ms", "< 60", lambda f: f["runtime_start_ms"] < 60),
    Goal("threads_per_session", "1", lambda f: round(f["threads_per_session"], 2) == 1),
    Goal("rss_kb_per_session", "< 3000", lambda f: f["rss_kb_per_session"] < 3000),
    Goal(
        "threads_after_release",
        "= at start",
        lambda f: f["threads_after_release"] == f["threads_at_start"],
    ),
    Goal("sessions50_eps_ratio", ">= 0.9", lambda f: f["sessions50_eps_ratio"] >= 0.9),
    Goal("persist_stream_ratio", ">= 0.95", lambda f: f["persist_stream_ratio"] >= 0.95),
    Goal("restore_ms_200", "<= 300", lambda f: f["restore_ms_200"] <= 300),
    Goal("render_ratio", "<= 1.25", lambda f: f["render_ratio"] <= 1.25),
    Goal("ws_bytes_per_reply_byte", "<= 6", lambda f: f["ws_bytes_per_reply_byte"] <= 6),
    Goal("rerun_ms_200", "<= 60", lambda f: f["rerun_ms_200"] <= 60),
]


@dataclass(frozen=True)
class Plan:
    sizes: service.Sizes
    stream_chunks: int  # the long reply (`stream_*`, `first_event_*`)
    sessions_chunks: int  # each session's reply in `sessions50_*`
    rerun_rounds: int  # also the reloads of `restore_ms_200`
    browser_rounds: int
    browser_warm: bool = True
    # Demo agent processes behind `sessions50_*`, sessions spread round-robin: more than
    # one, so no single agent's GIL is the bound (see benchmarks/agent.py).
    sessions_agents: int = 4


FULL = Plan(service.Sizes(), 3000, 100, rerun_rounds=7, browser_rounds=3)
QUICK = Plan(service.QUICK, 300, 20, rerun_rounds=1, browser_rounds=1, browser_warm=False)


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # noqa: T201 - stdout carries the result


def _fast(chunks: int) -> DemoTiming:
    # No pauses anywhere: the slow task's chunks come as fast as the agent can send them.
    return DemoTiming(token_delay=0.0, step_delay=0.0, slow_interval=0.0, slow_chunks=chunks)


def _sessions_step(plan: Plan, where: Where) -> dict[str, float]:
    # Its own agents, started for this step only: they would idle through the others.
    with agent_pool(_fast(plan.sessions_chunks), plan.sessions_agents, where) as pool:
        return service.sessions_figures(pool, plan.sizes)


def measure(plan: Plan, *, where: Where, browser: bool, others: bool) -> tuple[Figures, str]:
    """Every figure asked for (None where it was not measured), and why any was not."""
    figures: dict[str, float] = {}
    note = ""
    timings = {
        "fast": _fast(plan.stream_chunks),
        "paced": DemoTiming(),  # the demo agent's realistic pace, for the real app
    }
    with agents(timings, where) as urls:
        steps: list[tuple[str, Callable[[], dict[str, float]]]] = []
        if others:
            sizes = plan.sizes
            steps += [
                ("portal round trips", lambda: service.portal_figures(sizes)),
                ("runtimes", lambda: service.runtime_figures(sizes)),
                ("long stream", lambda: service.stream_figures(urls["fast"], sizes)),
                ("first event", lambda: service.first_event_figures(urls["fast"], sizes)),
                ("short messages", lambda: service.short_figures(urls["fast"], sizes)),
                (
                    "long stream over each binding",
                    lambda: service.binding_figures(urls["fast"], sizes),
                ),
                (
                    f"{service.SESSIONS} sessions at once",
                    lambda: _sessions_step(plan, where),
                ),
                (
                    "long stream, store on and off",
                    lambda: persist_stream_figures(urls["fast"], sizes),
                ),
                ("rerun with 200 messages", lambda: rerun_figures(urls["fast"], plan.rerun_rounds)),
                (
                    "reload of 200 stored messages",
                    lambda: restore_figures(urls["fast"], plan.rerun_rounds),
                ),
            ]
        if browser:
            note = browser_unavailable()
            if not note:
                steps.append(
                    (
                        "real app",
                        lambda: browser_figures(
                            urls["paced"], plan.browser_rounds, warm=plan.browser_warm
                        ),
                    )
                )
        for label, step in steps:
            started = time.perf_counter()
            _progress(f"measuring {label}…")
            figures.update(step())
            _progress(f"  done in {time.perf_counter() - started:.1f} s")
    wanted = [f for f in FIGURES if (browser if f in BROWSER_FIGURES else others)]
    result: Figures = {name: figures.get(name) for name in wanted}
    if "threads_at_start" in figures:
        result["threads_at_start"] = figures["threads_at_start"]
    return result, note


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def setup(plan: Plan, where: Where, figures: Figures) -> str:
    """What the figures were measured on, in a few lines under the table."""
    agent = "in its own process" if where == "process" else "on a thread of this process"
    sizes = plan.sizes
    lines = [
        f"demo agent {agent}, Nagle off; ratios are medians of per-round ratios of "
        "alternated rounds"
    ]
    if "stream_ratio" in figures:
        lines.append(
            f"long reply {plan.stream_chunks:,} chunks × {sizes.stream_rounds} rounds · "
            f"first event: {sizes.first_event_rounds} rounds, overhead = app - raw (medians) · "
            f"short: {sizes.short_messages} messages × {sizes.short_rounds} rounds"
        )
        lines.append(
            f"{service.SESSIONS} sessions × {plan.sessions_chunks:,} chunks × "
            f"{sizes.sessions_rounds} rounds, spread over {plan.sessions_agents} demo agent "
            f"{'processes' if where == 'process' else 'threads'}; app: a runtime and a "
            "reading thread per session; raw: every stream a task on one loop; raw_loops: "
            "the raw SDK on a loop thread per session; first event timed from the common send"
        )
    if "binding_eps_grpc" in figures:
        lines.append(
            f"bindings: the long reply through the app over JSON-RPC, HTTP+JSON and gRPC, "
            f"{sizes.binding_rounds} round(s) each after a warm one (medians)"
        )
    if "persist_stream_ratio" in figures:
        lines.append(
            f"store: SQLite (WAL) in a temp folder; the long reply saved at its first event, "
            f"every {SAVE_EVERY:g} s and at its end; reloads: {plan.rerun_rounds} fresh "
            "AppTest session(s) on a stored 200-message conversation against an empty one"
        )
    if "db_bytes_per_message_pg" in figures and figures["db_bytes_per_message_pg"] is None:
        lines.append(f"PostgreSQL bytes not measured: set {PG_URL_VARIABLE} to a database URL")
    if figures.get("render_ratio") is not None:
        lines.append(
            f"real app: {plan.browser_rounds} fresh tab(s), each sending its first message, "
            "'Explain how A2A streaming works', at the demo agent's default pace"
        )
    return "\n".join(lines)


def table(figures: Figures, note: str, about: str = "") -> str:
    known = {k: v for k, v in figures.items() if v is not None}
    goals = {g.figure: g for g in GOALS}
    rows = [("figure", "value", "unit", "goal", "met")]
    for name, unit in FIGURES.items():
        if name not in figures:
            continue
        value = figures[name]
        goal = goals.get(name)
        text = goal.text if goal else ""
        if name == "threads_after_release" and "threads_at_start" in known:
            text = f"= {known['threads_at_start']:.0f} (at start)"
        if value is None:
            rows.append((name, "n/a", unit, text, "-"))
            continue
        try:
            met = ("yes" if goal.met(known) else "NO") if goal else ""
        except KeyError:
            met = "-"
        rows.append((name, _number(value), unit, text, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    if note:
        lines.append(f"browser figures not measured: {note}")
    if about:
        lines.append(about)
    return "\n".join(lines)


def missed(figures: Figures) -> list[str]:
    known = {k: v for k, v in figures.items() if v is not None}
    out = []
    for goal in GOALS:
        try:
            if not goal.met(known):
                out.append(goal.figure)
        except KeyError:
            continue  # not measured in this run
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="The portal design against the raw a2a-sdk client and the usual "
        "workaround, side by side in one run (medians of alternated rounds).",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--browser", action="store_true", help="only the figures through the real app"
    )
    only.add_argument("--no-browser", action="store_true", help="skip the real app")
    parser.add_argument(
        "--agent",
        choices=["process", "thread"],
        default="process",
        help="run the demo agent in its own process (default, as deployed agents are) "
        "or on a thread of this one (it then shares the GIL with the clients)",
    )
    parser.add_argument("--check", action="store_true", help="exit with 1 when a goal is not met")
    args = parser.parse_args(argv)

    plan = QUICK if args.quick else FULL
    _progress(
        f"benchmarks ({'quick' if args.quick else 'full'}, agent in a {args.agent}) on "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    figures, note = measure(
        plan, where=args.agent, browser=not args.no_browser, others=not args.browser
    )
    if args.json:
        printable = {
            k: (v if v is None or math.isfinite(v) else None)
            for k, v in figures.items()
            if k in FIGURES
        }
        print(json.dumps(printable, indent=2))  # noqa: T201
    else:
        print(table(figures, note, setup(plan, args.agent, figures)))  # noqa: T201
    return 1 if args.check and missed(figures) else 0
