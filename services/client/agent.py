"""The A2A client service: resolve an agent, send messages, stream replies, cancel.

Async functions (`a...`) run on a `SessionRuntime`'s loop; the sync twins are what
pages call from the script thread. The a2a-sdk clients are built by `ClientFactory`
over the session's shared httpx client, so connections are reused and v0.3 agents go
through the SDK's compat transports.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
import httpx
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.types.a2a_pb2 import (
    AgentCard,
    CancelTaskRequest,
    GetExtendedAgentCardRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
)
from a2a.utils.constants import TransportProtocol
from google.protobuf.json_format import MessageToDict, ParseError

from services.client import resources
from services.client.extensions import activated_extensions, call_context, with_tenant
from services.client.signatures import CardSignature, averify_card
from services.errors import (
    AgentTimeout,
    AppError,
    InvalidCard,
    NotAnAgent,
    translate_errors,
)
from services.formats import FileRejected, load_json
from services.inspector.capture import capturing
from services.inspector.card_check import CardWarning, card_differences, check_card
from services.replies import (
    FINAL_STATES,
    INTERRUPTED_STATES,
    PartView,
    ReplyEvent,
    to_reply_event,
)
from services.runtime import EventStream, SessionRuntime
from services.urls import check_agent_url, shorten

__all__ = [
    "AgentConnection",
    "AgentInfo",
    "SendOptions",
    "SkillInfo",
    "aconnect",
    "acancel_task",
    "aresolve_card",
    "astream_reply",
    "cancel_task",
    "connect",
    "connection_for",
    "send_message",
]

log = logging.getLogger(__name__)

CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")  # current, legacy
CARD_MAX_BYTES = 4 * 1024 * 1024  # a card listing 5,000 skills is under 1 MB
BINDINGS = [
    TransportProtocol.JSONRPC.value,
    TransportProtocol.HTTP_JSON.value,
    TransportProtocol.GRPC.value,  # over the runtime's channels (`grpc_channels`)
]
POLL_INTERVAL = 0.5
POLL_LIMIT = 240  # GetTask polls for agents that do not stream: two minutes


@dataclass(frozen=True)
class SkillInfo:
    name: str
    description: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentInfo:
    """What the UI shows of an agent card (plain data, safe to keep in session state)."""

    url: str
    card_url: str
    name: str
    description: str
    version: str
    protocol_version: str
    binding: str
    endpoint: str
    streaming: bool
    input_modes: tuple[str, ...] = ()
    output_modes: tuple[str, ...] = ()
    extended_card: bool = False  # the card offers an extended card to authenticated callers
    push_notifications: bool = False  # the card offers push notifications (see `push`)
    skills: tuple[SkillInfo, ...] = ()
    card: dict[str, Any] = field(default_factory=dict)  # as the SDK parsed it
    raw_card: dict[str, Any] = field(default_factory=dict)  # as the agent published it
    warnings: tuple[CardWarning, ...] = ()
    extended: dict[str, Any] | None = None  # the extended card, when fetched
    extended_changes: tuple[str, ...] = ()
    extended_error: str = ""
    signature: CardSignature | None = None  # None: not checked (or the check itself broke)


@dataclass
class AgentConnection:
    """An agent's card and a2a-sdk client, bound to one runtime's loop."""

    info: AgentInfo
    card: AgentCard
    client: Client


def _check_url(url: str) -> str:
    """The normalised URL, or `InvalidUrl` with a sentence (see `services.urls`)."""
    return check_agent_url(url)


def _card_urls(url: str) -> list[str]:
    """The card URLs to try: the URL itself if it names a card, else the well-known paths."""
    if urlsplit(url).path.endswith(".json"):
        return [url]
    return [url.rstrip("/") + path for path in CARD_PATHS]


def _looks_like_json(response: httpx.Response) -> bool:
    """Whether a body the JSON reader refused was meant as JSON (not an HTML page)."""
    start = response.content.lstrip()[:1]
    return "json" in response.headers.get("content-type", "") or start in (b"{", b"[")


@dataclass(frozen=True)
class _Miss:
    """A card URL that held no card: a 404, or something that is not JSON."""

    reason: Literal["404", "not-json"]
    error: Exception


async def aresolve_card(http: httpx.AsyncClient, url: str) -> tuple[AgentCard, str, dict[str, Any]]:
    """Fetch and parse an agent card from a base URL or a card URL.

    Returns the parsed card, the URL it came from, and the JSON exactly as published
    (the card checks judge what the agent wrote, not the SDK's cleaned-up parse).
    """
    url = _check_url(url)
    candidates = _card_urls(url)
    misses: list[_Miss] = []
    for card_url in candidates:
        with translate_errors(shorten(url)):
            response = await http.get(card_url)
            try:
                response.raise_for_status()
            except httpx.HTTPStatusError as error:
                if response.status_code != 404:
                    raise
                misses.append(_Miss("404", error))
                continue
        try:
            raw = load_json(response.content, what="agent card", max_bytes=CARD_MAX_BYTES)
        except FileRejected as error:
            if not _looks_like_json(response):  # an HTML catch-all page, say: next path
                misses.append(_Miss("not-json", error))
                continue
            # JSON, but too big or too deep to read safely (a card nested 100,000 deep
            # once made every page fail with RecursionError).
            raise InvalidCard(
                f"{error} Fix the card at {shorten(card_url)}, or try another agent.",
                detail=str(error),
            ) from error
        try:
            # parse_agent_card rewrites legacy (0.3) fields in place: give it a copy.
            return parse_agent_card(copy.deepcopy(raw)), card_url, raw
        except (ParseError, TypeError, AttributeError, ValueError) as error:
            raise InvalidCard(
                f"The agent card at {shorten(card_url)} is not a valid A2A card ({error}). "
                "Fix the card, or try another agent.",
                detail=repr(error),
            ) from error
    detail = "; ".join(f"{c}: {m.error}" for c, m in zip(candidates, misses, strict=False))
    if misses[0].reason == "not-json":
        message = (
            f"{shorten(candidates[0])} returned a web page or other non-JSON content, not an agent "
            "card. Check that the URL points at an A2A agent."
        )
    else:
        tried = " and ".join(urlsplit(c).path for c in candidates)
        message = (
            f"No agent card found at {shorten(url)} (tried {tried}). "
            "Check the URL, or paste the card's full URL."
        )
    raise NotAnAgent(message, detail=detail) from misses[0].error


def _info(
    url: str, card_url: str, card: AgentCard, raw: dict[str, Any], binding: str = ""
) -> AgentInfo:
    wanted = [binding] if binding else BINDINGS
    interface = next((i for i in card.supported_interfaces if i.protocol_binding in wanted), None)
    if interface is None:
        offered = ", ".join(i.protocol_binding for i in card.supported_interfaces) or "none"
        asked = binding or "JSON-RPC, HTTP+JSON or gRPC"
        raise InvalidCard(
            f"The agent at {url} offers no {asked} interface (it offers {offered}). "
            "Choose another binding, or another agent."
        )
    return AgentInfo(
        url=url,
        card_url=card_url,
        name=card.name or "(unnamed agent)",
        description=card.description,
        version=card.version,
        protocol_version=interface.protocol_version or "unknown",
        binding=interface.protocol_binding,
        endpoint=interface.url,
        streaming=card.capabilities.streaming,
        input_modes=tuple(card.default_input_modes),
        output_modes=tuple(card.default_output_modes),
        extended_card=card.capabilities.extended_agent_card,
        push_notifications=card.capabilities.push_notifications,
        skills=tuple(SkillInfo(s.name, s.description, tuple(s.examples)) for s in card.skills),
        card=MessageToDict(card),
        raw_card=raw,
        warnings=tuple(check_card(raw)),
    )


async def aconnect(
    runtime: SessionRuntime,
    url: str,
    binding: str = "",
    *,
    extended: bool = False,
    jwks_url: str = "",
    tenant: str = "",
) -> AgentInfo:
    """Resolve the agent's card and build its a2a-sdk client on the runtime's loop.

    `binding` ("JSONRPC", "HTTP+JSON" or "GRPC") overrides the card's preference; `extended`
    also fetches the extended card when the agent offers one (callers with credentials);
    `jwks_url` is where the card's signature keys are, instead of the signature's `jku`;
    `tenant` goes on every request the client makes (see `extensions.with_tenant`).
    """
    http = await resources.ahttp(runtime)
    (await resources.aconnected(runtime))[url] = resources.ConnectOptions(
        binding, extended, jwks_url, tenant
    )
    card, card_url, raw = await aresolve_card(http, url)
    # Before any call to an endpoint: its certificate, if it is on the agent's host (tls).
    endpoints = [i.url for i in card.supported_interfaces]
    (await resources.acertificates(runtime)).follow_card(url, endpoints)
    info = _info(url, card_url, card, raw, binding)
    info = replace(info, signature=await _asignature(http, card, jwks_url))
    config = ClientConfig(
        httpx_client=http,
        streaming=True,
        # Without streaming, ask for the task at once and poll it, so progress shows.
        polling=not card.capabilities.streaming,
        supported_protocol_bindings=[binding] if binding else BINDINGS,
        use_client_preference=bool(binding),
        grpc_channel_factory=await resources.agrpc_channel_factory(runtime, url),
    )
    try:
        # The card as clients are built from it: with the tenant on each interface, so a
        # client made later from the connection's card (push's) sends it too.
        card = with_tenant(card, tenant)
        client = ClientFactory(config).create(card)
    except ValueError as error:
        raise InvalidCard(
            f"The agent card at {card_url} cannot be used: {error}.", detail=repr(error)
        ) from error
    if extended and info.extended_card:
        info = await _with_extended_card(client, url, info)
    connections = await resources.aconnections(runtime)
    previous = connections.pop(url, None)
    if previous is not None:
        await previous.client.close()
    connections[url] = AgentConnection(info, card, client)
    return info


async def _asignature(
    http: httpx.AsyncClient, card: AgentCard, jwks_url: str
) -> CardSignature | None:
    """The card's signature state; None if checking it broke (a connect never fails on it)."""
    try:
        return await averify_card(http, card, jwks_url=jwks_url)
    except Exception:  # noqa: BLE001 - a signature is advice about the card, not the connect
        log.warning("checking the card's signature failed", exc_info=True)
        return None


async def _with_extended_card(client: Client, url: str, info: AgentInfo) -> AgentInfo:
    """`info` with the extended card's skills and what it adds; on failure, why not."""
    try:
        with translate_errors(url):
            card = await client.get_extended_agent_card(GetExtendedAgentCardRequest())
    except AppError as error:
        return replace(info, extended_error=f"No extended card: {error}")
    extended = MessageToDict(card)
    return replace(
        info,
        extended=extended,
        extended_changes=tuple(card_differences(info.card, extended)),
        skills=tuple(SkillInfo(s.name, s.description, tuple(s.examples)) for s in card.skills),
    )


async def connection_for(runtime: SessionRuntime, url: str) -> AgentConnection:
    """The agent's client on this runtime's loop, connecting first if needed."""
    # After a runtime rebuild the new loop has no clients yet: connect again, as before.
    connections = await resources.aconnections(runtime)
    if url not in connections:
        options = (await resources.aconnected(runtime)).get(url, resources.ConnectOptions())
        await aconnect(
            runtime,
            url,
            options.binding,
            extended=options.extended,
            jwks_url=options.jwks_url,
            tenant=options.tenant,
        )
    return connections[url]


def _user_message(text: str, context_id: str, task_id: str, files: list[PartView]) -> Message:
    parts = [Part(text=text)] if text else []
    for file in files:
        if file.raw is not None:
            parts.append(Part(raw=file.raw, filename=file.filename, media_type=file.media_type))
        elif file.url:
            parts.append(Part(url=file.url, filename=file.filename, media_type=file.media_type))
    return Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        context_id=context_id,
        task_id=task_id,
        parts=parts,
    )


@dataclass(frozen=True)
class SendOptions:
    """Per-conversation settings for a message (A2A `SendMessageConfiguration`)."""

    context_id: str = ""
    task_id: str = ""
    files: tuple[PartView, ...] = ()
    accepted_output_modes: tuple[str, ...] = ()
    history_length: int | None = None
    extensions: tuple[str, ...] = ()  # URIs activated on every request (A2A-Extensions)

    def request(self, text: str) -> SendMessageRequest:
        message = _user_message(text, self.context_id, self.task_id, list(self.files))
        request = SendMessageRequest(message=message)
        request.configuration.accepted_output_modes.extend(self.accepted_output_modes)
        if self.history_length is not None:
            request.configuration.history_length = self.history_length
        return request


async def astream_reply(
    runtime: SessionRuntime,
    url: str,
    text: str,
    options: SendOptions | None = None,
    *,
    request: SendMessageRequest | None = None,
) -> AsyncIterator[ReplyEvent]:
    """Send `text` and yield the reply's events; non-streaming agents are polled.

    `request`, when given, is sent as it is instead of the one `options` makes of `text`
    (the composer's; `text` then only labels the inspector's record).
    """
    connection = await connection_for(runtime, url)
    info = connection.info
    recorder = await resources.arecorder(runtime)
    record = recorder.begin(text, url, binding=info.binding, version=info.protocol_version)
    options = options or SendOptions()
    if request is None:
        request = options.request(text)
    context = call_context(options.extensions)
    activated: tuple[str, ...] | None = None
    last: ReplyEvent | None = None
    error = ""
    with capturing(record):
        try:
            with translate_errors(url, streaming=True):
                async for response in connection.client.send_message(request, context=context):
                    last = to_reply_event(response)
                    if activated is None and record.exchanges:  # the agent's answer to them
                        activated = activated_extensions(record.exchanges[0].response_headers)
                    last.extensions = activated or ()
                    record.add_event(last)
                    yield last
            if not info.streaming and last is not None and last.kind == "task":
                async for event in _apoll_task(connection, url, last, context):
                    record.add_event(event)
                    yield event
        except AppError as failure:
            error = str(failure)
            runtime.errors.append(error)
            raise
        finally:
            record.finish(error)


async def _apoll_task(
    connection: AgentConnection, url: str, first: ReplyEvent, context: Any = None
) -> AsyncIterator[ReplyEvent]:
    """Poll GetTask (bounded) until an unfinished task settles, yielding each change."""
    state, seen = first.state, first.raw
    for _ in range(POLL_LIMIT):
        if state in FINAL_STATES or state in INTERRUPTED_STATES:
            return
        await anyio.sleep(POLL_INTERVAL)
        with translate_errors(url):
            task = await connection.client.get_task(
                GetTaskRequest(id=first.task_id), context=context
            )
        event = to_reply_event(StreamResponse(task=task))
        if event.raw != seen:
            state, seen = event.state, event.raw
            yield event
    raise AgentTimeout(
        f"The agent's task was still {state} after {POLL_LIMIT * POLL_INTERVAL:.0f} s of "
        "polling. Check on it later, or cancel it."
    )


async def acancel_task(runtime: SessionRuntime, url: str, task_id: str) -> str:
    """Ask the agent to cancel `task_id`; returns the task's state afterwards."""
    connection = await connection_for(runtime, url)
    with translate_errors(url):
        task = await connection.client.cancel_task(CancelTaskRequest(id=task_id))
    return to_reply_event(StreamResponse(task=task)).state


# --- sync twins for the script thread ---------------------------------------------------


def connect(
    runtime: SessionRuntime,
    url: str,
    binding: str = "",
    *,
    extended: bool = False,
    jwks_url: str = "",
    tenant: str = "",
) -> AgentInfo:
    """Resolve `url`'s card and build its client; raises the project's errors."""
    return runtime.call(
        partial(
            aconnect, runtime, url, binding, extended=extended, jwks_url=jwks_url, tenant=tenant
        )
    )


def send_message(
    runtime: SessionRuntime,
    url: str,
    text: str,
    *,
    context_id: str = "",
    task_id: str = "",
    options: SendOptions | None = None,
    checkpoint: Callable[[], None] | None = None,
    request: SendMessageRequest | None = None,
) -> EventStream[ReplyEvent]:
    """Start the reply's stream (cancelling any other of this session) and return it;
    `request` is a whole composed request to send instead of `text` (see `astream_reply`)."""
    options = options or SendOptions(context_id=context_id, task_id=task_id)
    return runtime.stream(
        lambda: astream_reply(runtime, url, text, options, request=request), checkpoint=checkpoint
    )


def cancel_task(runtime: SessionRuntime, url: str, task_id: str) -> str:
    """Cancel `task_id` on the agent; returns its state afterwards."""
    return runtime.call(acancel_task, runtime, url, task_id)
