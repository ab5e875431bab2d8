"""The receiving half of A2A push notifications, on Streamlit's own port.

On Streamlit Community Cloud only the Streamlit port is reachable, so the webhook an agent
posts to is a route of the app's own server: `app.py` hands `push_routes(...)` to
`st.App(routes=...)`, and `POST /a2a/push/{config_id}` runs in the same process as the
pages, outside any session. Streamlit does not authenticate such a route (nor XSRF-check
it): everything here is checked by the route itself, cheapest first, and nothing is read
from a request that has not shown the config's token:

    unknown config id                          404 {"error": "not found"}
    token missing or wrong                     401 {"error": "unauthorized"}
    over 120 deliveries a minute to the config 429 {"error": "too many"} + Retry-After
    body over 1 MB (Content-Length, or read)   413 {"error": "too large"}
    not JSON, not a StreamResponse or Task     400 {"error": "bad request"}
    JWT required by the config, absent or bad  401 {"error": "unauthorized"}
    store cannot be opened or written          503 {"error": "unavailable"}
    stored in the workspace owning the config  200 {"ok": true}

The token comes in `X-A2A-Notification-Token` (a2a-sdk) or `A2A-Notification-Token`
(a2a-go) and is compared, hashed, in constant time with the hash the store keeps. Answers
are fixed short bodies: nothing from the request is echoed. Logs name the config id and
the answer only. Store calls (blocking SQL) run on worker threads, never on the server's
event loop, which serves every session's websocket too.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from a2a.types import a2a_pb2
from google.protobuf import json_format
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from services.formats import FileRejected, load_json
from services.push.jwks import JwtVerifier
from services.redact import Redactor
from services.replies import state_name
from services.store import PushConfig, Store, StoreError
from services.store.push import CONFIG_ID

__all__ = [
    "MAX_BODY_BYTES",
    "PER_MINUTE",
    "PUSH_PATH",
    "TOKEN_HEADERS",
    "PushReceiver",
    "push_routes",
]

log = logging.getLogger(__name__)

PUSH_PATH = "/a2a/push/{config_id}"
MAX_BODY_BYTES = 1024 * 1024
PER_MINUTE = 120  # deliveries one config may post in any 60 s
TOKEN_HEADERS = ("x-a2a-notification-token", "a2a-notification-token")  # a2a-sdk, a2a-go
_WINDOW = 60.0
_MAX_TRACKED = 10_000  # configs the rate window remembers at once (least recent dropped)
_KINDS = {
    "task": "task",
    "message": "message",
    "status_update": "status-update",
    "artifact_update": "artifact-update",
}
_STATES = {state_name(s) for s in a2a_pb2.TaskState.values()} - {""}

StoreSource = Store | Callable[[], Store | None]


def _answer(status: int, error: str | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"ok": True} if error is None else {"error": error}
    return JSONResponse(body, status_code=status, headers=headers or None)


class _Refused(Exception):
    def __init__(self, status: int, error: str, **headers: str) -> None:
        super().__init__(error)
        self.response = _answer(status, error, **headers)
        self.status = status


class _Window:
    """A sliding 60 s window of deliveries per config, bounded in memory: at most
    `limit` times per config, and at most `_MAX_TRACKED` configs."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._clock = clock
        self._times: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, key: str) -> float:
        """0 if one more delivery is allowed now (and count it), else seconds to wait."""
        now = self._clock()
        with self._lock:
            times = self._times.get(key)
            if times is None:
                times = self._times[key] = deque(maxlen=self._limit)
            self._times.move_to_end(key)
            while times and times[0] <= now - _WINDOW:
                times.popleft()
            if len(times) >= self._limit:
                return max(times[0] + _WINDOW - now, 0.001)
            times.append(now)
            while len(self._times) > _MAX_TRACKED:
                self._times.popitem(last=False)
            return 0.0


class PushReceiver:
    """The webhook: checks a notification and records it in its config's workspace.

    Args:
        store: the store, or a function returning it (None while it cannot be opened): the
            app's store opens on first use, and the route may be its first user.
        per_minute: deliveries one config may post in any 60 s.
        verifier: checks JWTs against the agents' JWKS (one is made if not given).
    """

    def __init__(
        self,
        store: StoreSource,
        *,
        per_minute: int = PER_MINUTE,
        verifier: JwtVerifier | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._window = _Window(per_minute, clock)
        self._verifier = verifier or JwtVerifier()

    def routes(self) -> list[BaseRoute]:
        return [Route(PUSH_PATH, self.receive, methods=["POST"], name="a2a_push")]

    async def receive(self, request: Request) -> JSONResponse:
        config_id = str(request.path_params.get("config_id", ""))
        try:
            await self._receive(request, config_id)
        except _Refused as refused:
            self._log(config_id, refused.status)
            return refused.response
        self._log(config_id, 200)
        return _answer(200)

    async def _receive(self, request: Request, config_id: str) -> None:
        store = await self._open()
        config = await self._config(store, config_id)
        token = next((t for h in TOKEN_HEADERS if (t := request.headers.get(h))), None)
        if not config.accepts(token):
            raise _Refused(401, "unauthorized")
        assert token is not None
        wait = self._window.admit(config.id)
        if wait:
            raise _Refused(429, "too many", **{"Retry-After": str(math.ceil(wait))})
        body = await _read_body(request)
        kind, task_id, state = _parse(body)
        if config.task_id and task_id != config.task_id:
            raise _Refused(400, "bad request")  # a token for one task posting another's
        verified = await self._verify_jwt(request, config, body)
        # The body as received, less the token should an agent echo it: never stored.
        text = Redactor([token]).text(body.decode("utf-8"))
        try:
            recorded = await anyio.to_thread.run_sync(
                lambda: store.record_delivery(
                    config, task_id=task_id, kind=kind, state=state, verified=verified, body=text
                )
            )
        except StoreError as error:
            log.warning("push %s: not stored (%s)", config.id, error)
            raise _Refused(503, "unavailable", **{"Retry-After": "30"}) from error
        if recorded is None:
            raise _Refused(404, "not found")  # deleted while this one was on its way

    async def _open(self) -> Store:
        source = self._store
        if isinstance(source, Store):
            return source
        store = await anyio.to_thread.run_sync(source)  # may open it: migrations, SQL
        if store is None:
            raise _Refused(503, "unavailable", **{"Retry-After": "30"})
        return store

    async def _config(self, store: Store, config_id: str) -> PushConfig:
        if not CONFIG_ID.fullmatch(config_id):
            raise _Refused(404, "not found")
        try:
            config = await anyio.to_thread.run_sync(store.push_config, config_id)
        except StoreError as error:
            log.warning("push %s: config not read (%s)", config_id, error)
            raise _Refused(503, "unavailable", **{"Retry-After": "30"}) from error
        if config is None:
            raise _Refused(404, "not found")
        return config

    async def _verify_jwt(self, request: Request, config: PushConfig, body: bytes) -> bool:
        """True if a JWT came and was verified; refused if the config requires one and it
        did not. A config without a JWKS ignores the Authorization header."""
        if not config.jwks_url:
            return False
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        verified = False
        if scheme.lower() == "bearer" and credentials.strip():
            verified = await self._verifier.verify(
                credentials.strip(),
                jwks_url=config.jwks_url,
                audience=config.jwt_audience,
                body=body,
            )
        if config.require_jwt and not verified:
            raise _Refused(401, "unauthorized")
        return verified

    @staticmethod
    def _log(config_id: str, status: int) -> None:
        shown = config_id if CONFIG_ID.fullmatch(config_id) else "(not a config id)"
        log.log(logging.DEBUG if status == 200 else logging.INFO, "push %s: %d", shown, status)


async def _read_body(request: Request) -> bytes:
    """The body, refused past MAX_BODY_BYTES: by its Content-Length before reading, and
    by counting as it streams (a chunked body has none). No more than the limit plus one
    chunk is ever read, and no more than the limit plus one byte kept."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise _Refused(400, "bad request")
        if int(length) > MAX_BODY_BYTES:
            raise _Refused(413, "too large")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk[: MAX_BODY_BYTES + 1 - len(body)]
            if len(body) > MAX_BODY_BYTES:
                raise _Refused(413, "too large")
    except ClientDisconnect as error:
        raise _Refused(400, "bad request") from error
    return bytes(body)


def _parse(body: bytes) -> tuple[str, str, str]:
    """What arrived: its kind, task id and the task's state, or refused (400) when it is
    not a JSON A2A `StreamResponse` (1.0) or `Task` (what 0.3 agents post)."""
    try:
        value = load_json(body, what="push notification", max_bytes=MAX_BODY_BYTES)
    except FileRejected as error:
        raise _Refused(400, "bad request") from error
    if not isinstance(value, dict):
        raise _Refused(400, "bad request")
    try:
        response = json_format.ParseDict(
            value, a2a_pb2.StreamResponse(), ignore_unknown_fields=True
        )
        payload = response.WhichOneof("payload")
        if payload is not None:
            return _KINDS[payload], *_task_and_state(response, payload, value)
        task = json_format.ParseDict(value, a2a_pb2.Task(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError) as error:
        raise _Refused(400, "bad request") from error
    if not task.id:
        raise _Refused(400, "bad request")
    return "task", task.id, _state(task.status.state, value.get("status"))


def _task_and_state(
    response: a2a_pb2.StreamResponse, payload: str, value: dict[str, Any]
) -> tuple[str, str]:
    raw = value.get("task") or value.get("statusUpdate") or value.get("status_update") or {}
    status = raw.get("status") if isinstance(raw, dict) else None
    if payload == "task":
        return response.task.id, _state(response.task.status.state, status)
    if payload == "status_update":
        update = response.status_update
        return update.task_id, _state(update.status.state, status)
    if payload == "artifact_update":
        return response.artifact_update.task_id, ""
    return response.message.task_id, ""


def _state(parsed: int, status: object) -> str:
    """The spec's spelling of a task state; a 0.3 body says "completed" where 1.0 says
    TASK_STATE_COMPLETED, which the protobuf parser drops as unknown."""
    if parsed:
        return state_name(parsed)
    raw = status.get("state") if isinstance(status, dict) else None
    if isinstance(raw, str):
        name = raw.lower().removeprefix("task_state_").replace("_", "-")
        if name in _STATES:
            return name
    return ""


def push_routes(
    store: StoreSource,
    *,
    per_minute: int = PER_MINUTE,
    verifier: JwtVerifier | None = None,
) -> list[BaseRoute]:
    """The webhook's route for `st.App(routes=...)` (or any Starlette app)."""
    return PushReceiver(store, per_minute=per_minute, verifier=verifier).routes()
