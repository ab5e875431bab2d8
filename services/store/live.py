"""Writing a reply while it streams: at its first event, then every few seconds, at its end.

`ReplyWriter` holds plain objects only (the store, ids, the turn, the recorder), never
Streamlit's: a page may call it from a `finally` after Streamlit stopped the run (a rerun,
a Stop, a closed tab), so what arrived is written even then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

from services.inspector.capture import TrafficRecorder
from services.inspector.inspection import export_jsonl
from services.replies import Turn
from services.store.store import Store

__all__ = ["SAVE_EVERY", "ReplyWriter"]

SAVE_EVERY = 2.0  # seconds between a streaming reply's writes: what a crash can lose


@dataclass
class ReplyWriter:
    """Writes turn number `index` (an agent's reply) of a conversation as it streams."""

    store: Store
    workspace_id: str
    conversation_id: str
    turn: Turn
    index: int
    recorder: TrafficRecorder
    saved_at: float | None = None

    def progress(self) -> None:
        """After each batch of events: write at the first, then at most every SAVE_EVERY."""
        now = time.monotonic()
        if self.saved_at is None or now - self.saved_at >= SAVE_EVERY:
            self.saved_at = now
            self._write_turn()

    def done(self) -> None:
        """The stream ended, failed or was cut off: write the reply and its stream."""
        self._write_turn()
        reply = self.turn.reply
        record = self.recorder.stream(reply.stream_id) if reply and reply.stream_id else None
        if record is not None:  # a snapshot: exported on the store's thread, not the page's
            jsonl = partial(export_jsonl, record, self.recorder.redactor)
            self.store.save_stream(self.workspace_id, record.id, record.started_wall, jsonl)

    def _write_turn(self) -> None:
        self.store.save_turn(
            self.workspace_id,
            self.conversation_id,
            self.turn,
            self.index,
            redact=self.recorder.redactor.text,
        )
