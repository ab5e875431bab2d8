"""The app's services, by layer; each layer imports only the ones listed before it
(`tests/test_layers.py` checks this, and that there is no import cycle):

- `runtime`: one event loop per browser session behind an anyio portal; nothing of A2A.
- shared modules: `errors`, `urls`, `safe_text`, `redact`, `replies`, then `formats`.
- `inspector`: capture of A2A traffic, the stream rules, inspection, card checks.
- `client`: the A2A client on a session's runtime (cards, messages, tasks, push configs).
- `store`: the durable workspace (SQLAlchemy, Alembic), then `push`: the webhook route.
- `agent_check`: the connection doctor and the conformance run (page and command).
- `demo_agent`: the embedded A2A agent (a2a-sdk's server side).
- `health`: loop health and the classic error reproduced.
- `session`: the one bridge to Streamlit: pages reach state and the loop through it.
"""
