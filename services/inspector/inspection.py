"""What the Streaming inspector shows of one recorded stream: rows, summary, findings.

Each row pairs a wire frame with the event the SDK made of it (frames and SDK events of
the same exchange, in order). Also exports a stream as JSON Lines and imports one back,
so a stream can be inspected offline with the same summary, chart and validation.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from services.formats import FileRejected
from services.inspector.capture import Frame, SdkEvent, StreamRecord, frames
from services.inspector.stream_file import STREAM_FORMAT, read_stream
from services.inspector.validation import Finding, parse_payload, validate
from services.redact import Redactor
from services.replies import response_json

__all__ = [
    "Inspection",
    "Row",
    "StreamFileError",
    "Summary",
    "export_jsonl",
    "import_jsonl",
    "inspect",
    "stream_frames",
]

_RAW = ("not-json", "unknown")  # kinds whose preview is the raw data


@dataclass(frozen=True)
class Row:
    index: int
    offset_ms: float
    gap_ms: float
    kind: str
    state: str
    preview: str
    verdict: str  # "ok", or the findings on this frame
    frame: Frame
    sdk: dict[str, Any] | None  # the SDK's StreamResponse as JSON, if it made one


@dataclass(frozen=True)
class Summary:
    ttfb_ms: float | None
    first_event_ms: float | None
    duration_ms: float | None
    events: int
    bytes: int
    events_per_s: float | None
    gap_median_ms: float | None
    gap_p95_ms: float | None
    gap_max_ms: float | None
    final_state: str
    findings: int
    truncated: bool

    @property
    def verdict(self) -> str:
        if self.findings == 0:
            return "valid"
        return f"{self.findings} finding" + ("" if self.findings == 1 else "s")


@dataclass
class Inspection:
    record: StreamRecord
    rows: list[Row] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    summary: Summary | None = None

    @property
    def kinds(self) -> list[str]:
        return sorted({r.kind for r in self.rows})


def stream_frames(record: StreamRecord, redactor: Redactor | None = None) -> list[Frame]:
    """Every frame of the stream, across its exchanges, in order."""
    if record.imported_frames is not None:
        return list(record.imported_frames)
    return [f for exchange in record.exchanges for f in frames(exchange, redactor)]


def inspect(record: StreamRecord, redactor: Redactor | None = None) -> Inspection:
    """Rows, findings and summary for `record` (live or finished)."""
    all_frames = stream_frames(record, redactor)
    findings = validate(all_frames, finished=record.done)
    by_index: dict[int, list[str]] = {}
    for finding in findings:
        by_index.setdefault(finding.index, []).append(finding.message)
    sdk = _pair(all_frames, record.events)

    rows: list[Row] = []
    previous = record.started_at
    for index, frame in enumerate(all_frames):
        payload = parse_payload(frame)
        rows.append(
            Row(
                index=index,
                offset_ms=(frame.at - record.started_at) * 1000,
                gap_ms=(frame.at - previous) * 1000,
                kind=payload.kind,
                state=payload.state,
                preview=_preview(payload.text or (frame.data if payload.kind in _RAW else "")),
                verdict="; ".join(by_index.get(index, [])) or "ok",
                frame=frame,
                sdk=sdk.get(index),
            )
        )
        previous = frame.at
    return Inspection(record, rows, findings, _summary(record, rows, findings))


def _pair(all_frames: list[Frame], events: list[SdkEvent]) -> dict[int, dict[str, Any]]:
    """Frame index -> the SDK event made of it: the n-th event of an exchange pairs with
    its n-th frame (the SDK reads frames in order, one event each)."""
    pending: dict[int, list[dict[str, Any]]] = {}
    for seq, _at, wire in events:
        pending.setdefault(seq, []).append(response_json(wire))
    paired: dict[int, dict[str, Any]] = {}
    for index, frame in enumerate(all_frames):
        queue = pending.get(frame.exchange_seq)
        if queue:
            paired[index] = queue.pop(0)
    return paired


def _preview(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(record: StreamRecord, rows: list[Row], findings: list[Finding]) -> Summary:
    first_bytes = [e.first_byte_at for e in record.exchanges if e.first_byte_at is not None]
    gaps = sorted(r.gap_ms for r in rows[1:])
    duration = None
    if record.ended_at is not None:
        duration = (record.ended_at - record.started_at) * 1000
    elif rows:
        duration = rows[-1].offset_ms
    states = [r.state for r in rows if r.state]
    return Summary(
        ttfb_ms=(first_bytes[0] - record.started_at) * 1000 if first_bytes else None,
        first_event_ms=rows[0].offset_ms if rows else None,
        duration_ms=duration,
        events=len(rows),
        bytes=sum(e.bytes_received for e in record.exchanges),
        events_per_s=len(rows) / (duration / 1000) if duration and rows else None,
        gap_median_ms=statistics.median(gaps) if gaps else None,
        gap_p95_ms=_percentile(gaps, 0.95) if gaps else None,
        gap_max_ms=gaps[-1] if gaps else None,
        final_state=states[-1] if states else "",
        findings=len(findings),
        truncated=record.truncated,
    )


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- JSON Lines export / import ------------------------------------------------------------


def export_jsonl(record: StreamRecord, redactor: Redactor | None = None) -> str:
    """The stream as JSON Lines: the stream, its exchanges, frames and SDK events.

    Times are seconds from the stream's start. Secrets are redacted as on the page.
    """
    redact = redactor or Redactor()
    t0 = record.started_at

    def offset(at: float | None) -> float | None:
        return None if at is None else at - t0

    lines: list[dict[str, Any]] = [
        {
            "type": "stream",
            "format": STREAM_FORMAT,
            "label": redact.text(record.label),
            "agent_url": redact.text(record.agent_url),
            "binding": record.binding,
            "protocol_version": record.protocol_version,
            "started_wall": record.started_wall,
            "ended": offset(record.ended_at),
            "error": redact.text(record.error),
        }
    ]
    for exchange in record.exchanges:
        lines.append(
            {
                "type": "exchange",
                "seq": exchange.seq,
                "method": exchange.method,
                "url": exchange.url,
                "request_headers": redact.headers(exchange.request_headers),
                "request_body": redact.text(exchange.request_body),
                "status": exchange.status,
                "reason": exchange.reason,
                "response_headers": redact.headers(exchange.response_headers),
                "started": offset(exchange.started_at),
                "first_byte": offset(exchange.first_byte_at),
                "ended": offset(exchange.ended_at),
                "bytes": exchange.bytes_received,
                "truncated": exchange.truncated,
                "error": redact.text(exchange.error),
            }
        )
        if exchange.protocol != "http":  # only then, so HTTP lines stay as they were
            lines[-1]["protocol"] = exchange.protocol
            lines[-1]["trailers"] = redact.headers(exchange.trailers)
    for frame in stream_frames(record, redact):
        lines.append(
            {
                "type": "frame",
                "exchange": frame.exchange_seq,
                "at": offset(frame.at),
                "event": frame.event,
                "id": frame.id,
                "retry": frame.retry,
                "data": frame.data,
            }
        )
    for seq, at, wire in record.events:
        lines.append(
            {
                "type": "sdk_event",
                "exchange": seq,
                "at": offset(at),
                "event": json.loads(redact.text(json.dumps(response_json(wire)))),
            }
        )
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


class StreamFileError(FileRejected):
    """A file that is not an exported stream (str(): one sentence)."""


def import_jsonl(text: str) -> StreamRecord:
    """A stream exported by `export_jsonl`, ready for `inspect` (times from 0)."""
    try:
        return read_stream(text)
    except FileRejected as error:
        raise StreamFileError(str(error)) from error
