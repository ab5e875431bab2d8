"""Loop health: is each session's loop answering, is anything leaking, and the proof.

`checks` samples every runtime's loop (lag, round trip, tasks, connections), judges the
process, runs the self-test against an agent and reproduces the classic
"Event loop is closed" failure in a child process (`classic_error`, run as
`python -m services.health.classic_error`). The Loop health page draws what it returns.
"""

from services.health.checks import (
    LAG_WARN_MS,
    HealthReport,
    ProcessHealth,
    Reproduction,
    RuntimeHealth,
    Sample,
    SelfTest,
    Stats,
    probe,
    report,
    reproduce_classic_error,
    root_cause_text,
    self_test,
)

__all__ = [
    "LAG_WARN_MS",
    "HealthReport",
    "ProcessHealth",
    "Reproduction",
    "RuntimeHealth",
    "Sample",
    "SelfTest",
    "Stats",
    "probe",
    "report",
    "reproduce_classic_error",
    "root_cause_text",
    "self_test",
]
