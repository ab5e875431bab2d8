"""The Streaming inspector's services: capture, pairing, validation, bounds, export."""

from __future__ import annotations

import gc

import pytest

from services.client import agent, resources
from services.demo_agent import LoopbackServer
from services.errors import AppError
from services.inspector.capture import TrafficRecorder
from services.inspector.inspection import export_jsonl, import_jsonl, inspect
from services.inspector.validation import RULES
from services.redact import Redactor
from services.runtime import SessionRuntime
from tests.agents import scripted_app

TASK = {"task": {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_SUBMITTED"}}}


def status(state: str, task_id: str = "t1", context_id: str = "c1") -> dict[str, object]:
    return {
        "statusUpdate": {
            "taskId": task_id,
            "contextId": context_id,
            "status": {"state": f"TASK_STATE_{state}"},
        }
    }


def chunk(artifact_id: str, text: str, *, append: bool = False, last: bool = False) -> dict:
    return {
        "artifactUpdate": {
            "taskId": "t1",
            "contextId": "c1",
            "artifact": {"artifactId": artifact_id, "parts": [{"text": text}]},
            "append": append,
            "lastChunk": last,
        }
    }


MESSAGE = {"message": {"messageId": "m1", "contextId": "c1", "role": "ROLE_AGENT",
                       "parts": [{"text": "hi"}]}}  # fmt: skip
ERROR = '{"jsonrpc": "2.0", "id": "x", "error": {"code": -32603, "message": "agent exploded"}}'

# One misbehaving stream per rule: (rule, script, index of the offending frame).
VIOLATIONS = [
    ("not-json", [TASK, "this is not json"], 1),
    ("jsonrpc-error", [TASK, ERROR], 1),
    (
        "chunk-after-last",
        [TASK, chunk("a1", "x", last=True), chunk("a1", "y", append=True), status("COMPLETED")],
        2,
    ),
    ("append-without-start", [TASK, chunk("a1", "x", append=True), status("COMPLETED")], 1),
    ("after-final", [TASK, status("COMPLETED"), chunk("a2", "late")], 2),
    ("id-changed", [TASK, status("WORKING", task_id="t2"), status("COMPLETED")], 1),
    ("id-changed", [TASK, status("WORKING", context_id="c2"), status("COMPLETED")], 1),
    ("message-after-task", [TASK, MESSAGE], 1),
    ("no-final-state", [TASK, status("WORKING")], -1),
]


def record_of(runtime: SessionRuntime, url: str, text: str = "go"):
    """Send `text`, read the whole reply (errors included), return its recorded stream."""
    received = []
    try:
        for event in agent.send_message(runtime, url, text):
            received.append(event)
    except AppError:
        pass
    return resources.recorder(runtime).streams()[-1], received


@pytest.mark.parametrize(("rule", "script", "index"), VIOLATIONS)
def test_each_validation_rule_is_caught_on_a_real_stream(runtime, rule, script, index):
    with LoopbackServer(scripted_app(script)) as server:
        record, _ = record_of(runtime, server.url)
    findings = inspect(record).findings
    assert (findings[0].rule, findings[0].index) == (rule, index), findings
    assert findings[0].message.endswith(".")
    # A stream cut short by a bad frame also never reaches a final state; nothing else.
    assert {f.rule for f in findings[1:]} <= {"no-final-state"}


def test_every_rule_has_a_test():
    assert {rule for rule, _, _ in VIOLATIONS} == set(RULES)


@pytest.mark.parametrize(
    "message",
    ["Explain how A2A streaming works", "Search for A2A news", "Book a trip",
     "Generate a sales report", "Make a task that fails", "hello"],
)  # fmt: skip
def test_the_demo_agent_streams_have_no_findings(runtime, demo_agent, message):
    record, received = record_of(runtime, demo_agent.url, message)
    ins = inspect(record)
    assert ins.findings == []
    assert ins.summary is not None and ins.summary.verdict == "valid"
    # One row per event the SDK gave the app, in the same order, each paired with it.
    assert len(ins.rows) == len(received)
    assert [r.sdk for r in ins.rows] == [e.raw for e in received]
    offsets = [r.offset_ms for r in ins.rows]
    assert offsets == sorted(offsets) and offsets[0] > 0


def test_the_exchange_is_recorded_with_headers_and_body(runtime, demo_agent):
    record, _ = record_of(runtime, demo_agent.url, "Book a trip")
    (exchange,) = record.exchanges
    assert exchange.method == "POST" and exchange.status == 200 and exchange.is_sse
    assert exchange.rpc_method == "SendStreamingMessage"
    assert ("a2a-version", "1.0") in exchange.request_headers
    assert exchange.request_json["params"]["message"]["parts"] == [{"text": "Book a trip"}]
    assert record.binding == "JSONRPC" and record.protocol_version == "1.0"
    summary = inspect(record).summary
    assert summary is not None
    assert summary.final_state == "input-required"
    assert 0 < summary.ttfb_ms <= summary.first_event_ms <= summary.duration_ms


def test_memory_is_bounded_per_session_and_per_stream(demo_agent):
    recorder = TrafficRecorder(max_streams=3, max_bytes=4_000)
    runtime = resources.configure(SessionRuntime(label="bounded"), recorder=recorder)
    try:
        for number in range(5):
            record_of(runtime, demo_agent.url, f"hello {number}")
        kept = recorder.streams()
        assert [r.label for r in kept] == ["hello 2", "hello 3", "hello 4"]

        record, received = record_of(runtime, demo_agent.url, "Explain how A2A streaming works")
    finally:
        runtime.close()
    assert record.truncated and record.bytes_kept <= 4_000
    assert sum(e.bytes_received for e in record.exchanges) > 4_000  # counted, not kept
    ins = inspect(record)
    assert ins.summary is not None and ins.summary.truncated
    assert 0 < len(ins.rows) < len(received)
    assert len(record.events) < len(received)  # none kept past the cut


def test_what_a_stream_keeps_per_event_is_invisible_to_the_garbage_collector(runtime, demo_agent):
    # A server keeps every session's last streams. Were each event kept as objects the
    # collector tracks, every full collection would walk all of them: a pause for every
    # session, growing with what was recorded (330 ms with 20 sessions' streams).
    record, received = record_of(runtime, demo_agent.url, "Explain how A2A streaming works")
    gc.collect()  # tuples of atomic values are untracked by the first collection
    chunks = [chunk for exchange in record.exchanges for chunk in exchange.chunks]
    assert len(record.events) == len(received) > 100 and len(chunks) > 100
    assert not [e for e in record.events if gc.is_tracked(e)]
    assert not [c for c in chunks if gc.is_tracked(c)]


def test_export_then_import_gives_the_same_summary_and_rows(runtime, demo_agent):
    record, _ = record_of(runtime, demo_agent.url, "Search for A2A news")
    before = inspect(record)
    after = inspect(import_jsonl(export_jsonl(record)))
    assert after.summary == before.summary
    assert [(r.kind, r.state, r.preview, r.sdk) for r in after.rows] == [
        (r.kind, r.state, r.preview, r.sdk) for r in before.rows
    ]
    assert [round(r.offset_ms, 6) for r in after.rows] == [
        round(r.offset_ms, 6) for r in before.rows
    ]


def test_an_imported_broken_stream_is_validated_too(runtime):
    with LoopbackServer(scripted_app([TASK, chunk("a1", "x", append=True)])) as server:
        record, _ = record_of(runtime, server.url)
    imported = inspect(import_jsonl(export_jsonl(record)))
    assert [f.rule for f in imported.findings] == ["append-without-start", "no-final-state"]


def test_secrets_are_masked_in_captured_headers_and_exports(demo_agent):
    token = "sk-test-7f3a9c1e5b"
    runtime = resources.configure(
        SessionRuntime(label="secret"), recorder=TrafficRecorder(Redactor([token]))
    )
    try:
        # A request that carries the token in a header and in its body.
        record, _ = record_of(runtime, demo_agent.url, f"my key is {token}")
    finally:
        runtime.close()
    exported = export_jsonl(record, Redactor([token]))
    assert token not in exported
    assert "[redacted]" in exported
