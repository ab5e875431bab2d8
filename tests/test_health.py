"""Loop health: measurements on real runtimes, the leak check, and the page under AppTest."""

from __future__ import annotations

import time

from services import health
from services.client import agent
from services.runtime import SessionRuntime
from tests.test_app import conversation, send

HEALTH = "app_pages/loop_health.py"


def test_a_probe_measures_lag_and_round_trip(runtime):
    samples = [health.probe(runtime) for _ in range(20)]
    assert all(s is not None and s.lag_ms > 0 and s.rtt_ms > 0 for s in samples)
    report = health.report(runtime)
    assert report.lag is not None and report.rtt is not None
    assert report.lag.median <= report.lag.p95 <= report.lag.max
    assert len(report.samples) == 21  # the report probes once more
    this = report.current
    assert this is not None and this.current and this.responsive and this.thread_alive
    assert this.loop_running and not this.loop_closed and this.leak == ""


def test_a_streaming_runtime_shows_its_stream_task_and_connection(runtime, demo_agent):
    stream = agent.send_message(runtime, demo_agent.url, "Run a slow task")
    events = iter(stream)  # keep it: a dropped iterator's finally cancels the pump
    next(events)
    this = health.report(runtime).current
    stream.cancel()
    assert this is not None
    assert "stream pump" in this.tasks
    assert "events in" in this.stream
    assert this.connections_open >= 1


def test_a_runtime_whose_session_is_gone_is_reported_as_a_leak():
    # Made on purpose: a runtime whose session Streamlit no longer has, left running.
    leaked = SessionRuntime(label="gone1234", session_id="gone-session")
    try:
        report = health.report(None, lambda sid: sid != "gone-session")
        entry = next(r for r in report.runtimes if r.number == leaked.number)
        assert entry.leak == "its session is gone, but its loop thread still runs"
        assert report.verdict == "leaking"
        assert "gone1234" in report.reason and report.process.leaks >= 1
    finally:
        leaked.close()
    after = health.report(None, lambda sid: sid != "gone-session")
    assert all(r.number != leaked.number for r in after.runtimes)  # its thread ended


def test_the_loop_health_page_shows_this_sessions_loop_with_figures(app):
    app.run()
    app.switch_page(HEALTH).run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Loop lag p50 / p95"].endswith(" ms")
    assert metrics["Round trip p50 / p95"].endswith(" ms")
    assert metrics["Leaked loops"] == "0"
    assert app.success[0].value.startswith("**Healthy**")
    table = app.dataframe[0].value
    mine = table[table["session"].str.startswith("● ")]
    assert len(mine) == 1
    assert mine["thread alive"].iloc[0] and mine["loop"].iloc[0] == "running"
    assert mine["thread"].iloc[0].startswith("a2a-session-")
    assert "Loop OK" in app.sidebar.caption[-1].value


def test_a_released_runtime_shows_as_rebuilt_and_restart_keeps_the_chat(app):
    app.run()
    send(app, "My name is Ada")
    app.session_state["runtime"].close()  # what on_release does on a disconnect
    app.switch_page(HEALTH).run()
    table = app.dataframe[0].value
    assert table[table["session"].str.startswith("● ")]["rebuilds"].iloc[0] == 1
    assert "rebuilt 1×" in app.sidebar.caption[-1].value

    before = app.session_state["runtime"]
    next(b for b in app.button if b.label == "Restart this session's runtime").click().run()
    after = app.session_state["runtime"]
    assert after is not before and after.alive and not before.thread.is_alive()
    assert not app.exception
    app.switch_page("app_pages/chat.py").run()
    assert [t.text for t in conversation(app).turns if t.reply is None] == ["My name is Ada"]
    send(app, "What is my name?")
    assert conversation(app).replies[-1].text == "Your name is Ada."


def test_the_self_test_reports_portal_calls_and_a_stream(app):
    app.run()
    app.switch_page(HEALTH).run()
    next(b for b in app.button if b.label == "Run the self-test").click().run(timeout=60)
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["500 portal calls p50"].endswith(" µs")
    stream_label = next(
        label for label in metrics if label.startswith("Stream: ") and "events" in label
    )
    assert int(stream_label.split()[1]) > 3 and metrics[stream_label].endswith(" ms")


def test_the_reproduction_really_fails_naive_and_passes_with_the_portal(app):
    started = time.monotonic()
    app.run()
    app.switch_page(HEALTH).run()
    next(b for b in app.button if b.label == "Reproduce the classic error").click().run(timeout=90)
    assert not app.exception
    result = app.session_state["health_reproduction"]
    assert result.error == "" and result.shows_the_bug
    assert [r["ok"] for r in result.naive] == [True, False, True]
    assert result.naive[1]["error"] == "RuntimeError: Event loop is closed"
    assert [r["ok"] for r in result.portal] == [True, True, True]
    shown = [e.value for e in app.error] + [e.value for e in app.success]
    assert "Message 2: RuntimeError: Event loop is closed" in shown
    assert time.monotonic() - started < 90
