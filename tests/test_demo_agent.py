"""The demo agent's files, data, auth, extended card and task methods, end to end.

Every test serves `build_app` on loopback and talks to it through the real a2a-sdk
client (JSON-RPC, and the HTTP+JSON binding at `/rest` where it matters): no mocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest
from a2a.client import (
    A2ACardResolver,
    A2AClientError,
    AuthInterceptor,
    Client,
    ClientConfig,
    CredentialService,
    create_client,
)
from a2a.client.client import ClientCallContext
from a2a.helpers.proto_helpers import new_raw_part, new_text_part, new_url_part
from a2a.types.a2a_pb2 import (
    AgentCard,
    Artifact,
    CancelTaskRequest,
    GetExtendedAgentCardRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette

from services.demo_agent import (
    DemoAuth,
    DemoTiming,
    LoopbackServer,
    build_agent_card,
    build_app,
    build_extended_agent_card,
    chart_png,
)
from services.demo_agent.scenarios import ROUTING, SCENARIOS, route
from tests.conftest import FAST

pytestmark = pytest.mark.timeout(60)

JSONRPC = "JSONRPC"
REST = "HTTP+JSON"
BINDINGS = [JSONRPC, REST]
TOKEN = "tok-demo-5f1c9a"
API_KEY = "key-demo-77e2b0"
# The slow task, but quick: 20 steps a second, long enough to subscribe and cancel.
SLOW = DemoTiming(token_delay=0.002, step_delay=0.02, slow_interval=0.05, slow_chunks=400)
DEADLINE = 20.0  # seconds for any one test's client work

T = TypeVar("T")


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run the client side of a test on a fresh event loop, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(work(), DEADLINE)

    return asyncio.run(bounded())


def path_spy(factory: Callable[[str], Any], seen: list[str]) -> Callable[[str], Any]:
    """Wrap an app factory so the method and path of every HTTP request land in `seen`."""

    def wrapped(base_url: str) -> Any:
        app = factory(base_url)

        async def spy(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append(f"{scope['method']} {scope['path']}")
            await app(scope, receive, send)

        return spy

    return wrapped


@pytest.fixture(scope="module")
def agent() -> Iterator[LoopbackServer]:
    with LoopbackServer(lambda url: build_app(url, FAST)) as server:
        yield server


@pytest.fixture(scope="module")
def guarded() -> Iterator[LoopbackServer]:
    auth = DemoAuth(bearer_token=TOKEN, api_key=API_KEY)
    with LoopbackServer(lambda url: build_app(url, FAST, auth=auth)) as server:
        yield server


class StaticCredentials(CredentialService):
    """Hands the SDK's AuthInterceptor fixed credentials per scheme name."""

    def __init__(self, **by_scheme: str) -> None:
        self.by_scheme = by_scheme

    async def get_credentials(
        self, security_scheme_name: str, context: ClientCallContext | None
    ) -> str | None:
        return self.by_scheme.get(security_scheme_name)


@asynccontextmanager
async def connect(
    url: str, binding: str = JSONRPC, *, streaming: bool = True, **credentials: str
) -> AsyncIterator[Client]:
    """A client from the agent's public card; `credentials` go through AuthInterceptor,
    so they reach the agent only the way the card's security schemes say."""
    config = ClientConfig(streaming=streaming, supported_protocol_bindings=[binding])
    interceptors = [AuthInterceptor(StaticCredentials(**credentials))] if credentials else None
    client = await create_client(url, config, interceptors=interceptors)
    try:
        yield client
    finally:
        await client.close()


def user_message(*parts: Part, context_id: str = "", task_id: str = "") -> SendMessageRequest:
    message = Message(
        role=Role.ROLE_USER,
        message_id=f"msg-{hashlib.sha256(repr(parts).encode()).hexdigest()[:8]}-{context_id}",
        parts=list(parts),
        context_id=context_id,
        task_id=task_id,
    )
    return SendMessageRequest(message=message)


def say(text: str, context_id: str = "") -> SendMessageRequest:
    return user_message(new_text_part(text), context_id=context_id)


def task_id_of(event: StreamResponse) -> str:
    kind = event.WhichOneof("payload")
    if kind == "task":
        return event.task.id
    if kind in ("status_update", "artifact_update"):
        return str(getattr(event, kind).task_id)
    return ""


async def final_task(client: Client, request: SendMessageRequest) -> Task:
    """Send `request` (streaming or not) and return the task as the agent stored it."""
    task_id = ""
    async for event in client.send_message(request):
        task_id = task_id or task_id_of(event)
    return await client.get_task(GetTaskRequest(id=task_id))


def artifact_named(task: Task, name: str) -> Artifact:
    return next(a for a in task.artifacts if a.name == name)


def png_size(data: bytes) -> tuple[int, int]:
    """Check `data` is a well-formed PNG (signature, chunk CRCs, inflatable IDAT)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks[kind] = chunks.get(kind, b"") + body
        offset += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 2)  # 8-bit RGB
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert b"IEND" in chunks
    return width, height


# --- files in ----------------------------------------------------------------------


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "send"])
def test_files_come_back_byte_for_byte_with_a_summary(agent, binding, streaming):
    png = chart_png({"a": 3, "b": 1}, width=16, height=8) + bytes(range(256))  # any bytes
    csv = b"region,q1\nNorth,120\n\xe2\x82\xac,0\r\n"  # UTF-8 and CRLF survive too
    request = user_message(
        new_text_part("Two files and a link for you"),
        new_raw_part(png, media_type="image/png", filename="pic.png"),
        new_raw_part(csv, media_type="text/csv", filename="data.csv"),
        new_url_part("https://example.invalid/doc.pdf", "application/pdf", "doc.pdf"),
    )

    async def work() -> Task:
        async with connect(agent.url, binding, streaming=streaming) as client:
            return await final_task(client, request)

    task = run(work)
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert [a.name for a in task.artifacts] == ["received", "pic.png", "data.csv"]
    for name, sent, media_type in (("pic.png", png, "image/png"), ("data.csv", csv, "text/csv")):
        (part,) = artifact_named(task, name).parts
        assert part.raw == sent
        assert (part.filename, part.media_type) == (name, media_type)

    summary = artifact_named(task, "received").parts[0].text
    digest = hashlib.sha256(png).hexdigest()[:12]
    assert f"**pic.png** · image/png · {len(png):,} bytes · sha256 {digest}" in summary
    assert f"**data.csv** · text/csv · {len(csv)} bytes" in summary
    assert "**doc.pdf** · application/pdf · link https://example.invalid/doc.pdf" in summary
    assert "not fetched" in summary
    assert "Two files and a link for you" in summary


def test_the_card_accepts_files(agent):
    card = run(lambda: _card(agent.url))
    assert set(card.default_input_modes) >= {
        "text/plain",
        "image/png",
        "image/jpeg",
        "text/csv",
        "application/json",
        "application/pdf",
    }
    assert not card.capabilities.extended_agent_card  # offered only when auth is set up
    assert any(s.id == "chart" and "Draw a chart image" in s.examples for s in card.skills)


async def _card(url: str) -> AgentCard:
    """The public card, fetched without credentials."""
    async with httpx.AsyncClient() as http:
        return await A2ACardResolver(http, url).get_agent_card()


# --- files and data out ------------------------------------------------------------


def test_the_chart_scenario_returns_a_png_a_served_url_and_json(agent):
    async def work() -> tuple[Task, list[str], httpx.Response]:
        async with connect(agent.url) as client:
            events = [e async for e in client.send_message(say("Draw a chart image"))]
            chart = await client.get_task(GetTaskRequest(id=task_id_of(events[0])))
        kinds = [e.WhichOneof("payload") for e in events]
        url_part = artifact_named(chart, "readme.txt").parts[0]
        async with httpx.AsyncClient() as http:
            fetched = await http.get(url_part.url)
        return chart, kinds, fetched

    task, kinds, fetched = run(work)
    assert kinds[0] == "task" and kinds.count("artifact_update") == 3
    assert task.status.state == TaskState.TASK_STATE_COMPLETED

    (png,) = artifact_named(task, "chart.png").parts
    assert (png.filename, png.media_type) == ("chart.png", "image/png")
    assert png_size(png.raw) == (64, 32)

    (link,) = artifact_named(task, "readme.txt").parts
    assert link.url == f"{agent.url}/files/readme.txt"
    assert (link.filename, link.media_type) == ("readme.txt", "text/plain")
    assert fetched.status_code == 200
    assert fetched.headers["content-type"].startswith("text/plain")
    assert "served by the demo agent" in fetched.text

    (data,) = artifact_named(task, "chart.json").parts
    value = MessageToDict(data.data)
    assert data.media_type == "application/json"
    assert isinstance(value, dict) and len(value) > 1  # not one key holding rows
    assert value["chart"]["size"] == {"width": 64, "height": 32, "unit": "px"}
    assert not any(isinstance(v, list) for v in value.values())


def test_the_png_is_deterministic():
    assert chart_png({"x": 1, "y": 2}) == chart_png({"x": 1, "y": 2})
    assert png_size(chart_png({"x": 1}, width=10, height=5)) == (10, 5)


# --- auth ----------------------------------------------------------------------------


def test_the_card_is_public_and_declares_both_schemes(guarded):
    async def work() -> tuple[AgentCard, httpx.Response]:
        async with httpx.AsyncClient() as http:
            readme = await http.get(f"{guarded.url}/files/readme.txt")
        return await _card(guarded.url), readme

    card, readme = run(work)
    bearer, api_key = card.security_schemes["bearer"], card.security_schemes["apiKey"]
    assert bearer.http_auth_security_scheme.scheme == "Bearer"
    assert api_key.api_key_security_scheme.location == "header"
    assert api_key.api_key_security_scheme.name == "X-API-Key"
    assert [list(r.schemes) for r in card.security_requirements] == [["bearer"], ["apiKey"]]
    assert readme.status_code == 200  # linked files stay public too


@pytest.mark.parametrize("binding", BINDINGS)
def test_without_credentials_a_message_gets_401(guarded, binding):
    async def work() -> None:
        async with connect(guarded.url, binding) as client:  # the card resolves
            with pytest.raises(A2AClientError, match="401"):
                async for _ in client.send_message(say("hello")):
                    pass
            with pytest.raises(A2AClientError, match="401"):
                await client.list_tasks(ListTasksRequest())

    run(work)


@pytest.mark.parametrize(
    "credentials",
    [{"bearer": TOKEN}, {"apiKey": API_KEY}],
    ids=["bearer", "api-key"],
)
@pytest.mark.parametrize("binding", BINDINGS)
def test_the_right_credential_works(guarded, binding, credentials):
    async def work() -> tuple[list[StreamResponse], Task]:
        async with connect(guarded.url, binding, **credentials) as client:
            events = [e async for e in client.send_message(say("hello, secure agent"))]
            task = await final_task(client, say("Show the admin report"))
            return events, task

    events, admin = run(work)
    assert "secure agent" in events[-1].message.parts[0].text
    report = artifact_named(admin, "admin-report").parts[0].text
    assert "Admin report" in report and "authenticated as `demo-user`" in report


@pytest.mark.parametrize(
    "credentials",
    [{"bearer": "wrong"}, {"apiKey": "wrong"}, {"bearer": API_KEY}],
    ids=["bearer", "api-key", "key-as-token"],
)
def test_a_wrong_credential_gets_401(guarded, credentials):
    async def work() -> None:
        async with connect(guarded.url, **credentials) as client:
            with pytest.raises(A2AClientError, match="401"):
                async for _ in client.send_message(say("hello")):
                    pass

    run(work)


def test_401_carries_a_json_error_and_a_challenge(guarded):
    async def work() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=guarded.url) as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}
            authorized = {"Authorization": f"Bearer {TOKEN}", "A2A-Version": "1.0"}
            return [
                await http.post("/", json=body),
                await http.post("/", json=body, headers={"Authorization": "Bearer nope"}),
                await http.get("/rest/tasks", headers={"X-API-Key": "nope"}),
                # The REST tenant mount must not open a way around the public paths.
                await http.get("/files/rest/tasks"),
                # Without A2A-Version the SDK assumes 0.3 and refuses ListTasks.
                await http.post("/", json=body, headers=authorized),
            ]

    missing, wrong_token, wrong_key, tenant, right = run(work)
    assert missing.status_code == 401
    assert missing.json() == {"error": "missing credentials"}
    challenge = missing.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'header="X-API-Key"' in challenge
    assert wrong_token.status_code == 401 and wrong_token.json() == {"error": "invalid credentials"}
    assert 'error="invalid_token"' in wrong_token.headers["www-authenticate"]
    assert wrong_key.status_code == 401 and wrong_key.json() == {"error": "invalid credentials"}
    assert tenant.status_code == 401
    assert right.status_code == 200 and "result" in right.json()


def test_demo_auth_needs_a_credential_and_hides_it():
    with pytest.raises(ValueError):
        DemoAuth()
    assert TOKEN not in repr(DemoAuth(bearer_token=TOKEN))


# --- the extended card -------------------------------------------------------------


@pytest.mark.parametrize("binding", BINDINGS)
def test_the_extended_card_adds_the_admin_skill(guarded, binding):
    async def work() -> tuple[AgentCard, AgentCard]:
        public = await _card(guarded.url)
        async with connect(guarded.url, binding, bearer=TOKEN) as client:
            extended = await client.get_extended_agent_card(GetExtendedAgentCardRequest())
            return public, extended

    public, extended = run(work)
    assert "admin" not in [s.id for s in public.skills]
    admin = next(s for s in extended.skills if s.id == "admin")
    assert (admin.name, list(admin.examples)) == ("Admin report", ["Show the admin report"])
    assert [s.id for s in extended.skills[:-1]] == [s.id for s in public.skills]
    assert len(extended.description) > len(public.description)
    assert extended.capabilities.extended_agent_card


def test_the_extended_card_needs_the_credential(guarded):
    async def work() -> AgentCard:
        async with connect(guarded.url) as client:
            with pytest.raises(A2AClientError, match="401"):
                await client.get_extended_agent_card(GetExtendedAgentCardRequest())
        async with connect(guarded.url, REST, apiKey=API_KEY) as client:
            return await client.get_extended_agent_card(GetExtendedAgentCardRequest())

    extended = run(work)
    assert "admin" in [s.id for s in extended.skills]
    assert "bearer" in extended.security_schemes
    assert run(lambda: _card(guarded.url)).capabilities.extended_agent_card


def test_the_admin_scenario_reports_runs(agent):
    async def work() -> Task:
        async with connect(agent.url) as client:
            await final_task(client, say("Generate a sales report", "ctx-admin"))
            return await final_task(client, say("Show the admin report", "ctx-admin"))

    task = run(work)
    report = artifact_named(task, "admin-report").parts[0].text
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert "anonymous" in report
    assert "| report |" in report and "| admin |" in report


# --- tasks -------------------------------------------------------------------------


@pytest.mark.parametrize("binding", BINDINGS)
def test_list_tasks_filters_by_context_and_status_and_pages(agent, binding):
    context_id = f"ctx-list-{binding}"

    async def work() -> dict[str, Any]:
        async with connect(agent.url, binding) as client:
            for text in ("Generate a sales report", "Make a task that fails", "Search for X"):
                await final_task(client, say(text, context_id))
            await final_task(client, say("Generate a sales report", "ctx-elsewhere"))
            first = await client.list_tasks(ListTasksRequest(context_id=context_id, page_size=2))
            second = await client.list_tasks(
                ListTasksRequest(
                    context_id=context_id, page_size=2, page_token=first.next_page_token
                )
            )
            failed = await client.list_tasks(
                ListTasksRequest(context_id=context_id, status=TaskState.TASK_STATE_FAILED)
            )
            one = await client.get_task(GetTaskRequest(id=failed.tasks[0].id, history_length=5))
            return {"first": first, "second": second, "failed": failed, "one": one}

    got = run(work)
    first, second = got["first"], got["second"]
    assert (len(first.tasks), first.total_size) == (2, 3) and first.next_page_token
    assert len(second.tasks) == 1 and not second.next_page_token
    ids = [t.id for t in [*first.tasks, *second.tasks]]
    assert len(set(ids)) == 3
    assert all(t.context_id == context_id for t in [*first.tasks, *second.tasks])
    assert [t.status.state for t in got["failed"].tasks] == [TaskState.TASK_STATE_FAILED]
    one = got["one"]
    assert one.history and one.history[0].role == Role.ROLE_USER
    assert one.history[0].parts[0].text == "Make a task that fails"


def _step(event: StreamResponse) -> int | None:
    """The step number of a slow-task progress chunk ("Step 7 of 400 done.")."""
    if event.WhichOneof("payload") != "artifact_update":
        return None
    return int(event.artifact_update.artifact.parts[0].text.split()[1])


@pytest.mark.parametrize("binding", BINDINGS)
def test_a_second_client_subscribes_to_a_running_task_and_cancels_it(binding):
    async def work() -> dict[str, Any]:
        async with connect(server.url, binding) as first, connect(server.url, binding) as second:
            started, original = asyncio.Event(), []

            async def read_original() -> None:
                async for event in first.send_message(say("Run a slow task", "ctx-slow")):
                    original.append(event)
                    if _step(event) == 3:
                        started.set()

            reader = asyncio.create_task(read_original())
            await started.wait()
            task_id = original[0].task.id
            seen_before = max(s for e in original if (s := _step(e)) is not None)

            subscribed: list[StreamResponse] = []
            async for event in second.subscribe(SubscribeToTaskRequest(id=task_id)):
                subscribed.append(event)
                if len([e for e in subscribed if _step(e)]) == 5:
                    break
            canceled = await second.cancel_task(CancelTaskRequest(id=task_id))
            await reader
            stored = await second.get_task(GetTaskRequest(id=task_id))
            return {
                "subscribed": subscribed,
                "seen_before": seen_before,
                "canceled": canceled,
                "original": original,
                "stored": stored,
            }

    with LoopbackServer(lambda url: build_app(url, SLOW)) as server:
        got = run(work)
    subscribed = got["subscribed"]
    # First the task as it stands, then the steps that happen after subscribing, live.
    assert subscribed[0].WhichOneof("payload") == "task"
    assert subscribed[0].task.status.state == TaskState.TASK_STATE_WORKING
    steps = [s for e in subscribed if (s := _step(e)) is not None]
    assert steps == list(range(steps[0], steps[0] + 5)) and steps[0] > got["seen_before"]
    assert steps[-1] < 400  # still running when canceled
    assert got["canceled"].status.state == TaskState.TASK_STATE_CANCELED
    last = got["original"][-1]
    assert last.status_update.status.state == TaskState.TASK_STATE_CANCELED
    assert got["stored"].status.state == TaskState.TASK_STATE_CANCELED


def test_the_rest_binding_streams_and_lists_at_rest(agent):
    seen: list[str] = []

    async def work() -> tuple[list[str], list[Task]]:
        async with connect(server.url, REST) as client:
            kinds = [
                e.WhichOneof("payload")
                async for e in client.send_message(say("Search for A2A news", "ctx-rest"))
            ]
            listed = await client.list_tasks(ListTasksRequest(context_id="ctx-rest"))
            return kinds, list(listed.tasks)

    with LoopbackServer(path_spy(lambda url: build_app(url, FAST), seen)) as server:
        kinds, tasks = run(work)
    assert kinds[0] == "task" and "artifact_update" in kinds
    assert [t.status.state for t in tasks] == [TaskState.TASK_STATE_COMPLETED]
    assert "POST /rest/message:stream" in seen and "GET /rest/tasks" in seen
    assert not any(p.startswith("POST / ") or p == "POST /" for p in seen)  # no JSON-RPC


# --- the scenarios' declarations ---------------------------------------------------


def test_keywords_route_in_their_declared_order():
    # The keyword table as it was before the scenarios had modules of their own, plus the
    # background job (issue 14), second so "Stream a background job" is not an explanation.
    assert [(k, s.name) for s in ROUTING for k in s.keywords] == [
        ("admin", "admin"),
        ("background job", "background"),
        ("long job", "background"),
        ("explain", "long"),
        ("stream", "long"),
        ("search", "search"),
        ("book", "trip"),
        ("trip", "trip"),
        ("slow", "slow"),
        ("fail", "fail"),
        ("image", "chart"),
        ("chart", "chart"),
        ("report", "report"),
    ]
    assert route("Show the admin report").name == "admin"
    assert route("Draw a chart image of the sales report").name == "chart"
    assert route("Stream a background job").name == "background"
    assert route("Start a long job").name == "background"
    assert route("hello there").name == "chat"


def test_the_card_advertises_every_scenario_and_routes_every_keyword():
    keyed = [s for s in SCENARIOS if s.keywords]
    assert set(ROUTING) == set(keyed) and len(ROUTING) == len(keyed)
    card = build_agent_card("http://127.0.0.1:1")
    extended = build_extended_agent_card(card)
    assert [s.id for s in card.skills] == [
        "explain",
        "search",
        "trip",
        "slow",
        "fail",
        "report",
        "memory",
        "chart",
        "background",
        "files",
    ]
    assert [s.id for s in extended.skills] == [s.skill.id for s in SCENARIOS]


def test_each_agent_keeps_its_own_scenario_state():
    async def work(first: str, second: str) -> str:
        async with connect(first) as client:
            await final_task(client, say("Generate a sales report"))
        async with connect(second) as client:
            task = await final_task(client, say("Show the admin report"))
        return artifact_named(task, "admin-report").parts[0].text

    with (
        LoopbackServer(lambda url: build_app(url, FAST)) as one,
        LoopbackServer(lambda url: build_app(url, FAST)) as two,
    ):
        report = run(lambda: work(one.url, two.url))
    assert "| admin | 1 |" in report and "| report |" not in report


def test_a_failed_start_leaves_no_thread_behind():
    @asynccontextmanager
    async def broken(_app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no start-up today")
        yield

    with pytest.raises(RuntimeError, match="did not start"):
        LoopbackServer(lambda url: Starlette(lifespan=broken), thread_name="broken", lifespan=True)
    with pytest.raises(ValueError, match="no app"):
        LoopbackServer(_no_app, thread_name="no-app")
    assert not {"broken", "no-app"} & {t.name for t in threading.enumerate()}


def _no_app(url: str) -> Starlette:
    raise ValueError("no app")


class _Interrupted(Exception):
    """Stands in for Ctrl-C arriving while the constructor waits for uvicorn."""


def test_a_start_interrupted_while_waiting_stops_its_thread(monkeypatch):
    real_sleep = time.sleep

    def interrupted(seconds: float) -> None:
        if threading.current_thread() is threading.main_thread():
            raise _Interrupted
        real_sleep(seconds)

    @asynccontextmanager
    async def slow(_app: Starlette) -> AsyncIterator[None]:
        await asyncio.sleep(0.5)  # still starting when the wait is interrupted
        yield

    monkeypatch.setattr(time, "sleep", interrupted)
    # pytest.raises keeps the traceback, and with it the half-built server: its thread
    # must stop anyway, not whenever the garbage collector gets to it.
    with pytest.raises(_Interrupted) as raised:
        LoopbackServer(lambda url: Starlette(lifespan=slow), thread_name="waiting", lifespan=True)
    monkeypatch.undo()
    assert "waiting" not in {t.name for t in threading.enumerate()}
    assert raised.traceback  # still held here, and the server's frame with it
