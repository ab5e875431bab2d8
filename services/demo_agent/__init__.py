"""The embedded demo A2A agent: deterministic scenarios that exercise the protocol.

Built on a2a-sdk's server side (AgentExecutor, DefaultRequestHandler, Starlette routes)
and served by uvicorn on 127.0.0.1. The app starts one per process when no agent is
configured (`ensure_demo_agent`); it also runs alone:

    python -m services.demo_agent --port 9999 [--bearer-token T] [--api-key K]
        [--oauth [--token-lifetime S]] [--database-url sqlite:///tasks.db]
        [--signed-card | --bad-signature]

Besides the chat scenarios it receives files (summarised and echoed back byte for
byte), returns files and data (a PNG chart, a URL file served at `/files/...`, a JSON
object), serves an extended card (`GetExtendedAgentCard`), and can require a bearer
token and/or an API key (`DemoAuth`), or be its own OAuth 2 / OpenID Connect
authorization server under `/oauth` and require its JWT access tokens (`DemoOAuth`).
With a `database_url` its tasks outlive a restart (those a restart cut off end as
failed), each visitor's apart from the others'. It sends push notifications (a2a-sdk's
sender) to public webhooks, and to loopback ones when it is bound to loopback itself.
With `card_signing` it signs its cards (its key set at `/.well-known/jwks.json`); "bad"
serves cards changed after they were signed.

- `scenarios/`: what the agent says, one module per scenario (keywords, skill, handler).
- `executor`: `DemoAgentExecutor`, the a2a-sdk adapter that hands a message to a scenario.
- `card`: the public and extended cards and their security schemes.
- `auth`: `DemoAuth`, the credential check, and the pure-ASGI middleware applying it.
- `oauth/`: `DemoOAuth`, the authorization server (Authlib) and the access-token check.
- `signing`: `CardSigner`, the card's ES256 key, its signature and its JWKS route.
- `visitors`: each app visitor's tasks apart (`VISITOR_HEADER`).
- `store`: the task store (and push config store) that survives a restart.
- `push`: the push URL policy and the sender's HTTP client.
- `app`: `build_app`, the Starlette app; `server`: serving it in-process on loopback.
- `__main__`: the command line above.
"""

from services.demo_agent.app import build_app
from services.demo_agent.auth import DemoAuth
from services.demo_agent.card import build_agent_card, build_extended_agent_card
from services.demo_agent.oauth import DemoOAuth
from services.demo_agent.scenarios import DemoTiming
from services.demo_agent.scenarios.chart import chart_png
from services.demo_agent.scenarios.explain import LONG_ANSWER
from services.demo_agent.server import (
    DemoAgentServer,
    LoopbackServer,
    ensure_demo_agent,
    running_demo_agent,
)
from services.demo_agent.signing import JWKS_PATH, CardSigning
from services.demo_agent.store import PUSH_CONFIGS_TABLE, RESTARTED_TEXT, TASKS_TABLE
from services.demo_agent.visitors import MAX_VISITOR_LENGTH, VISITOR_HEADER

__all__ = [
    "JWKS_PATH",
    "LONG_ANSWER",
    "MAX_VISITOR_LENGTH",
    "PUSH_CONFIGS_TABLE",
    "RESTARTED_TEXT",
    "TASKS_TABLE",
    "VISITOR_HEADER",
    "CardSigning",
    "DemoAgentServer",
    "DemoAuth",
    "DemoOAuth",
    "DemoTiming",
    "LoopbackServer",
    "build_agent_card",
    "build_app",
    "build_extended_agent_card",
    "chart_png",
    "ensure_demo_agent",
    "running_demo_agent",
]
