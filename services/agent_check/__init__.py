"""Agent check: a connection doctor and a conformance run against an A2A agent, for the
"Agent check" page and for CI (`python -m services.agent_check URL ...`).

- `model`: `Check` (id, title, level, status, one sentence, spec section, the exchange)
  and `AgentCheckReport`.
- `doctor`: `diagnose`, the connection doctor (URL, DNS, TCP, TLS, card, version, auth).
- `run`: `run_agent_check`, the doctor then the protocol checks (what the page runs).
- `cli`: the command line (`python -m services.agent_check`): table, JSON, JUnit XML.
"""

from services.agent_check.doctor import diagnose
from services.agent_check.model import LEVELS, STATUSES, AgentCheckReport, Check
from services.agent_check.run import run_agent_check

__all__ = ["LEVELS", "STATUSES", "AgentCheckReport", "Check", "diagnose", "run_agent_check"]
