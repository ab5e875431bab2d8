"""The push receiver: every answer of `POST /a2a/push/{config_id}`, against real servers.

The receiver runs under uvicorn on loopback (`LoopbackServer`), its store on a real
database: a SQLite file, and PostgreSQL too for the tests that take `database_url`. JWTs
are signed with keys made here and their JWKS served by a tiny Starlette app on loopback.
The last test runs `streamlit run app.py` itself and posts to the route it mounts. After
every refusal the store is checked to hold nothing new; the token is looked for in the
database's bytes and in every log record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy
from a2a.server.context import ServerCallContext
from a2a.server.tasks import BasePushNotificationSender, InMemoryPushNotificationConfigStore
from a2a.types import a2a_pb2
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.demo_agent.server import LoopbackServer
from services.push import MAX_BODY_BYTES, PER_MINUTE, JwtVerifier, PushReceiver
from services.runtime import SessionRuntime
from services.store import Limits, PushConfig, Store, StoreError
from services.store.opener import StoreConfig, StoreSlot
from services.store.tables import metadata, push_configs, push_deliveries
from tests.browser import app_server
from tests.postgres import (  # noqa: F401 - imported for pytest, which finds them by name
    database_url_fixture,
    postgres_fixture,
    postgres_url_fixture,
)

ALICE, BOB = "browser-alice", "browser-bob"
AGENT = "http://agent.example/"
TASK = "task-1"
STATUS_UPDATE = {
    "statusUpdate": {
        "taskId": TASK,
        "contextId": "ctx-1",
        "status": {"state": "TASK_STATE_WORKING"},
    }
}
AUDIENCE = "https://app.example/a2a/push"


def _task(state: str = "TASK_STATE_COMPLETED", task_id: str = TASK) -> dict[str, Any]:
    return {"task": {"id": task_id, "contextId": "ctx-1", "status": {"state": state}}}


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


@contextmanager
def serving(
    source: Store | Callable[[], Store | None], **options: Any
) -> Iterator[tuple[httpx.Client, PushReceiver]]:
    """The receiver under uvicorn on loopback, and a client for it."""
    receiver = PushReceiver(source, **options)
    with (
        LoopbackServer(lambda _url: Starlette(routes=receiver.routes())) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client, receiver


def post(
    client: httpx.Client,
    config_id: str,
    body: Any = None,
    *,
    token: str | None = None,
    header: str = "X-A2A-Notification-Token",
    jwt_token: str | None = None,
    content: bytes | Iterator[bytes] | None = None,
) -> httpx.Response:
    headers = {header: token} if token is not None else {}
    if jwt_token is not None:
        headers["Authorization"] = f"Bearer {jwt_token}"
    if content is not None:
        return client.post(f"/a2a/push/{config_id}", content=content, headers=headers)
    return client.post(f"/a2a/push/{config_id}", json=body, headers=headers)


def _all_deliveries(store: Store) -> int:
    return sum(len(store.deliveries(w, limit=1_000)) for w in (ALICE, BOB))


def refused(response: httpx.Response, status: int, error: str, store: Store) -> None:
    """A refusal: its status, its fixed body, and nothing stored anywhere."""
    assert response.status_code == status, response.text
    assert response.json() == {"error": error}
    assert _all_deliveries(store) == 0


# --- storage -------------------------------------------------------------------------------


def test_the_push_tables_and_their_indexes_are_the_ones_tables_py_declares(
    store: Store, database_url: str
) -> None:
    engine = sqlalchemy.create_engine(database_url)
    try:
        inspector = sqlalchemy.inspect(engine)
        for table in (push_configs, push_deliveries):
            assert table.name in metadata.tables
            found = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name)}
            declared = {i.name: [c.name for c in i.columns] for i in table.indexes}
            assert found == declared, table.name
    finally:
        engine.dispose()


def test_a_config_keeps_a_hash_of_its_token_and_belongs_to_its_workspace(store: Store) -> None:
    config, token = store.create_push_config(ALICE, AGENT, TASK)
    assert len(config.id) >= 16 and len(token) >= 40 and token not in repr(config)
    assert config.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    found = store.push_config(config.id)
    assert found == config and found.accepts(token)
    assert not found.accepts(token + "x") and not found.accepts("") and not found.accepts(None)
    assert store.push_configs(ALICE) == [config] and store.push_configs(BOB) == []
    assert store.push_configs(ALICE, task_id="other") == []
    assert store.push_config("not an id!") is None and store.push_config("x" * 22) is None

    assert not store.delete_push_config(BOB, config.id)  # only its owner deletes it
    assert store.push_config(config.id) == config
    assert store.delete_push_config(ALICE, config.id)
    assert store.push_config(config.id) is None


def test_a_workspace_holds_a_bounded_number_of_configs(database_url: str) -> None:
    bounded = Store(database_url, limits=Limits(push_configs=2))
    try:
        bounded.create_push_config(ALICE, AGENT)
        bounded.create_push_config(ALICE, AGENT)
        with pytest.raises(StoreError, match="limit of 2 push notification configs"):
            bounded.create_push_config(ALICE, AGENT)
        bounded.create_push_config(BOB, AGENT)  # another workspace has its own
    finally:
        bounded.close()


def _record(store: Store, config: PushConfig, n: int, task_id: str = TASK) -> int:
    delivery = store.record_delivery(
        config, task_id=task_id, kind="task", state="working", verified=False, body=f'{{"n":{n}}}'
    )
    assert delivery is not None
    return delivery


def test_deliveries_come_newest_first_by_workspace_task_and_since(store: Store) -> None:
    mine, _ = store.create_push_config(ALICE, AGENT)
    theirs, _ = store.create_push_config(BOB, AGENT)
    ids = [_record(store, mine, n, task_id=f"task-{n % 2}") for n in range(6)]
    _record(store, theirs, 99)
    assert [d.id for d in store.deliveries(ALICE)] == ids[::-1]
    assert [d.id for d in store.deliveries(ALICE, "task-1")] == [ids[5], ids[3], ids[1]]
    assert [d.id for d in store.deliveries(ALICE, since=ids[3])] == [ids[5], ids[4]]
    assert [d.id for d in store.deliveries(ALICE, limit=2)] == [ids[5], ids[4]]
    assert [d.body for d in store.deliveries(BOB)] == ['{"n":99}']


def test_each_config_keeps_its_newest_deliveries_only(database_url: str) -> None:
    capped = Store(database_url, limits=Limits(push_deliveries=5, push_bytes=10_000))
    try:
        flooded, _ = capped.create_push_config(ALICE, AGENT)
        quiet, _ = capped.create_push_config(ALICE, AGENT)
        kept_quiet = _record(capped, quiet, 0)
        ids = [_record(capped, flooded, n) for n in range(12)]
        of_flooded = [d.id for d in capped.deliveries(ALICE) if d.config_id == flooded.id]
        assert of_flooded == ids[::-1][:5]  # the newest five; the oldest dropped
        assert [d.id for d in capped.deliveries(ALICE) if d.config_id == quiet.id] == [kept_quiet]

        big = "x" * 4_000  # and at most 10,000 bytes of them: the newest two of these
        for _ in range(3):
            capped.record_delivery(
                flooded, task_id=TASK, kind="task", state="", verified=False, body=big
            )
        assert [len(d.body) for d in capped.deliveries(ALICE) if d.config_id == flooded.id] == [
            4_000,
            4_000,
        ]
    finally:
        capped.close()


def test_forgetting_a_workspace_deletes_its_configs_and_deliveries_only(store: Store) -> None:
    mine, my_token = store.create_push_config(ALICE, AGENT, TASK)
    theirs, _ = store.create_push_config(BOB, AGENT, TASK)
    _record(store, mine, 1)
    _record(store, theirs, 2)
    store.forget(ALICE).result(timeout=10)
    assert store.push_configs(ALICE) == [] and store.deliveries(ALICE) == []
    assert store.push_config(mine.id) is None
    assert store.push_configs(BOB) == [theirs] and len(store.deliveries(BOB)) == 1
    with serving(store) as (client, _):  # and its webhook is gone
        response = post(client, mine.id, _task(), token=my_token)
        assert response.status_code == 404 and response.json() == {"error": "not found"}


# --- the receiver's answers ----------------------------------------------------------------


def test_a_delivery_is_stored_in_the_workspace_owning_the_config_only(store: Store) -> None:
    mine, my_token = store.create_push_config(ALICE, AGENT, TASK)
    theirs, their_token = store.create_push_config(BOB, AGENT, TASK)
    with serving(store) as (client, _):
        response = post(client, mine.id, STATUS_UPDATE, token=my_token)
        assert response.status_code == 200 and response.json() == {"ok": True}
        response = post(client, mine.id, _task(), token=my_token)
        assert response.status_code == 200
        # Bob's token does not open Alice's webhook, nor Alice's Bob's.
        assert post(client, mine.id, _task(), token=their_token).status_code == 401
        assert post(client, theirs.id, _task(), token=my_token).status_code == 401
    latest, first = store.deliveries(ALICE)
    assert (first.kind, first.task_id, first.state, first.verified) == (
        "status-update",
        TASK,
        "working",
        False,
    )
    assert json.loads(first.body) == STATUS_UPDATE  # as received
    assert (latest.kind, latest.state, latest.config_id) == ("task", "completed", mine.id)
    assert store.deliveries(BOB) == []


def test_a2a_go_s_header_name_is_accepted(store: Store) -> None:
    config, token = store.create_push_config(ALICE, AGENT, TASK)
    with serving(store) as (client, _):
        response = post(client, config.id, _task(), token=token, header="A2A-Notification-Token")
    assert response.status_code == 200
    assert len(store.deliveries(ALICE)) == 1


def test_an_a2a_0_3_task_body_is_read_with_its_state(store: Store) -> None:
    config, token = store.create_push_config(ALICE, AGENT)  # made before the task was
    body = {"kind": "task", "id": "task-9", "contextId": "c", "status": {"state": "completed"}}
    with serving(store) as (client, _):
        assert post(client, config.id, body, token=token).status_code == 200
    (delivery,) = store.deliveries(ALICE, "task-9")
    assert (delivery.kind, delivery.state) == ("task", "completed")


def test_an_unknown_config_is_404(store: Store) -> None:
    _config, token = store.create_push_config(ALICE, AGENT, TASK)
    with serving(store) as (client, _):
        refused(post(client, "A" * 22, _task(), token=token), 404, "not found", store)
        refused(post(client, "bad%20id", _task(), token=token), 404, "not found", store)


def test_a_wrong_or_missing_token_is_401(store: Store) -> None:
    config, token = store.create_push_config(ALICE, AGENT, TASK)
    with serving(store) as (client, _):
        refused(post(client, config.id, _task(), token=token[:-1]), 401, "unauthorized", store)
        refused(post(client, config.id, _task(), token="x" * 5_000), 401, "unauthorized", store)
        refused(post(client, config.id, _task()), 401, "unauthorized", store)


def test_a_body_over_1_mb_by_content_length_is_413(store: Store) -> None:
    config, token = store.create_push_config(ALICE, AGENT, TASK)
    padded = json.dumps({**_task(), "pad": "x" * MAX_BODY_BYTES}).encode()
    with serving(store) as (client, _):
        response = post(client, config.id, content=padded, token=token)
        refused(response, 413, "too large", store)
        assert "content-length" in response.request.headers


def test_a_chunked_body_over_1_mb_is_413_when_its_bytes_are_counted(store: Store) -> None:
    config, token = store.create_push_config(ALICE, AGENT, TASK)
    head = json.dumps(_task())[:-1].encode() + b', "pad": "'
    pad = MAX_BODY_BYTES + 1 - len(head)  # one byte over, with no Content-Length to say so

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(0, pad, 65_536):
            yield b"x" * min(65_536, pad - start)

    with serving(store) as (client, _):
        response = post(client, config.id, content=chunks(), token=token)
        refused(response, 413, "too large", store)
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        just_under = head + b"x" * (MAX_BODY_BYTES - len(head) - 2) + b'"}'
        assert len(just_under) == MAX_BODY_BYTES
        response = post(client, config.id, content=iter([just_under]), token=token)
        assert response.status_code == 200  # 1 MB exactly is accepted


def _asgi_post(
    runtime: SessionRuntime, app: ASGIApp, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, int]:
    """One request straight to the ASGI app: its status, and how many chunks it read."""
    pulled = 0
    status = 0

    async def receive() -> Message:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1], "more_body": True}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def call(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    runtime.call(call, app, scope, receive, send)
    return status, pulled


def test_the_body_is_never_read_past_the_limit(sqlite_store: Store, runtime: SessionRuntime):
    config, token = sqlite_store.create_push_config(ALICE, AGENT, TASK)
    app = Starlette(routes=PushReceiver(sqlite_store).routes())
    path, auth = f"/a2a/push/{config.id}", {"x-a2a-notification-token": token}
    chunk = b"x" * 65_536
    endless = [chunk] * 200  # 13 MB on offer
    status, pulled = _asgi_post(runtime, app, path, auth, endless)
    assert status == 413 and pulled == MAX_BODY_BYTES // len(chunk) + 1  # 17: 1 MB + 1 chunk
    # A Content-Length over the limit is refused before a byte is read.
    status, pulled = _asgi_post(
        runtime, app, path, {**auth, "content-length": str(MAX_BODY_BYTES + 1)}, endless
    )
    assert (status, pulled) == (413, 0)
    # And nothing is read from a request without the token.
    status, pulled = _asgi_post(runtime, app, path, {}, endless)
    assert (status, pulled) == (401, 0)
    assert sqlite_store.deliveries(ALICE) == []


@pytest.mark.parametrize(
    "content",
    [b"not json", b"\xff\xfe", b'{"task": 3}', b"[1, 2]", b'"text"', b"{}", b'{"foo": 1}'],
    ids=["text", "not-utf8", "wrong-type", "array", "string", "empty", "unknown-object"],
)
def test_a_body_that_is_not_a_stream_response_or_task_is_400(
    sqlite_store: Store, content: bytes
) -> None:
    config, token = sqlite_store.create_push_config(ALICE, AGENT)
    with serving(sqlite_store) as (client, _):
        refused(
            post(client, config.id, content=content, token=token), 400, "bad request", sqlite_store
        )


def test_a_config_made_for_one_task_refuses_another_s(sqlite_store: Store) -> None:
    config, token = sqlite_store.create_push_config(ALICE, AGENT, TASK)
    with serving(sqlite_store) as (client, _):
        response = post(client, config.id, _task(task_id="task-2"), token=token)
        refused(response, 400, "bad request", sqlite_store)


def test_a_flood_is_429_after_120_a_minute_and_the_window_slides(store: Store) -> None:
    config, token = store.create_push_config(ALICE, AGENT, TASK)
    other, other_token = store.create_push_config(BOB, AGENT, TASK)
    now = [1_000.0]
    with serving(store, clock=lambda: now[0]) as (client, _):
        started = time.monotonic()
        for _ in range(PER_MINUTE):
            assert post(client, config.id, STATUS_UPDATE, token=token).status_code == 200
        response = post(client, config.id, STATUS_UPDATE, token=token)
        assert response.status_code == 429 and response.json() == {"error": "too many"}
        assert response.headers["retry-after"] == "60"
        assert time.monotonic() - started < 30
        assert post(client, other.id, STATUS_UPDATE, token=other_token).status_code == 200
        now[0] += 30
        response = post(client, config.id, STATUS_UPDATE, token=token)
        assert response.status_code == 429 and response.headers["retry-after"] == "30"
        now[0] += 30.5  # the first 120 have left the window
        assert post(client, config.id, STATUS_UPDATE, token=token).status_code == 200
    assert len(store.deliveries(ALICE, limit=1_000)) == PER_MINUTE + 1


def test_no_store_yet_is_503_and_the_store_opens_on_first_use(tmp_path: Path) -> None:
    with serving(lambda: None) as (client, _):
        response = post(client, "A" * 22, _task(), token="t")
        assert response.status_code == 503 and response.json() == {"error": "unavailable"}
        assert response.headers["retry-after"] == "30"

    url = f"sqlite:///{tmp_path / 'data' / 'workspace.db'}"  # its folder does not exist yet
    slot = StoreSlot()
    with serving(lambda: slot.open(lambda: StoreConfig(url))) as (client, _):
        assert slot.store is None
        response = post(client, "A" * 22, _task(), token="t")
        assert response.status_code == 404  # the store opened, the config is not in it
        assert slot.store is not None
        config, token = slot.store.create_push_config(ALICE, AGENT, TASK)
        assert post(client, config.id, _task(), token=token).status_code == 200
    assert len(slot.store.deliveries(ALICE)) == 1
    slot.close()


def test_a_config_deleted_while_a_delivery_is_on_its_way_stores_nothing(store: Store) -> None:
    config, _token = store.create_push_config(ALICE, AGENT, TASK)
    assert store.delete_push_config(ALICE, config.id)
    assert (
        store.record_delivery(
            config, task_id=TASK, kind="task", state="", verified=False, body="{}"
        )
        is None
    )
    assert store.deliveries(ALICE) == []


def test_the_token_is_never_stored_or_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "store.db"
    store = Store(f"sqlite:///{path}")
    try:
        config, token = store.create_push_config(ALICE, AGENT, TASK)
        echoed = {**_task(), "metadata": {"echo": token, "marker": "body-marker-8731"}}
        with serving(store) as (client, _):
            assert post(client, config.id, echoed, token=token).status_code == 200
            assert post(client, config.id, _task(), token=token[:-2]).status_code == 401
            assert post(client, config.id, content=b"nope", token=token).status_code == 400
            assert post(client, "B" * 22, _task(), token=token).status_code == 404
        (delivery,) = store.deliveries(ALICE)
        assert token not in delivery.body and "[redacted]" in delivery.body
        assert store.flush()
    finally:
        store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
    assert b"body-marker-8731" in stored  # the body is there, the token is not
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert f"push {config.id}: 401" in caplog.text
    assert token not in logged and token[:-2] not in logged
    assert "body-marker-8731" not in logged and "nope" not in logged


# --- JWTs ----------------------------------------------------------------------------------


class Jwks:
    """A JWKS served on loopback (counting its fetches), and keys to sign with."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.stranger = ec.generate_private_key(ec.SECP256R1())  # not in the set
        public = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.document = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "ES256"}]}
        self.fetches = 0

        async def jwks(_request: Request) -> JSONResponse:
            self.fetches += 1
            return JSONResponse(self.document)

        self.server = LoopbackServer(lambda _url: Starlette(routes=[Route("/jwks.json", jwks)]))
        self.url = f"{self.server.url}/jwks.json"

    def sign(
        self, claims: dict[str, Any] | None = None, *, key: Any = None, kid: str = "k1"
    ) -> str:
        now = int(time.time())
        payload = {"aud": AUDIENCE, "iat": now, "exp": now + 60} if claims is None else claims
        return jwt.encode(payload, key or self.key, algorithm="ES256", headers={"kid": kid})


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    served = Jwks()
    yield served
    served.server.stop()


def test_a_verified_jwt_is_recorded_and_the_jwks_is_fetched_once(
    sqlite_store: Store, jwks: Jwks
) -> None:
    config, token = sqlite_store.create_push_config(
        ALICE, AGENT, TASK, jwks_url=jwks.url, jwt_audience=AUDIENCE, require_jwt=True
    )
    before = jwks.fetches
    with serving(sqlite_store) as (client, _):
        for _ in range(3):
            response = post(client, config.id, _task(), token=token, jwt_token=jwks.sign())
            assert response.status_code == 200, response.text
    assert jwks.fetches - before == 1  # cached
    assert [d.verified for d in sqlite_store.deliveries(ALICE)] == [True] * 3


def test_a_config_that_requires_a_jwt_refuses_a_bad_or_missing_one(
    sqlite_store: Store, jwks: Jwks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config, token = sqlite_store.create_push_config(
        ALICE, AGENT, TASK, jwks_url=jwks.url, jwt_audience=AUDIENCE, require_jwt=True
    )
    now = int(time.time())
    bad = {
        "missing": None,
        "not a JWT": "not.a.jwt",
        "another key": jwks.sign(key=jwks.stranger),
        "unknown kid": jwks.sign(kid="k9"),
        "expired": jwks.sign({"aud": AUDIENCE, "iat": now - 600, "exp": now - 300}),
        "wrong audience": jwks.sign({"aud": "https://elsewhere.example", "exp": now + 60}),
        "no exp, old iat": jwks.sign({"aud": AUDIENCE, "iat": now - 3_600}),
        "no exp, no iat": jwks.sign({"aud": AUDIENCE}),
        "HMAC": jwt.encode({"aud": AUDIENCE, "exp": now + 60}, "k" * 32, algorithm="HS256"),
        "unsigned": jwt.encode({"aud": AUDIENCE, "exp": now + 60}, None, algorithm="none"),
        "other body": jwks.sign(
            {"aud": AUDIENCE, "iat": now, "request_body_sha256": hashlib.sha256(b"{}").hexdigest()}
        ),
    }
    with serving(sqlite_store) as (client, _):
        for name, jwt_token in bad.items():
            response = post(client, config.id, _task(), token=token, jwt_token=jwt_token)
            assert response.status_code == 401, name
            assert response.json() == {"error": "unauthorized"}
    assert sqlite_store.deliveries(ALICE) == []
    for jwt_token in bad.values():
        assert jwt_token is None or jwt_token not in caplog.text


def test_the_a2a_samples_jwt_with_iat_and_the_body_hash_is_verified(
    sqlite_store: Store, jwks: Jwks
) -> None:
    config, token = sqlite_store.create_push_config(
        ALICE, AGENT, TASK, jwks_url=jwks.url, require_jwt=True
    )
    body = _task()
    compact = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    signed = jwks.sign(
        {
            "iat": int(time.time()),
            "request_body_sha256": hashlib.sha256(compact.encode()).hexdigest(),
        }
    )
    with serving(sqlite_store) as (client, _):
        # httpx writes `json=` with other spacing: the compact form is what is hashed.
        response = post(client, config.id, content=json.dumps(body).encode(), token=token,
                        jwt_token=signed)  # fmt: skip
        assert response.status_code == 200, response.text
    assert [d.verified for d in sqlite_store.deliveries(ALICE)] == [True]


def test_a_config_that_does_not_require_a_jwt_records_a_bad_one_as_unverified(
    sqlite_store: Store, jwks: Jwks
) -> None:
    config, token = sqlite_store.create_push_config(
        ALICE, AGENT, TASK, jwks_url=jwks.url, jwt_audience=AUDIENCE
    )
    with serving(sqlite_store) as (client, _):
        assert post(client, config.id, _task(), token=token).status_code == 200
        forged = jwks.sign(key=jwks.stranger)
        assert post(client, config.id, _task(), token=token, jwt_token=forged).status_code == 200
        good = jwks.sign()
        assert post(client, config.id, _task(), token=token, jwt_token=good).status_code == 200
    assert [d.verified for d in sqlite_store.deliveries(ALICE)] == [True, False, False]


def test_an_unreachable_jwks_fails_a_required_jwt_and_is_not_refetched_at_once(
    sqlite_store: Store, jwks: Jwks
) -> None:
    with LoopbackServer(lambda _url: Starlette()) as gone:
        dead = f"{gone.url}/jwks.json"
    config, token = sqlite_store.create_push_config(
        ALICE, AGENT, TASK, jwks_url=dead, require_jwt=True
    )
    verifier = JwtVerifier(timeout=1.0)
    with serving(sqlite_store, verifier=verifier) as (client, _):
        started = time.monotonic()
        for _ in range(3):
            response = post(client, config.id, _task(), token=token, jwt_token=jwks.sign())
            assert response.status_code == 401
        assert time.monotonic() - started < 3  # one failed fetch, remembered for 30 s
    assert sqlite_store.deliveries(ALICE) == []


# --- with the agent's own sender, and in the real app ---------------------------------------


def test_a2a_sdk_s_push_sender_delivers_to_the_receiver(
    sqlite_store: Store, runtime: SessionRuntime
) -> None:
    config, token = sqlite_store.create_push_config(ALICE, AGENT, TASK)
    with serving(sqlite_store) as (client, _):
        url = f"{client.base_url}/a2a/push/{config.id}"

        async def send() -> None:
            configs = InMemoryPushNotificationConfigStore()
            push = a2a_pb2.TaskPushNotificationConfig(id="p1", url=url, token=token)
            await configs.set_info(TASK, push, ServerCallContext())
            async with httpx.AsyncClient() as http:
                sender = BasePushNotificationSender(http, configs)
                status = a2a_pb2.TaskStatus(state=a2a_pb2.TaskState.TASK_STATE_COMPLETED)
                await sender.send_notification(
                    TASK, a2a_pb2.Task(id=TASK, context_id="ctx-1", status=status)
                )
                update = a2a_pb2.TaskStatusUpdateEvent(
                    task_id=TASK,
                    context_id="ctx-1",
                    status=a2a_pb2.TaskStatus(state=a2a_pb2.TaskState.TASK_STATE_WORKING),
                )
                await sender.send_notification(TASK, update)

        runtime.call(send)
    kinds = [(d.kind, d.state) for d in sqlite_store.deliveries(ALICE)]
    assert kinds == [("status-update", "working"), ("task", "completed")]


def test_the_app_serves_the_route_on_streamlit_s_port(tmp_path: Path) -> None:
    # The store is the app's own file; the config is made here, as a session of the app
    # would, before any session ran in the server: the route opens the store itself.
    data = tmp_path / "data"
    data.mkdir()
    store = Store(f"sqlite:///{data / 'workspace.db'}")
    try:
        config, token = store.create_push_config(ALICE, AGENT, TASK)
        with app_server(tmp_path) as server, httpx.Client(base_url=server.url) as client:
            assert client.get("/_stcore/health").status_code == 200
            response = post(client, config.id, _task(), token=token)
            assert response.status_code == 200, response.text
            assert post(client, config.id, _task(), token="wrong").status_code == 401
            assert post(client, "C" * 22, _task(), token=token).status_code == 404
            # Only POST is the receiver's: a GET falls through to Streamlit's page.
            assert "text/html" in client.get(f"/a2a/push/{config.id}").headers["content-type"]
            page = httpx.get(f"{server.url}/")  # a first visit: no cookie yet
            assert page.status_code == 200 and "a2a_workspace=" in page.headers["set-cookie"]
            log = server.log()
        (delivery,) = store.deliveries(ALICE)
        assert delivery.state == "completed"
        assert token not in log
    finally:
        store.close()


def test_the_rate_window_is_bounded_in_memory() -> None:
    from services.push.receiver import _MAX_TRACKED, _Window

    window = _Window(3, lambda: 0.0)
    for n in range(_MAX_TRACKED + 500):
        assert window.admit(f"config-{n}") == 0.0
    assert len(window._times) == _MAX_TRACKED  # the least recent dropped
    assert [window.admit("config-x") for _ in range(4)][-1] == 60.0
    assert all(len(times) <= 3 for times in window._times.values())
