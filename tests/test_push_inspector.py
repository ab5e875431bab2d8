"""A task's push notification deliveries as a stream for the Streaming inspector: the same
rows, summary and A2A 1.0 rules as a streamed reply (the page itself: test_push_app)."""

from __future__ import annotations

import json

from services.inspector.deliveries import push_record
from services.inspector.inspection import inspect
from services.store.push import Delivery

T0 = 1_700_000_000.0  # wall-clock seconds, as the webhook stamps deliveries


def status(state: str) -> dict[str, object]:
    return {
        "statusUpdate": {
            "taskId": "task-0123456789",
            "contextId": "c1",
            "status": {"state": f"TASK_STATE_{state}"},
        }
    }


TASK = {
    "task": {
        "id": "task-0123456789",
        "contextId": "c1",
        "status": {"state": "TASK_STATE_SUBMITTED"},
    }
}
ARTIFACT = {
    "artifactUpdate": {
        "taskId": "task-0123456789",
        "contextId": "c1",
        "artifact": {"artifactId": "a1", "parts": [{"text": "the result"}]},
        "lastChunk": True,
    }
}


def delivered(*bodies: object, step: float = 0.5) -> list[Delivery]:
    """Deliveries of `bodies` (dicts as JSON, text as is), oldest first, `step` s apart."""
    return [
        Delivery(
            id=n,
            config_id="config-0123456789abcdef",
            received_at=T0 + n * step,
            task_id="task-0123456789",
            kind="",
            state="",
            verified=False,
            body=body if isinstance(body, str) else json.dumps(body),
        )
        for n, body in enumerate(bodies)
    ]


def test_a_completed_task_reads_as_a_valid_stream():
    record = push_record(
        "task-0123456789",
        delivered(TASK, status("WORKING"), ARTIFACT, status("COMPLETED")),
        agent_url="http://agent.example",
    )
    assert record.label == "push · task task-012" and record.agent_url == "http://agent.example"
    assert record.done and record.started_wall == T0
    ins = inspect(record)
    assert ins.findings == []
    assert [r.kind for r in ins.rows] == ["task", "status", "artifact", "status"]
    assert [r.state for r in ins.rows] == ["submitted", "working", "", "completed"]
    assert [r.offset_ms for r in ins.rows] == [0.0, 500.0, 1000.0, 1500.0]
    assert ins.rows[2].preview == "the result"
    assert all(r.sdk is not None for r in ins.rows)  # each frame next to its SDK event
    assert ins.rows[3].sdk == status("COMPLETED")
    assert ins.summary is not None
    assert (ins.summary.final_state, ins.summary.events, ins.summary.verdict) == (
        "completed",
        4,
        "valid",
    )
    assert ins.summary.duration_ms == 1500.0


def test_a_status_update_after_the_final_state_is_a_finding():
    deliveries = delivered(TASK, status("COMPLETED"), status("WORKING"))
    ins = inspect(push_record("task-0123456789", deliveries))
    assert [(f.index, f.rule) for f in ins.findings] == [(2, "after-final")]
    assert ins.rows[2].verdict != "ok" and ins.rows[1].verdict == "ok"


def test_a_task_still_running_is_not_flagged_for_lacking_a_final_state():
    record = push_record("task-0123456789", delivered(TASK, status("WORKING")))
    assert not record.done  # the agent may post more
    assert inspect(record).findings == []


def test_a_bare_task_and_a_body_the_sdk_cannot_read_keep_their_own_rows():
    bare_task = {  # what the webhook takes from an agent that posts the Task itself
        "id": "task-0123456789",
        "contextId": "c1",
        "status": {"state": "TASK_STATE_COMPLETED"},
    }
    ins = inspect(push_record("task-0123456789", delivered("not json", bare_task)))
    assert [(r.kind, r.state) for r in ins.rows] == [("not-json", ""), ("task", "completed")]
    assert ins.rows[0].sdk is None  # no event for it: the next frame keeps its own
    assert ins.rows[1].sdk is not None and ins.rows[1].sdk["task"]["id"] == "task-0123456789"
    assert [f.rule for f in ins.findings] == ["not-json"]


def test_no_deliveries_make_an_empty_record():
    ins = inspect(push_record("t", []))
    assert ins.rows == [] and ins.findings == [] and not ins.record.done
