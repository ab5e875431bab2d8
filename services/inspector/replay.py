"""Replay: which recorded request to send again, and how the replay compares.

`replayable` picks the exchange a stream's replay resends (the A2A request that opened
it) or says in a sentence why there is none. `compare` puts the original and the replay
side by side: events by kind, state and text in order (ids and timestamps always differ,
so they are not compared), timings and the validation verdicts, with the differences as
sentences ("event 5: status-update vs artifact-update").
"""

from __future__ import annotations

from dataclasses import dataclass

from services.inspector.capture import Exchange, StreamRecord
from services.inspector.inspection import Inspection
from services.inspector.validation import parse_payload

__all__ = [
    "KIND_NAMES",
    "Comparison",
    "EventPair",
    "NotReplayable",
    "Side",
    "compare",
    "replayable",
]

MAX_DIFFERENCES = 20  # sentences; the rest are counted
REPLAY_BINDINGS = ("JSONRPC", "HTTP+JSON", "GRPC")
# The gRPC methods a replay can call again (the rest change configs, not conversations).
GRPC_REPLAYABLE = ("SendStreamingMessage", "SendMessage", "GetTask", "ListTasks", "CancelTask")
# The spec's names for the stream's event kinds (the inspector's short names as keys).
KIND_NAMES = {
    "task": "task",
    "message": "message",
    "status": "status-update",
    "artifact": "artifact-update",
    "error": "error",
    "not-json": "not-json",
    "unknown": "unknown",
}


class NotReplayable(ValueError):
    """A stream whose request cannot be sent again; str() is one sentence saying why."""


def replayable(record: StreamRecord) -> Exchange:
    """The exchange a replay of `record` resends: its first, the request that opened it."""
    if record.imported_frames is not None:
        raise NotReplayable(
            "A stream read from a file is not replayed: its request was not recorded here."
        )
    if record.binding and record.binding.upper() not in REPLAY_BINDINGS:
        raise NotReplayable(
            f"Stream #{record.id} went over {record.binding}; replay resends JSON-RPC, "
            "HTTP+JSON and gRPC requests only."
        )
    if not record.exchanges:
        raise NotReplayable(f"Stream #{record.id} recorded no HTTP request to send again.")
    first = record.exchanges[0]
    if first.protocol == "grpc":
        if first.method.rsplit("/", 1)[-1] not in GRPC_REPLAYABLE:
            raise NotReplayable(
                f"Stream #{record.id} opened with {first.method}; a gRPC replay calls "
                f"{', '.join(GRPC_REPLAYABLE)} only."
            )
        return first
    if first.method.upper() not in ("GET", "POST"):
        raise NotReplayable(
            f"Stream #{record.id} opened with {first.method}; replay resends GET and POST only."
        )
    return first


@dataclass(frozen=True)
class Side:
    """One stream of the comparison, as the inspector measured it."""

    record_id: int
    label: str
    kinds: tuple[str, ...]  # each event's kind, spec names, in order
    states: tuple[str, ...]
    texts: tuple[str, ...]
    first_event_ms: float | None
    total_ms: float | None
    gap_median_ms: float | None
    gap_max_ms: float | None
    verdict: str  # "valid", or "3 findings"
    findings: tuple[str, ...]
    error: str = ""


@dataclass(frozen=True)
class EventPair:
    """Event `index` of both streams (None where one stream has no such event)."""

    index: int
    original: str | None  # "status-update (working)"
    replay: str | None
    same: bool
    difference: str = ""  # the sentence, when not the same


@dataclass(frozen=True)
class Comparison:
    original: Side
    replay: Side
    pairs: tuple[EventPair, ...]
    differences: tuple[str, ...]  # at most MAX_DIFFERENCES sentences, then a count

    @property
    def same_events(self) -> bool:
        """Same kinds, states and text, event for event."""
        return all(p.same for p in self.pairs)

    @property
    def headline(self) -> str:
        if self.same_events:
            count = len(self.pairs)
            return f"Same {count} event{'' if count == 1 else 's'} (kinds, states and text)."
        different = sum(not p.same for p in self.pairs)
        return (
            f"{different} of {len(self.pairs)} event{'' if len(self.pairs) == 1 else 's'} differ."
        )

    @property
    def same_verdict(self) -> bool:
        return self.original.verdict == self.replay.verdict


def _side(ins: Inspection) -> Side:
    summary = ins.summary
    assert summary is not None
    payloads = [parse_payload(row.frame) for row in ins.rows]
    return Side(
        record_id=ins.record.id,
        label=ins.record.label,
        kinds=tuple(KIND_NAMES.get(p.kind, p.kind) for p in payloads),
        states=tuple(p.state for p in payloads),
        texts=tuple(p.text for p in payloads),
        first_event_ms=summary.first_event_ms,
        total_ms=summary.duration_ms,
        gap_median_ms=summary.gap_median_ms,
        gap_max_ms=summary.gap_max_ms,
        verdict=summary.verdict,
        findings=tuple(f.message for f in ins.findings),
        error=ins.record.error,
    )


def _describe(side: Side, index: int) -> str | None:
    if index >= len(side.kinds):
        return None
    state = side.states[index]
    return side.kinds[index] + (f" ({state})" if state else "")


def _clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _difference(original: Side, replay: Side, index: int) -> str:
    left, right = _describe(original, index), _describe(replay, index)
    if left is None:
        return f"event {index}: only the replay has it ({right})."
    if right is None:
        return f"event {index}: only the original has it ({left})."
    if original.kinds[index] != replay.kinds[index]:
        return f"event {index}: {original.kinds[index]} vs {replay.kinds[index]}."
    if original.states[index] != replay.states[index]:
        states = f"{original.states[index] or 'no state'} vs {replay.states[index] or 'no state'}"
        return f"event {index}: {original.kinds[index]} {states}."
    if original.texts[index] != replay.texts[index]:
        return (
            f'event {index}: {original.kinds[index]} text "{_clip(original.texts[index])}" vs '
            f'"{_clip(replay.texts[index])}".'
        )
    return ""


def compare(original: Inspection, replay: Inspection) -> Comparison:
    """The two streams side by side, event by event (kind, state and text)."""
    left, right = _side(original), _side(replay)
    pairs: list[EventPair] = []
    for index in range(max(len(left.kinds), len(right.kinds))):
        difference = _difference(left, right, index)
        pairs.append(
            EventPair(
                index,
                _describe(left, index),
                _describe(right, index),
                same=not difference,
                difference=difference,
            )
        )
    sentences = [p.difference for p in pairs if p.difference]
    if len(left.kinds) != len(right.kinds):
        sentences.insert(
            0, f"The original has {len(left.kinds)} events, the replay {len(right.kinds)}."
        )
    if left.verdict != right.verdict:
        sentences.append(f"Verdict: the original is {left.verdict}, the replay {right.verdict}.")
    if len(sentences) > MAX_DIFFERENCES:
        more = len(sentences) - MAX_DIFFERENCES
        sentences = [*sentences[:MAX_DIFFERENCES], f"… and {more} more differences."]
    return Comparison(left, right, tuple(pairs), tuple(sentences))
