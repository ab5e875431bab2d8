"""What an agent check finds: one `Check` per rule, in the order the run made them.

Each check names the rule (`id`, `title`), how strongly the spec asks for it (`level`:
MUST, SHOULD or MAY, from the spec's own words), what happened (`status`), one sentence a
person can act on, the spec section it rests on, and the inspector's record of the
exchange that shows it (0 when the check made no request).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["LEVELS", "STATUSES", "AgentCheckReport", "Check", "Level", "Status"]

Level = Literal["MUST", "SHOULD", "MAY"]
Status = Literal["pass", "fail", "warn", "skip"]
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD", "MAY")
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "skip")


@dataclass(frozen=True)
class Check:
    id: str  # stable, dotted: "doctor.dns", "rpc.get-task.not-found"
    title: str
    level: Level
    status: Status
    message: str  # one sentence
    spec: str  # the section it rests on, e.g. "A2A 1.0 §8.2 Agent Card discovery"
    stream_id: int = 0  # the inspector's record of the exchange that shows it


@dataclass
class AgentCheckReport:
    """A run's result: the agent as it was checked, and every check in order."""

    agent: dict[str, Any] = field(default_factory=dict)  # url, name, binding, version
    checks: list[Check] = field(default_factory=list)
    reachable: bool = True  # False when the doctor stopped before a card was read
    created_at: float = field(default_factory=time.time)

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for check in self.checks:
            counts[check.status] += 1
        return counts

    @property
    def must_failed(self) -> bool:
        return any(c.level == "MUST" and c.status == "fail" for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        """The shape the command writes with `--json`."""
        return {
            "agent": dict(self.agent),
            "checks": [
                {k: v for k, v in asdict(c).items() if k != "stream_id"} for c in self.checks
            ],
            "summary": self.summary,
        }

    def to_stored(self) -> str:
        """The report as the workspace keeps it (with each check's exchange)."""
        return json.dumps(
            {
                "agent": self.agent,
                "checks": [asdict(c) for c in self.checks],
                "reachable": self.reachable,
                "created_at": self.created_at,
            }
        )

    @classmethod
    def from_stored(cls, text: str) -> AgentCheckReport | None:
        """A kept report, or None if it cannot be read (a later version's, say)."""
        try:
            data = json.loads(text)
            checks = [
                Check(**{k: c[k] for k in Check.__dataclass_fields__ if k in c})
                for c in data["checks"]
            ]
            return cls(
                agent=dict(data["agent"]),
                checks=checks,
                reachable=bool(data["reachable"]),
                created_at=float(data["created_at"]),
            )
        except (ValueError, TypeError, KeyError):
            return None
