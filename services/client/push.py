"""Push notifications, the client's side: a task's push configs, and sending in the background.

With push notifications a client need not hold a stream open: it gives the agent a webhook
URL (and a token the webhook checks) and the agent POSTs each of the task's events there.
This module creates, reads, lists and deletes a task's push notification configs, and
sends a message with `returnImmediately` and a push config attached, so the call comes
back with the task at once and the rest of the task reaches the webhook.

Pages get plain data (`PushConfig`, `BackgroundTask`). A config's token leaves this module
only in `create_push_config`'s result; every token and credential given or read is added
to the session's redactor before the inspector could show it, so its records (each call is
one, as for a reply) mask it. An agent whose card does not declare push notifications gets
a sentence before any push request.

Async functions run on the session's loop; the sync twins are what pages call.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from a2a.client import ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    AuthenticationInfo,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest,
    TaskPushNotificationConfig,
)

from services.client import resources
from services.client.agent import AgentConnection, SendOptions, connection_for
from services.client.extensions import call_context
from services.errors import AgentError, AppError, translate_errors
from services.inspector.capture import StreamRecord, TrafficRecorder, capturing
from services.replies import ReplyEvent, to_reply_event
from services.runtime import SessionRuntime
from services.urls import shorten

__all__ = [
    "BackgroundTask",
    "PushConfig",
    "acreate_push_config",
    "adelete_push_config",
    "aget_push_config",
    "alist_push_configs",
    "asend_in_background",
    "create_push_config",
    "delete_push_config",
    "get_push_config",
    "list_push_configs",
    "send_in_background",
]

# Config ids go into REST paths (/tasks/{id}/pushNotificationConfigs/{config_id}) as they
# are: keep them to characters no path or query can misread.
_CONFIG_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@dataclass(frozen=True)
class PushConfig:
    """A task's push notification config as pages show it.

    `token` is filled in `create_push_config`'s result only (the caller chose it); read
    back, a config says only whether it has one. Authentication credentials are never
    kept, only their scheme.
    """

    id: str
    task_id: str
    url: str
    has_token: bool
    auth_scheme: str = ""  # AuthenticationInfo.scheme ("Bearer", ...); "" for none
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class BackgroundTask:
    """What a background send returned at once: the task (or the agent's direct reply).

    `task_id` is "" when the agent answered with a message instead of starting a task
    (`event.kind == "message"`): then there is nothing to follow, and no notification
    will come.
    """

    task_id: str
    context_id: str
    state: str  # "submitted" or "working", usually; as `services.replies` names states
    push_config_id: str  # the config the agent was given, for get/list/delete later
    event: ReplyEvent  # the task (or message) as the chat draws it


def _view(config: TaskPushNotificationConfig, *, token: str = "") -> PushConfig:
    return PushConfig(
        id=config.id,
        task_id=config.task_id,
        url=config.url,
        has_token=bool(config.token),
        auth_scheme=config.authentication.scheme if config.HasField("authentication") else "",
        token=token,
    )


def _secrets_of(configs: Iterable[TaskPushNotificationConfig]) -> list[str]:
    return [s for c in configs for s in (c.token, c.authentication.credentials) if s]


async def _push_connection(runtime: SessionRuntime, url: str) -> AgentConnection:
    """The agent's connection, or a sentence if its card does not offer push."""
    connection = await connection_for(runtime, url)
    if not connection.card.capabilities.push_notifications:
        # a2a-sdk's handler refuses these calls unless the card says so: don't ask.
        raise AppError(
            f"The agent at {shorten(url)} does not offer push notifications (its card "
            "does not declare them), so it cannot notify a webhook; follow the task in the "
            "chat or on the Tasks page instead."
        )
    return connection


@contextmanager
def _recorded(
    recorder: TrafficRecorder, connection: AgentConnection, url: str, label: str
) -> Iterator[StreamRecord]:
    """Record the calls made inside in the inspector (one record), errors translated."""
    info = connection.info
    record = recorder.begin(label, url, binding=info.binding, version=info.protocol_version)
    error = ""
    with capturing(record):
        try:
            with _push_errors(url):
                yield record
        except AppError as failure:
            error = str(failure)
            raise
        finally:
            record.finish(error)


@contextmanager
def _push_errors(url: str) -> Iterator[None]:
    """`translate_errors`, with a sentence of its own for a refused webhook URL."""
    try:
        with translate_errors(url):
            yield
    except AgentError as error:
        # a2a-sdk's handler answers InvalidParams "Invalid push notification URL" when its
        # push_url_validator refuses the address (loopback, private, unresolvable...).
        if "Invalid push notification URL" in error.detail:
            raise AgentError(
                f"The agent at {shorten(url)} refused the webhook URL (agents commonly refuse "
                "loopback, private and unresolvable addresses); give a public URL the agent "
                "can reach.",
                detail=error.detail,
            ) from error
        raise


def _checked_id(config_id: str) -> str:
    config_id = config_id or uuid.uuid4().hex
    if not _CONFIG_ID.fullmatch(config_id):
        raise AppError(
            "A push config id may hold only letters, digits and . _ ~ - (at most 128); "
            f"{config_id[:40]!r} does not."
        )
    return config_id


def _config(
    task_id: str, push_url: str, token: str, config_id: str, auth: tuple[str, str] | None
) -> TaskPushNotificationConfig:
    config = TaskPushNotificationConfig(id=config_id, task_id=task_id, url=push_url, token=token)
    if auth is not None:
        scheme, credentials = auth
        config.authentication.CopyFrom(AuthenticationInfo(scheme=scheme, credentials=credentials))
    return config


async def acreate_push_config(
    runtime: SessionRuntime,
    url: str,
    task_id: str,
    push_url: str,
    token: str = "",
    *,
    config_id: str = "",
    auth: tuple[str, str] | None = None,
) -> PushConfig:
    """Ask the agent to notify `push_url` of `task_id`'s events (CreateTaskPushNotificationConfig).

    Args:
        token: sent back by the agent with each notification (a2a-sdk: in
            `X-A2A-Notification-Token`), so the webhook knows the call is for it.
        config_id: the config's id; a fresh one if "".
        auth: (scheme, credentials) the agent sends as `Authorization` to the webhook.
    """
    config_id = _checked_id(config_id)
    connection = await _push_connection(runtime, url)
    recorder = await resources.arecorder(runtime)
    recorder.redactor.add([token, *(auth[1:] if auth else ())])
    request = _config(task_id, push_url, token, config_id, auth)
    with _recorded(recorder, connection, url, f"Push config for task {task_id[:8]}"):
        created = await connection.client.create_task_push_notification_config(request)
    return _view(created, token=token)


async def aget_push_config(
    runtime: SessionRuntime, url: str, task_id: str, config_id: str
) -> PushConfig:
    """One of `task_id`'s push configs (GetTaskPushNotificationConfig), without its token."""
    connection = await _push_connection(runtime, url)
    request = GetTaskPushNotificationConfigRequest(task_id=task_id, id=_checked_id(config_id))
    recorder = await resources.arecorder(runtime)
    with _recorded(recorder, connection, url, f"Get push config of task {task_id[:8]}"):
        config = await connection.client.get_task_push_notification_config(request)
        recorder.redactor.add(_secrets_of([config]))  # the recorded body carries them
    return _view(config)


async def alist_push_configs(runtime: SessionRuntime, url: str, task_id: str) -> list[PushConfig]:
    """All of `task_id`'s push configs (ListTaskPushNotificationConfigs, every page)."""
    connection = await _push_connection(runtime, url)
    recorder = await resources.arecorder(runtime)
    configs: list[TaskPushNotificationConfig] = []
    page_token = ""
    with _recorded(recorder, connection, url, f"List push configs of task {task_id[:8]}"):
        for _ in range(100):  # a bound, should an agent hand out page tokens forever
            request = ListTaskPushNotificationConfigsRequest(task_id=task_id, page_token=page_token)
            page = await connection.client.list_task_push_notification_configs(request)
            recorder.redactor.add(_secrets_of(page.configs))
            configs.extend(page.configs)
            page_token = page.next_page_token
            if not page_token:
                break
    return [_view(config) for config in configs]


async def adelete_push_config(
    runtime: SessionRuntime, url: str, task_id: str, config_id: str
) -> None:
    """Stop the agent notifying through this config (DeleteTaskPushNotificationConfig)."""
    connection = await _push_connection(runtime, url)
    request = DeleteTaskPushNotificationConfigRequest(task_id=task_id, id=_checked_id(config_id))
    recorder = await resources.arecorder(runtime)
    with _recorded(recorder, connection, url, f"Delete push config of task {task_id[:8]}"):
        await connection.client.delete_task_push_notification_config(request)


async def asend_in_background(
    runtime: SessionRuntime,
    url: str,
    text: str,
    options: SendOptions | None,
    push_url: str,
    push_token: str,
    *,
    config_id: str = "",
) -> BackgroundTask:
    """Send `text` with a push config and `returnImmediately`; return the task at once.

    The agent runs the task on and POSTs its events to `push_url` with `push_token`.
    """
    config_id = _checked_id(config_id)
    connection = await _push_connection(runtime, url)
    recorder = await resources.arecorder(runtime)
    recorder.redactor.add([push_token])
    request = (options or SendOptions()).request(text)
    # a2a.proto, SendMessageConfiguration: the agent answers once the task exists instead of
    # waiting for it to finish; the config's task id stays empty (the task is not made yet).
    request.configuration.return_immediately = True
    request.configuration.task_push_notification_config.CopyFrom(
        _config("", push_url, push_token, config_id, None)
    )
    # SendMessage, not SendStreamingMessage: a2a-sdk's client picks the method from
    # ClientConfig.streaming, and the session's client streams. This one, made for the
    # call, shares the session's httpx client (capture, credentials, allow list), the
    # card and the interface the connection chose.
    http = await resources.ahttp(runtime)
    config = ClientConfig(
        httpx_client=http,
        streaming=False,
        supported_protocol_bindings=[connection.info.binding],
        use_client_preference=True,
        grpc_channel_factory=await resources.agrpc_channel_factory(runtime, url),
    )
    first: ReplyEvent | None = None
    with _recorded(recorder, connection, url, f"Background: {text}") as record:
        client = ClientFactory(config).create(connection.card)
        try:
            context = call_context(options.extensions if options else ())
            async for response in client.send_message(request, context=context):
                first = to_reply_event(response)
                record.add_event(first)
        finally:
            await client.close()  # a shared httpx client stays open
    if first is None:  # the SDK yields exactly one response for SendMessage
        raise AgentError(f"The agent at {shorten(url)} answered the message with nothing.")
    return BackgroundTask(
        task_id=first.task_id,
        context_id=first.context_id,
        state=first.state,
        push_config_id=config_id,
        event=first,
    )


# --- sync twins for the script thread -----------------------------------------------------


def create_push_config(
    runtime: SessionRuntime,
    url: str,
    task_id: str,
    push_url: str,
    token: str = "",
    *,
    config_id: str = "",
    auth: tuple[str, str] | None = None,
) -> PushConfig:
    """Ask the agent to notify `push_url` of `task_id`'s events; the result holds `token`."""
    return runtime.call(
        partial(acreate_push_config, config_id=config_id, auth=auth),
        runtime,
        url,
        task_id,
        push_url,
        token,
    )


def get_push_config(runtime: SessionRuntime, url: str, task_id: str, config_id: str) -> PushConfig:
    """One of `task_id`'s push configs, without its token."""
    return runtime.call(aget_push_config, runtime, url, task_id, config_id)


def list_push_configs(runtime: SessionRuntime, url: str, task_id: str) -> list[PushConfig]:
    """All of `task_id`'s push configs, without their tokens."""
    return runtime.call(alist_push_configs, runtime, url, task_id)


def delete_push_config(runtime: SessionRuntime, url: str, task_id: str, config_id: str) -> None:
    """Stop the agent notifying through this config."""
    runtime.call(adelete_push_config, runtime, url, task_id, config_id)


def send_in_background(
    runtime: SessionRuntime,
    url: str,
    text: str,
    options: SendOptions | None,
    push_url: str,
    push_token: str,
    *,
    config_id: str = "",
) -> BackgroundTask:
    """Send `text` to run in the background, notifying `push_url`; returns the task at once."""
    return runtime.call(
        partial(asend_in_background, config_id=config_id),
        runtime,
        url,
        text,
        options,
        push_url,
        push_token,
    )
