"""The A2A client layer: everything the app does as a client of an agent.

- `resources`: what the layer keeps on a session's runtime (settings, the one httpx
  client with capture, allow list and credentials, the a2a-sdk clients by URL).
- `agent`: resolve a card, connect, send and stream a reply, cancel.
- `composer`: Advanced send: the chat's request as JSON, checked against the schema.
- `replay`: a recorded request sent again through the session's client, recorded.
- `grpc_channels`: the gRPC channels of the third binding, kept on the session's loop.
- `extensions`: a card's extensions, activating them per request, an agent's tenant.
- `side_by_side`: one prompt to several agents at once, their replies side by side.
- `tasks`: list, read, cancel and subscribe to tasks; reconnect a broken reply.
- `push`: a task's push notification configs, and sending a message in the background.
- `auth`: credentials, each sent to its own agent's origin only.
- `tls`: client certificates (mutual TLS), each presented to its own agent's origin only.
- `allowlist`: which agent URLs a deployment may contact.
- `signatures`: whether a card's signature verifies (verified, invalid, unverifiable,
  absent).
- `uploads`: which files an agent accepts.

It runs on `services.runtime` and records through `services.inspector.capture`; it knows
nothing of Streamlit.
"""

from services.client import (
    agent,
    allowlist,
    auth,
    composer,
    extensions,
    grpc_channels,
    oauth,
    push,
    replay,
    resources,
    side_by_side,
    signatures,
    tasks,
    tls,
    uploads,
)

__all__ = [
    "agent",
    "allowlist",
    "auth",
    "composer",
    "grpc_channels",
    "extensions",
    "oauth",
    "push",
    "replay",
    "resources",
    "side_by_side",
    "signatures",
    "tasks",
    "tls",
    "uploads",
]
