"""Checks a recorded stream against the A2A 1.0 spec and common sense.

Works on the wire frames (not the SDK's parse), so it also judges what the SDK rejected
and streams imported from a file. Understands JSON-RPC and HTTP+JSON bodies, in the 1.0
shape (`{"statusUpdate": {...}}`) and the 0.3 shape (`{"kind": "status-update", ...}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.inspector.capture import Frame

__all__ = ["RULES", "Finding", "Payload", "parse_payload", "validate"]

FINAL = {"completed", "failed", "canceled", "rejected"}
INTERRUPTED = {"input-required", "auth-required"}

# The rules, by id, with what each one catches (the closing note lists them too).
RULES = {
    "not-json": "data that is not JSON",
    "jsonrpc-error": "a JSON-RPC error object",
    "chunk-after-last": "an artifact chunk after that artifact's lastChunk",
    "append-without-start": "append with no earlier chunk of that artifact",
    "after-final": "any event after a final state",
    "id-changed": "a task or context id that changes mid-stream",
    "message-after-task": "a Message after a Task in the same stream",
    "no-final-state": "a stream that ends without a final or interrupted state",
}


@dataclass(frozen=True)
class Finding:
    index: int  # the frame's index in the stream; -1 for the stream as a whole
    rule: str
    message: str


@dataclass(frozen=True)
class Payload:
    """A frame's A2A content, whatever the binding and version."""

    kind: str  # task, message, status, artifact, error, unknown, or not-json
    body: Any = None

    @property
    def task_id(self) -> str:
        if self.kind == "task":
            return str(self.body.get("id", ""))
        return str(self.body.get("taskId", "")) if isinstance(self.body, dict) else ""

    @property
    def context_id(self) -> str:
        return str(self.body.get("contextId", "")) if isinstance(self.body, dict) else ""

    @property
    def state(self) -> str:
        if self.kind not in ("task", "status") or not isinstance(self.body, dict):
            return ""
        return _state(self.body.get("status", {}).get("state", ""))

    @property
    def text(self) -> str:
        """The human-readable text the payload carries, for previews."""
        if not isinstance(self.body, dict):
            return ""
        if self.kind == "artifact":
            parts = self.body.get("artifact", {}).get("parts", [])
        elif self.kind == "message":
            parts = self.body.get("parts", [])
        elif self.kind in ("status", "task"):
            parts = self.body.get("status", {}).get("message", {}).get("parts", [])
        elif self.kind == "error":
            return f"{self.body.get('code', '?')}: {self.body.get('message', '')}"
        else:
            return ""
        return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def _state(raw: object) -> str:
    """`TASK_STATE_INPUT_REQUIRED` (1.0) or `input-required` (0.3) -> `input-required`."""
    return str(raw).lower().removeprefix("task_state_").replace("_", "-")


_WRAPPED = {
    "task": "task",
    "message": "message",
    "statusUpdate": "status",
    "artifactUpdate": "artifact",
}
_LEGACY_KINDS = {
    "task": "task",
    "message": "message",
    "status-update": "status",
    "artifact-update": "artifact",
}


def parse_payload(frame: Frame) -> Payload:
    """What a frame carries: unwraps JSON-RPC, then the 1.0 or 0.3 event shape."""
    obj = frame.json()
    if obj is None:
        return Payload("not-json")
    if isinstance(obj, dict) and obj.get("jsonrpc") == "2.0":
        if "error" in obj:
            return Payload("error", obj["error"])
        obj = obj.get("result")
    if not isinstance(obj, dict):
        return Payload("unknown", obj)
    for key, kind in _WRAPPED.items():
        if isinstance(obj.get(key), dict):
            return Payload(kind, obj[key])
    if obj.get("kind") in _LEGACY_KINDS:
        return Payload(_LEGACY_KINDS[obj["kind"]], obj)
    if "id" in obj and "status" in obj:  # a bare Task (GetTask's result)
        return Payload("task", obj)
    return Payload("unknown", obj)


def validate(frames: Sequence[Frame], *, finished: bool = True) -> list[Finding]:
    """Every rule broken by `frames`, in order. `finished`: the stream has ended."""
    findings: list[Finding] = []
    ids: dict[str, str] = {}
    seen: set[str] = set()
    closed: set[str] = set()
    final_state = ""
    last_state = ""
    saw_task = saw_message = False

    def flag(index: int, rule: str, message: str) -> None:
        findings.append(Finding(index, rule, message))

    for index, frame in enumerate(frames):
        payload = parse_payload(frame)
        if payload.kind == "not-json":
            flag(
                index, "not-json", f"Frame {index}: the data is not JSON; clients cannot parse it."
            )
            continue
        if payload.kind == "error":
            flag(index, "jsonrpc-error", f"Frame {index}: a JSON-RPC error ({payload.text}).")
            continue
        if payload.kind == "unknown":
            continue
        if final_state:
            flag(
                index,
                "after-final",
                f"Frame {index}: a {payload.kind} event arrived after the task was {final_state}.",
            )
        for name, value in (("task", payload.task_id), ("context", payload.context_id)):
            if value and ids.setdefault(name, value) != value:
                flag(
                    index,
                    "id-changed",
                    f"Frame {index}: the {name} id changed from {ids[name]!r} to {value!r}.",
                )
        if payload.kind == "message":
            if saw_task:
                flag(
                    index,
                    "message-after-task",
                    f"Frame {index}: a Message arrived after the stream had opened a Task.",
                )
            saw_message = True
        elif payload.kind == "task":
            saw_task = True
            for artifact in payload.body.get("artifacts", []):
                seen.add(str(artifact.get("artifactId", "")))
        elif payload.kind == "artifact":
            _check_chunk(index, payload.body, seen, closed, flag)
        if payload.state:
            last_state = payload.state
            if last_state in FINAL:
                final_state = last_state

    if finished and frames and not final_state and last_state not in INTERRUPTED:
        if not (saw_message and not saw_task):  # a direct Message reply is complete
            shown = last_state or "none"
            flag(
                -1,
                "no-final-state",
                f"The stream ended without a final or interrupted state (last state: {shown}).",
            )
    return findings


def _check_chunk(
    index: int, body: dict[str, Any], seen: set[str], closed: set[str], flag: Any
) -> None:
    artifact_id = str(body.get("artifact", {}).get("artifactId", ""))
    if artifact_id in closed:
        flag(
            index,
            "chunk-after-last",
            f"Frame {index}: a chunk of artifact {artifact_id!r} arrived after its lastChunk.",
        )
    if body.get("append") and artifact_id not in seen:
        flag(
            index,
            "append-without-start",
            f"Frame {index}: artifact {artifact_id!r} was appended to before its first chunk.",
        )
    seen.add(artifact_id)
    if body.get("lastChunk"):
        closed.add(artifact_id)
