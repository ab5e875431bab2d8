"""The session's agents: the workspace (configured agents first, else the embedded demo
agent), the current agent and its current conversation, connecting and choosing, and
stopping the reply that streams (every switch of agent or conversation stops it first).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from services.client import agent
from services.client.auth import Credentials
from services.client.extensions import MAX_TENANT_LENGTH
from services.errors import AppError, InvalidUrl
from services.replies import Conversation, Reply
from services.session import _keys as keys
from services.session._resources import (
    allow_list,
    client_certificates,
    configured_credentials,
    origin_credentials,
    redactor,
)
from services.session._runtime import runtime
from services.session._settings import settings
from services.session._store import (
    demo_database,
    load_saved,
    save_selection,
    store,
    workspace_id,
    writer_for,
)
from services.store.workspace import AgentEntry, Workspace, stored_url
from services.urls import check_agent_url, shorten

__all__ = [
    "agent_error",
    "agent_info",
    "agent_url",
    "agents",
    "connect",
    "conversation",
    "current_agent",
    "remove_agent",
    "select_agent",
    "set_binding",
    "set_credentials",
    "set_tenant",
    "stop_reply",
    "workspace",
]


def _configured_workspace() -> Workspace:
    """A new workspace with the configured agents, else the embedded demo agent."""
    configured = settings()
    space = Workspace()
    if url := configured.agent_url:
        space.add(_configured_url(url), source="configured", credentials=configured_credentials())
    for entry in configured.agents:
        space.add(
            _configured_url(str(entry["url"])),
            name=str(entry.get("name", "")),
            source="secrets",
            credentials=Credentials.from_mapping(entry),
            binding=str(entry.get("binding", "")),
            jwks_url=str(entry.get("jwks_url", "")),
            tenant=str(entry.get("tenant", "")).strip()[:MAX_TENANT_LENGTH],
        )
    if not space.agents:
        # The demo agent's module loads uvicorn and the whole server stack: import it
        # only when a session has no agent of its own.
        from services.demo_agent import VISITOR_HEADER, ensure_demo_agent, running_demo_agent

        demo_url = ensure_demo_agent(demo_database())
        space.add(demo_url, source="demo")
        demo = running_demo_agent()
        if allow_list():
            allow_list().add(demo_url)  # the app's own agent, over HTTP and gRPC
            if demo is not None and demo.grpc_target:
                allow_list().add(f"http://{demo.grpc_target}/")
        # Every visitor shares the embedded agent: keep each workspace's tasks its own.
        origin_credentials().set_fixed_headers(demo_url, ((VISITOR_HEADER, workspace_id()),))
    space.current = next(iter(space.agents))
    return space


def workspace() -> Workspace:
    """This session's agents: configured ones first, else the embedded demo agent."""
    space = keys.WORKSPACE.get()
    if space is None:
        space = _configured_workspace()
        load_saved(space)
        for known in space.agents.values():
            origin_credentials().set(known.url, known.credentials)
            redactor().add(known.credentials.secret_values)
        keys.WORKSPACE.set(space)
        save_selection(space)
    return space


def _configured_url(text: str) -> str:
    """A configured URL, normalised; a bad one is kept shortened and masked (every visitor
    sees the agent list), with its sentence for the sidebar."""
    try:
        return check_agent_url(text)
    except InvalidUrl as error:
        shown = shorten(text)
        try:
            urlsplit(shown)  # the agent picker splits every agent's URL
        except ValueError:
            shown = quote(shown, safe=":/?#@%")
        keys.BAD_URLS.setdefault(dict)[shown] = error
        return shown


def agents() -> list[AgentEntry]:
    return list(workspace().agents.values())


def current_agent() -> AgentEntry | None:
    return workspace().agent


def agent_url() -> str:
    """The URL of the agent this session talks to."""
    entry = current_agent()
    return entry.url if entry else ""


def conversation() -> Conversation:
    """The current agent's current conversation (plain data)."""
    entry = current_agent()
    return entry.conversation if entry else Conversation()


def agent_info() -> agent.AgentInfo | None:
    """The current agent's card summary; connects on first use."""
    entry = current_agent()
    if entry is None:
        return None
    if entry.info is None and entry.error is None:
        _connect_entry(entry)
    return entry.info


def agent_error() -> AppError | None:
    """Why the last connection attempt failed, if it did."""
    error = keys.CONNECT_ERROR.get()
    entry = current_agent()
    return error or (entry.error if entry else None)


def _connect_entry(entry: AgentEntry) -> agent.AgentInfo | None:
    bad = keys.BAD_URLS.get_or({})
    try:
        if entry.url in bad:  # a configured URL that failed the check
            raise bad[entry.url]
        check_agent_url(entry.url)  # before the allow list: it parses the URL too
        allow_list().check(entry.url)
        if isinstance(problem := client_certificates().get(entry.url), AppError):
            raise problem  # its configured certificate does not load: say why, not a TLS error
        entry.info = agent.connect(
            runtime(),
            entry.url,
            entry.binding,
            extended=bool(entry.credentials),
            jwks_url=entry.jwks_url,
            tenant=entry.tenant,
        )
        entry.error = None
    except AppError as error:
        entry.error = error
    return entry.info


def connect(url: str) -> agent.AgentInfo | None:
    """Connect to `url` and select it. If it fails, the session stays with the agent it
    had (a mistyped URL loses nothing) and the error is kept for the sidebar."""
    keys.CONNECT_ERROR.pop()
    try:
        url = check_agent_url(url)  # before anything else: a bad URL touches nothing
    except InvalidUrl as error:
        keys.CONNECT_ERROR.set(error)
        return None
    space = workspace()
    known = space.agents.get(url)
    entry = known or AgentEntry(url)
    info = _connect_entry(entry)
    if info is None:
        if known is None or known is not space.agent:
            if entry.error is not None:
                keys.CONNECT_ERROR.set(entry.error)
        return None
    if known is None:
        space.agents[url] = entry
    stop_reply()
    space.select(url)
    save_selection(space)
    return info


def select_agent(url: str) -> None:
    stop_reply()
    keys.CONNECT_ERROR.pop()
    space = workspace()
    entry = space.select(url)
    save_selection(space)
    if entry.info is None:
        _connect_entry(entry)


def remove_agent(url: str) -> None:
    """Forget an agent and its conversations (at least one agent always stays)."""
    space = workspace()
    if len(space.agents) > 1:
        stop_reply()
        removed = space.agents[url]
        space.remove(url)
        origin_credentials().set(url, Credentials())
        if (kept := store()) is not None:
            kept.delete_agent(workspace_id(), stored_url(removed))
        save_selection(space)


def set_credentials(url: str, credentials: Credentials) -> None:
    """Use these credentials for `url`'s origin (memory only) and reconnect; credentials
    that could not be sent are not saved, and the sidebar says why."""
    keys.CONNECT_ERROR.pop()
    redactor().add(credentials.secret_values)
    try:
        credentials.check()
    except AppError as error:
        keys.CONNECT_ERROR.set(error)
        return
    entry = workspace().agents[url]
    entry.credentials = credentials
    origin_credentials().set(url, credentials)
    entry.error = None
    _connect_entry(entry)


def set_binding(url: str, binding: str) -> None:
    """Choose the protocol binding for `url` ("" lets the card decide) and reconnect."""
    space = workspace()
    entry = space.agents[url]
    entry.binding = binding
    entry.error = None
    save_selection(space)
    _connect_entry(entry)


def set_tenant(url: str, tenant: str) -> None:
    """Send `tenant` on every request to `url` ("" sends none) and reconnect."""
    space = workspace()
    entry = space.agents[url]
    tenant = tenant.strip()[:MAX_TENANT_LENGTH]
    if tenant == entry.tenant:
        return
    entry.tenant = tenant
    entry.error = None
    save_selection(space)
    _connect_entry(entry)


def stop_reply() -> None:
    """Stop the streaming reply: cancel the stream and its task on the agent."""
    rt = keys.RUNTIME.get()
    if rt is not None and rt.alive and (stream := rt.active_stream) is not None:
        stream.cancel()
    # Only a session that has its workspace can have a reply streaming: don't make one.
    reply = conversation().last_reply if keys.WORKSPACE.present() else None
    if reply is not None:
        stop_this_reply(reply)


def stop_this_reply(reply: Reply) -> None:
    """Mark `reply` stopped by the user, cancel its task on the agent, keep what arrived."""
    if reply.settled or reply.error or reply.ended_at is not None:
        return
    reply.stopped = True
    reply.finish()
    if reply.task_id:
        try:
            reply.state = agent.cancel_task(runtime(), agent_url(), reply.task_id)
        except AppError as error:
            reply.error, reply.error_detail = (
                f"Stopped here, but the agent did not confirm the cancel: {error}",
                error.detail,
            )
    if (writer := writer_for(conversation(), reply)) is not None:
        writer.done()
