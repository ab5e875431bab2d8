"""The receiving half of A2A push notifications: a webhook on the app's own port.

`push_routes(store)` gives the route `POST /a2a/push/{config_id}` for `st.App(routes=...)`;
`PushReceiver` is the same with its parts reachable; `JwtVerifier` checks the JWT an agent
may sign a notification with. No Streamlit here: the route runs outside any session.
The configs and what arrived are kept by `services.store`.
"""

from services.push.jwks import JwtVerifier
from services.push.receiver import (
    MAX_BODY_BYTES,
    PER_MINUTE,
    PUSH_PATH,
    TOKEN_HEADERS,
    PushReceiver,
    push_routes,
)

__all__ = [
    "MAX_BODY_BYTES",
    "PER_MINUTE",
    "PUSH_PATH",
    "TOKEN_HEADERS",
    "JwtVerifier",
    "PushReceiver",
    "push_routes",
]
