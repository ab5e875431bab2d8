"""The protocol run: each A2A operation the card promises, called once per binding.

`run_protocol_checks` reads the card, then for every binding the card declares that this
app can use (JSON-RPC, HTTP+JSON, gRPC) sends a message, streams one, reads, lists and cancels
tasks, provokes the errors the spec names, fetches the extended card, and compares what
the card claims with what the agent did. Every call is one inspector record, so each
`Check` points at the exchange that shows it. The run is bounded: at most `max_requests`
HTTP requests or gRPC calls and `timeout` seconds in all; what is left over is skipped
with a sentence.

Levels come from the spec's words (A2A 1.0 `docs/specification.md`; 0.3 for 0.3 cards).
A broken MUST is "fail"; a broken SHOULD or MAY is "warn".
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import anyio
import httpx
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    AgentCard,
    CancelTaskRequest,
    GetExtendedAgentCardRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    Part,
    StreamResponse,
    Task,
)
from a2a.utils.errors import (
    A2AError,
    ContentTypeNotSupportedError,
    MethodNotFoundError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)

from services.agent_check.model import AgentCheckReport, Check, Level, Status
from services.client import resources
from services.client.agent import SendOptions, aresolve_card
from services.client.auth import Credentials, OriginCredentials
from services.client.grpc_channels import ChannelFactory
from services.client.tls import ClientCertificate, OriginCertificates
from services.errors import AppError, translate
from services.inspector.capture import StreamRecord, TrafficRecorder, capturing
from services.inspector.card_check.checker import card_version
from services.inspector.inspection import inspect
from services.replies import FINAL_STATES, INTERRUPTED_STATES, state_name, to_reply_event
from services.runtime import SessionRuntime

__all__ = ["MUST_RULES", "run_protocol_checks"]

# The stream rules (services.inspector.validation) whose breach breaks a MUST of the spec's
# streaming section; "no-final-state" is the one left, a SHOULD (the stream closes at a
# final or interrupted state).
MUST_RULES = frozenset(
    {
        "not-json",
        "jsonrpc-error",
        "after-final",
        "id-changed",
        "message-after-task",
        "chunk-after-last",
        "append-without-start",
    }
)

_USABLE = {"JSONRPC": "jsonrpc", "HTTP+JSON": "rest", "GRPC": "grpc"}
_CAP_REACHED = "Not run: the request cap was reached."
_OUT_OF_TIME = "Not run: the run's time budget was spent."

# Section per operation, as a2aproject/A2A `docs/specification.md` numbers and titles it
# (1.0; 0.3 at tag v0.3.0). None: the operation is not in 0.3.
_SECTIONS: dict[str, tuple[str, str | None]] = {
    "send": ("§3.1.1 Send Message", "§7.1 message/send"),
    "stream": ("§3.1.2 Send Streaming Message", "§7.2 message/stream"),
    "get": ("§3.1.3 Get Task; §3.2.4 History Length Semantics", "§7.3 tasks/get"),
    "list": ("§3.1.4 List Tasks", None),
    "cancel": ("§3.1.5 Cancel Task", "§7.4 tasks/cancel"),
    "not-found": ("§3.1.3 Get Task; §3.3.2 Error Handling", "§8.2 A2A-Specific Errors"),
    "push": ("§3.1.9 List Push Notification Configs", "§7.7 tasks/pushNotificationConfig/list"),
    "no-push": ("§3.3.4 Capability Validation", "§8.2 A2A-Specific Errors"),
    "jsonrpc": ("§9.5 Error Handling (JSON-RPC)", "§8.1 Standard JSON-RPC Errors"),
    "extended": ("§3.1.11 Get Extended Agent Card", "§7.10 agent/getAuthenticatedExtendedCard"),
    "card": ("§4.4.1 AgentCard", "§5.5 AgentCard Object Structure"),
    "bindings": (
        "§5.1 Functional Equivalence Requirements",
        "§3.4 Transport Compliance and Interoperability",
    ),
}


class _Skipped(Exception):
    """A check that cannot run: its sentence says why."""


@dataclass
class _Run:
    report: AgentCheckReport
    url: str
    recorder: TrafficRecorder
    card: AgentCard
    version: str
    http: httpx.AsyncClient
    max_requests: int
    deadline: float
    has_credentials: bool
    grpc_channels: ChannelFactory  # the run's gRPC channels, on the runtime's loop
    records: list[StreamRecord] = field(default_factory=list)
    card_requests: int = 1
    tasks: dict[str, Task] = field(default_factory=dict)  # binding -> the run's first task
    media_types: set[str] = field(default_factory=set)
    text_accepted: bool | None = None  # None: no SendMessage answered either way

    def spec(self, operation: str) -> str:
        current, legacy = _SECTIONS[operation]
        if self.version != "0.3":
            return f"A2A {self.version} {current}"
        return f"A2A 0.3 {legacy}" if legacy else f"A2A 1.0 {current} (not in 0.3)"

    def requests(self) -> int:
        return self.card_requests + sum(len(r.exchanges) for r in self.records)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def add(
        self,
        check_id: str,
        title: str,
        level: Level,
        status: Status,
        message: str,
        operation: str,
        stream_id: int = 0,
    ) -> None:
        check = Check(check_id, title, level, status, message, self.spec(operation), stream_id)
        self.report.checks.append(check)

    def begin(self, label: str, binding: str) -> StreamRecord:
        record = self.recorder.begin(label, self.url, binding=binding, version=self.version)
        self.records.append(record)
        return record


def _broken(level: Level) -> Status:
    return "fail" if level == "MUST" else "warn"


async def _check(
    run: _Run,
    check_id: str,
    title: str,
    level: Level,
    operation: str,
    binding: str,
    body: Callable[[StreamRecord], Awaitable[tuple[Status, str]]],
) -> None:
    """Run one request-making check in its own record, within the run's bounds."""
    if run.requests() >= run.max_requests:
        run.add(check_id, title, level, "skip", _CAP_REACHED, operation)
        return
    if run.left() <= 0:
        run.add(check_id, title, level, "skip", _OUT_OF_TIME, operation)
        return
    record = run.begin(title, binding)
    error = ""
    try:
        with capturing(record), anyio.fail_after(run.left()):
            status, message = await body(record)
    except _Skipped as skipped:
        status, message = "skip", str(skipped)
    except TimeoutError:
        # The budget is the run's, not the spec's: a slow answer is not a broken rule.
        status = "warn"
        message = (
            "The agent did not answer before the run's time budget was spent: "
            "send a quicker message or give the run more time (--timeout)."
        )
        error = message
    except Exception as failure:  # noqa: BLE001 - every failure becomes the check's sentence
        status, message = _broken(level), _sentence(failure, run.url)
        error = message
    finally:
        record.finish(error)
    stream_id = record.id if record.exchanges else 0  # a check skipped before asking
    run.add(check_id, title, level, status, message, operation, stream_id)


def _sentence(error: Exception, url: str) -> str:
    return str(error) if isinstance(error, AppError) else str(translate(error, url))


def _what(error: BaseException) -> str:
    """What an error response was, in a few words: the A2A error, or the HTTP status."""
    status = next((e for e in _chain(error) if isinstance(e, httpx.HTTPStatusError)), None)
    if isinstance(status, httpx.HTTPStatusError):  # before the SDK's wrapper of it
        return f"HTTP {status.response.status_code}"
    a2a = next((e for e in _chain(error) if isinstance(e, A2AError)), None)
    if a2a is not None:
        return f"{type(a2a).__name__} ({a2a.message})"
    return type(error).__name__


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(e, kind) for e in _chain(error))


def _media_types(response: StreamResponse) -> set[str]:
    parts: list[Part] = []
    if response.HasField("message"):
        parts.extend(response.message.parts)
    if response.HasField("task"):
        for artifact in response.task.artifacts:
            parts.extend(artifact.parts)
    if response.HasField("artifact_update"):
        parts.extend(response.artifact_update.artifact.parts)
    found: set[str] = set()
    for part in parts:
        if part.media_type:
            found.add(part.media_type)
        elif part.HasField("text"):
            found.add("text/plain")  # a text part with no media type is plain text
        elif part.HasField("data"):
            found.add("application/json")
    return found


def _client(run: _Run, binding: str, *, streaming: bool) -> Client:
    # As `services.client.push` does: a client made for the run over the session's httpx
    # client (capture, credentials), since a2a-sdk picks SendMessage or
    # SendStreamingMessage from ClientConfig.streaming.
    config = ClientConfig(
        httpx_client=run.http,
        streaming=streaming,
        supported_protocol_bindings=[binding],
        use_client_preference=True,
        grpc_channel_factory=run.grpc_channels,
    )
    return ClientFactory(config).create(run.card)


@asynccontextmanager
async def _clients(run: _Run, binding: str) -> AsyncIterator[tuple[Client, Client]]:
    plain, streaming = _client(run, binding, streaming=False), _client(run, binding, streaming=True)
    try:
        yield plain, streaming
    finally:
        await plain.close()  # the shared httpx client stays open
        await streaming.close()


async def _send(
    client: Client, record: StreamRecord, text: str, *, immediately: bool = False
) -> list[StreamResponse]:
    request = SendOptions().request(text)
    if immediately:  # a2a.proto SendMessageConfiguration: answer once the task exists
        request.configuration.return_immediately = True
    responses: list[StreamResponse] = []
    async for response in client.send_message(request):
        responses.append(response)
        record.add_event(to_reply_event(response))
    return responses


def _task_of(responses: list[StreamResponse]) -> Task | None:
    return next((r.task for r in reversed(responses) if r.HasField("task")), None)


async def _binding_checks(run: _Run, binding: str, message: str) -> None:
    name = _USABLE[binding]
    streaming_claimed = run.card.capabilities.streaming
    push_claimed = run.card.capabilities.push_notifications
    async with _clients(run, binding) as (plain, streaming):

        async def send_message(record: StreamRecord) -> tuple[Status, str]:
            try:
                responses = await _send(plain, record, message)
            except Exception as error:
                if _caused_by(error, ContentTypeNotSupportedError):
                    run.text_accepted = False
                raise
            run.text_accepted = True
            if not responses:
                return "fail", "The agent answered SendMessage with nothing."
            for response in responses:
                run.media_types |= _media_types(response)
            task = _task_of(responses)
            if task is not None:
                run.tasks.setdefault(binding, task)
                return "pass", f"The agent answered with a task ({state_name(task.status.state)})."
            return "pass", "The agent answered with a message."

        await _check(
            run,
            f"rpc.send-message.{name}",
            f"SendMessage over {binding}",
            "MUST",
            "send",
            binding,
            send_message,
        )

        async def stream_message(record: StreamRecord) -> tuple[Status, str]:
            if not streaming_claimed:
                raise _Skipped("The card does not declare streaming, so none was asked for.")
            failure: Exception | None = None
            try:
                for response in await _send(streaming, record, message):
                    run.media_types |= _media_types(response)
            except Exception as error:  # noqa: BLE001 - judged below, with the stream rules
                failure = error
            record.finish()
            exchange = record.exchanges[-1] if record.exchanges else None
            if exchange is not None and exchange.protocol == "http" and not exchange.is_sse:
                kind = exchange.content_type or "no content type"
                return "fail", (
                    f"The card declares streaming, but the agent answered the streaming call "
                    f"with HTTP {exchange.status} ({kind}), not an SSE stream."
                )
            findings = inspect(record, run.recorder.redactor).findings
            must = next((f for f in findings if f.rule in MUST_RULES), None)
            if must is not None:
                return "fail", must.message
            if failure is not None:
                raise failure
            if findings:
                return "warn", findings[0].message
            return "pass", "The agent streamed a reply that follows the stream rules."

        await _check(
            run,
            f"rpc.send-streaming-message.{name}",
            f"SendStreamingMessage over {binding}",
            "MUST",
            "stream",
            binding,
            stream_message,
        )

        task = run.tasks.get(binding)

        async def get_task(record: StreamRecord) -> tuple[Status, str]:
            if task is None:
                raise _Skipped("The agent answered with a message and no task, so none to read.")
            got = await plain.get_task(GetTaskRequest(id=task.id, history_length=1))
            if got.id != task.id:
                return "fail", f"GetTask for {task.id!r} returned task {got.id!r}."
            if len(got.history) > 1:
                return "fail", f"GetTask with historyLength 1 returned {len(got.history)} messages."
            return "pass", f"GetTask returned the task ({state_name(got.status.state)})."

        await _check(
            run,
            f"rpc.get-task.{name}",
            f"GetTask over {binding}",
            "MUST",
            "get",
            binding,
            get_task,
        )

        async def list_tasks(record: StreamRecord) -> tuple[Status, str]:
            if run.version == "0.3":
                raise _Skipped("ListTasks is not part of A2A 0.3.")
            try:
                page = await plain.list_tasks(ListTasksRequest(page_size=5))
            except Exception as error:
                if _caused_by(error, UnsupportedOperationError) or _caused_by(
                    error, MethodNotFoundError
                ):
                    return "warn", "The agent does not implement ListTasks."
                raise
            return "pass", f"ListTasks returned {len(page.tasks)} task(s)."

        await _check(
            run,
            f"rpc.list-tasks.{name}",
            f"ListTasks over {binding}",
            "SHOULD",
            "list",
            binding,
            list_tasks,
        )

        async def cancel_task(record: StreamRecord) -> tuple[Status, str]:
            started = _task_of(await _send(plain, record, message, immediately=True))
            if started is None:
                raise _Skipped("The agent answered with a message, so there was no task to cancel.")
            state = state_name(started.status.state)
            if state in FINAL_STATES or state in INTERRUPTED_STATES:
                raise _Skipped(f"The run's task was already {state}, so it was not canceled.")
            try:
                canceled = await plain.cancel_task(CancelTaskRequest(id=started.id))
            except Exception as error:
                if _caused_by(error, TaskNotCancelableError):
                    raise _Skipped(
                        "The run's task finished before it could be canceled."
                    ) from error
                raise
            after = state_name(canceled.status.state)
            if after != "canceled":
                return "fail", f"CancelTask returned the task in state {after}, not canceled."
            return "pass", "CancelTask canceled the run's working task."

        await _check(
            run,
            f"rpc.cancel-task.{name}",
            f"CancelTask over {binding}",
            "MUST",
            "cancel",
            binding,
            cancel_task,
        )

        async def task_not_found(record: StreamRecord) -> tuple[Status, str]:
            unknown = f"a2a-check-{uuid.uuid4()}"
            try:
                await plain.get_task(GetTaskRequest(id=unknown))
            except Exception as error:
                if _caused_by(error, TaskNotFoundError):
                    return "pass", "GetTask of an unknown id gave TaskNotFoundError."
                return "fail", (
                    f"GetTask of an unknown id gave {_what(error)}, not TaskNotFoundError."
                )
            return "fail", "GetTask of an unknown id returned a task instead of TaskNotFoundError."

        await _check(
            run,
            f"rpc.errors.task-not-found.{name}",
            f"Unknown task over {binding}",
            "MUST",
            "not-found",
            binding,
            task_not_found,
        )

        async def push_works(record: StreamRecord) -> tuple[Status, str]:
            if task is None:
                raise _Skipped("The agent answered with a message, so no task to list configs of.")
            request = ListTaskPushNotificationConfigsRequest(task_id=task.id)
            page = await plain.list_task_push_notification_configs(request)
            return "pass", f"Listing the task's push configs worked ({len(page.configs)})."

        async def push_refused(record: StreamRecord) -> tuple[Status, str]:
            request = ListTaskPushNotificationConfigsRequest(task_id=task.id if task else "none")
            try:
                await plain.list_task_push_notification_configs(request)
            except Exception as error:
                if _caused_by(error, PushNotificationNotSupportedError):
                    return "pass", "The agent gave PushNotificationNotSupportedError."
                return "fail", (
                    "The card does not declare push notifications, and a push config call "
                    f"gave {_what(error)}, not PushNotificationNotSupportedError."
                )
            return "fail", "The card does not declare push notifications, yet a push call worked."

        if push_claimed:
            await _check(
                run,
                f"rpc.push-config.{name}",
                f"Push configs over {binding}",
                "MUST",
                "push",
                binding,
                push_works,
            )
        else:
            await _check(
                run,
                f"rpc.errors.push-not-supported.{name}",
                f"Push refused over {binding}",
                "MUST",
                "no-push",
                binding,
                push_refused,
            )

        if binding == "JSONRPC":
            endpoint = next(
                i.url for i in run.card.supported_interfaces if i.protocol_binding == binding
            )

            async def method_not_found(record: StreamRecord) -> tuple[Status, str]:
                payload = {"jsonrpc": "2.0", "id": 1, "method": "a2a-check/NoSuchMethod"}
                response = await run.http.post(endpoint, json=payload)
                try:
                    code = json.loads(response.content).get("error", {}).get("code")
                except (ValueError, AttributeError):
                    code = None
                if code == -32601:
                    return "pass", "An unknown method gave JSON-RPC error -32601."
                return "fail", (
                    f"An unknown method gave HTTP {response.status_code} with error code "
                    f"{code}, not JSON-RPC error -32601 (Method not found)."
                )

            await _check(
                run,
                "rpc.errors.method-not-found.jsonrpc",
                "Unknown JSON-RPC method",
                "MUST",
                "jsonrpc",
                binding,
                method_not_found,
            )

        async def extended_card(record: StreamRecord) -> tuple[Status, str]:
            if not run.card.capabilities.extended_agent_card:
                raise _Skipped("The card does not declare an extended card.")
            if run.card.security_requirements and not run.has_credentials:
                raise _Skipped("The extended card needs credentials, and none were given.")
            extended = await plain.get_extended_agent_card(GetExtendedAgentCardRequest())
            return "pass", f"The extended card came back ({len(extended.skills)} skills)."

        await _check(
            run,
            f"rpc.extended-card.{name}",
            f"Extended card over {binding}",
            "SHOULD",
            "extended",
            binding,
            extended_card,
        )


async def _bindings_agree(run: _Run, bindings: list[str]) -> None:
    """The run's first task, read through every other declared binding."""
    first = next(((b, run.tasks[b]) for b in bindings if b in run.tasks), None)

    async def agree(record: StreamRecord) -> tuple[Status, str]:
        if len(bindings) < 2:
            raise _Skipped("The card declares one usable binding, so there is nothing to compare.")
        if first is None:
            raise _Skipped("The agent answered with messages only, so no task to compare.")
        origin, task = first
        for other in bindings:
            if other == origin:
                continue
            async with _clients(run, other) as (plain, _streaming):
                got = await plain.get_task(GetTaskRequest(id=task.id))
            if got.id != task.id or got.context_id != task.context_id:
                return "fail", f"The task started over {origin} reads differently over {other}."
            was, now = state_name(task.status.state), state_name(got.status.state)
            if was in FINAL_STATES and now != was:  # a final state never changes
                return "fail", (f"The task is {was} over {origin} but {now} over {other}.")
        return "pass", "Every declared binding reads the same task alike."

    await _check(
        run,
        "rpc.bindings-agree",
        "Bindings agree on a task",
        "SHOULD",
        "bindings",
        bindings[0] if bindings else "",
        agree,
    )


def _accepts_text(modes: list[str]) -> bool:
    return any(m in ("text/plain", "text/*", "*/*") for m in modes)


def _input_modes(run: _Run) -> None:
    """The run's text message against the input modes the card declares (the card's
    defaults and any skill's own)."""
    modes = list(run.card.default_input_modes)
    for skill in run.card.skills:
        modes.extend(skill.input_modes)
    declared = _accepts_text(modes)
    title = "Input as the card says"
    level: Level = "SHOULD"
    if run.text_accepted is None:
        message = "No SendMessage answered, so there is nothing to compare the input modes with."
        run.add("rpc.input-modes", title, level, "skip", message, "card")
    elif run.text_accepted and not declared:
        message = (
            "The agent accepted a text/plain message, which the card's input modes do not "
            "list: list it, or refuse it with ContentTypeNotSupportedError."
        )
        run.add("rpc.input-modes", title, level, "warn", message, "card")
    elif not run.text_accepted and declared:
        message = (
            "The card's input modes list text/plain, yet the agent refused a text message "
            "with ContentTypeNotSupportedError."
        )
        run.add("rpc.input-modes", title, level, "warn", message, "card")
    elif run.text_accepted:
        message = "The agent accepted a text/plain message, as the card's input modes say."
        run.add("rpc.input-modes", title, level, "pass", message, "card")
    else:
        message = "The agent refused a text/plain message, as the card's input modes say."
        run.add("rpc.input-modes", title, level, "pass", message, "card")


def _output_modes(run: _Run) -> None:
    declared = set(run.card.default_output_modes)
    level: Level = "SHOULD"
    if not declared:
        message = "The card declares no defaultOutputModes to compare replies with."
        run.add("rpc.output-modes", "Replies within output modes", level, "skip", message, "card")
        return
    if not run.media_types:
        message = "No reply part carried a media type to compare."
        run.add("rpc.output-modes", "Replies within output modes", level, "skip", message, "card")
        return
    outside = sorted(m for m in run.media_types if m not in declared and "*/*" not in declared)
    if outside:
        status: Status = "warn"
        message = f"Replies used {', '.join(outside)}, not in the card's defaultOutputModes."
    else:
        status, message = "pass", "Every reply part is in the card's defaultOutputModes."
    run.add("rpc.output-modes", "Replies within output modes", level, status, message, "card")


async def _arun(
    runtime: SessionRuntime,
    report: AgentCheckReport,
    url: str,
    *,
    binding: str | None,
    credentials: OriginCredentials | None,
    given: Credentials | None,
    budget: float,
    message: str,
    max_requests: int,
) -> AgentCheckReport:
    deadline = time.monotonic() + budget
    http = await resources.ahttp(runtime)
    try:
        with anyio.fail_after(budget):
            card, _card_url, raw = await aresolve_card(http, url)
    except (AppError, TimeoutError) as error:
        sentence = str(error) if isinstance(error, AppError) else "The card did not come in time."
        spec = "A2A 1.0 Agent Card"
        report.checks.append(
            Check(
                "rpc.card",
                "Card for the protocol run",
                "MUST",
                "skip",
                f"No protocol checks ran: {sentence}",
                spec,
            )
        )
        return report
    if credentials is not None and given is not None:
        for interface in card.supported_interfaces:  # endpoints may sit on other origins
            credentials.set(interface.url, given)
    # A certificate follows the card to its endpoints on the agent's own host only (tls).
    endpoints = [interface.url for interface in card.supported_interfaces]
    (await resources.acertificates(runtime)).follow_card(url, endpoints)
    run = _Run(
        report,
        url,
        await resources.arecorder(runtime),
        card,
        card_version(raw),
        http,
        max_requests,
        deadline,
        credentials is not None,
        await resources.agrpc_channel_factory(runtime, url),
    )
    declared: list[str] = []
    for interface in card.supported_interfaces:
        if interface.protocol_binding in declared:
            continue
        declared.append(interface.protocol_binding)
    usable = [b for b in declared if b in _USABLE and (binding is None or b == binding)]
    for other in declared:
        if other not in _USABLE:
            run.add(
                f"rpc.binding.{other.lower().replace('+', '-')}",
                f"{other} binding",
                "MAY",
                "skip",
                f"This app cannot speak {other}, so its operations were not checked.",
                "bindings",
            )
    if binding is not None and binding not in declared:
        run.add(
            "rpc.binding",
            f"{binding} binding",
            "MUST",
            "fail",
            f"The card declares no {binding} interface.",
            "bindings",
        )
    for each in usable:
        await _binding_checks(run, each, message)
    await _bindings_agree(run, usable)
    _input_modes(run)
    _output_modes(run)
    return report


def run_protocol_checks(
    report: AgentCheckReport,
    url: str,
    *,
    binding: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    message: str = "ping",
    max_requests: int = 40,
    recorder: TrafficRecorder | None = None,
    client_certificate: ClientCertificate | None = None,
) -> AgentCheckReport:
    """Call each A2A operation the agent's card promises; append a `Check` per rule.

    Args:
        binding: "JSONRPC", "HTTP+JSON" or "GRPC" to check that binding only; None for every one.
        headers: sent to the agent (and its endpoints' origins) with every request.
        timeout: the whole run's time budget, in seconds.
        message: the text sent where a message is needed.
        max_requests: the most HTTP requests the run makes; later checks are skipped.
        recorder: keeps the exchanges each check's `stream_id` names (a fresh one if None).
        client_certificate: presented to the agent's origin, and to its endpoints on the
            same host, for mutual TLS.
    """
    recorder = recorder or TrafficRecorder()
    credentials: OriginCredentials | None = None
    given: Credentials | None = None
    if headers:
        given = Credentials(headers=tuple(headers.items()))
        given.check()
        recorder.redactor.add(given.secret_values)
        credentials = OriginCredentials()
        credentials.set(url, given)
    certificates = OriginCertificates()
    if client_certificate is not None:
        recorder.redactor.add(client_certificate.secret_values)
        certificates.set(url, client_certificate)
    runtime = resources.configure(
        SessionRuntime(label="agent-check"),
        recorder=recorder,
        auth=credentials,
        certificates=certificates,
    )
    try:
        return runtime.call(
            partial(
                _arun,
                runtime,
                report,
                url,
                binding=binding,
                credentials=credentials,
                given=given,
                budget=timeout,
                message=message,
                max_requests=max_requests,
            )
        )
    finally:
        runtime.close()
