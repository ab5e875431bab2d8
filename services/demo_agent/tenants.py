"""Tenants and required extensions on the demo agent's request handler, and the REST
routes that carry a tenant in the path the way a2a-sdk's client builds it.

`CheckedRequestHandler` is a2a-sdk's `DefaultRequestHandler` with two checks before every
method: with `tenants`, the request's tenant (JSON-RPC `params.tenant`, HTTP+JSON
`/rest/{tenant}/...`) must be one of them, and the caller is narrowed to that tenant, so
every store (tasks, push configs; memory or database) keeps each tenant's tasks apart;
with `required_extensions`, a message must activate them all (`A2A-Extensions`).

`rest_routes`: the SDK's client puts the tenant after the interface's URL
(`{base}/rest/{tenant}/message:send`), while the SDK's `create_rest_routes` mounts
`/{tenant}` in front of its path prefix (`/{tenant}/rest/...`). `rest_routes` adds the client's
form.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Any

from a2a.auth.user import User
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import ServerCallContextBuilder, create_rest_routes
from a2a.utils.errors import ExtensionSupportRequiredError, InvalidParamsError
from starlette.routing import BaseRoute, Mount, Route

__all__ = ["CheckedRequestHandler", "rest_routes"]


class _TenantUser(User):
    """The caller, with the tasks it owns narrowed to one tenant."""

    def __init__(self, user: User, tenant: str) -> None:
        self._user = user
        self._tenant = tenant

    @property
    def is_authenticated(self) -> bool:
        return self._user.is_authenticated

    @property
    def user_name(self) -> str:
        return f"tenant:{self._tenant}/{self._user.user_name}"


class CheckedRequestHandler(DefaultRequestHandler):
    """`DefaultRequestHandler` that admits known tenants only and, for messages, only
    requests activating every required extension (see the module's docstring)."""

    def __init__(
        self,
        *args: Any,
        tenants: Iterable[str] = (),
        required_extensions: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tenants = tuple(tenants)
        self.required_extensions = tuple(required_extensions)

    def _admit(self, context: ServerCallContext, *, message: bool = False) -> None:
        if self.tenants:
            if context.tenant not in self.tenants:
                named = f"tenant {context.tenant!r}" if context.tenant else "no tenant"
                raise InvalidParamsError(
                    message=f"Unknown tenant: the request names {named}; this agent serves "
                    f"the tenants {', '.join(self.tenants)}."
                )
            if not isinstance(context.user, _TenantUser):
                context.user = _TenantUser(context.user, context.tenant)
        if message:
            missing = [u for u in self.required_extensions if u not in context.requested_extensions]
            if missing:
                raise ExtensionSupportRequiredError(
                    message=f"This agent requires the extension {missing[0]}: activate it "
                    "(A2A-Extensions) to send messages."
                )

    async def on_get_task(self, params: Any, context: ServerCallContext) -> Any:
        self._admit(context)
        return await super().on_get_task(params, context)

    async def on_list_tasks(self, params: Any, context: ServerCallContext) -> Any:
        self._admit(context)
        return await super().on_list_tasks(params, context)

    async def on_cancel_task(self, params: Any, context: ServerCallContext) -> Any:
        self._admit(context)
        return await super().on_cancel_task(params, context)

    async def on_message_send(self, params: Any, context: ServerCallContext) -> Any:
        self._admit(context, message=True)
        return await super().on_message_send(params, context)

    async def on_message_send_stream(
        self, params: Any, context: ServerCallContext
    ) -> AsyncGenerator[Any]:
        self._admit(context, message=True)
        async for event in super().on_message_send_stream(params, context):
            yield event

    async def on_subscribe_to_task(
        self, params: Any, context: ServerCallContext
    ) -> AsyncGenerator[Any]:
        self._admit(context)
        async for event in super().on_subscribe_to_task(params, context):
            yield event

    async def on_create_task_push_notification_config(
        self, params: Any, context: ServerCallContext
    ) -> Any:
        self._admit(context)
        return await super().on_create_task_push_notification_config(params, context)

    async def on_get_task_push_notification_config(
        self, params: Any, context: ServerCallContext
    ) -> Any:
        self._admit(context)
        return await super().on_get_task_push_notification_config(params, context)

    async def on_list_task_push_notification_configs(
        self, params: Any, context: ServerCallContext
    ) -> Any:
        self._admit(context)
        return await super().on_list_task_push_notification_configs(params, context)

    async def on_delete_task_push_notification_config(
        self, params: Any, context: ServerCallContext
    ) -> Any:
        self._admit(context)
        return await super().on_delete_task_push_notification_config(params, context)

    async def on_get_extended_agent_card(self, params: Any, context: ServerCallContext) -> Any:
        self._admit(context)
        return await super().on_get_extended_agent_card(params, context)


def rest_routes(
    handler: DefaultRequestHandler, prefix: str, context_builder: ServerCallContextBuilder
) -> list[BaseRoute]:
    """The SDK's REST routes under `prefix` (with its v0.3 ones), and the same under
    `{prefix}/{tenant}`: after the plain ones (a path without a tenant is theirs) and
    before the SDK's catch-all `/{tenant}` mount, which would take any path it reaches."""
    sdk = create_rest_routes(
        handler, path_prefix=prefix, enable_v0_3_compat=True, context_builder=context_builder
    )
    plain = create_rest_routes(handler, path_prefix="", context_builder=context_builder)
    tenanted = [
        Route(f"{prefix}/{{tenant}}{r.path}", r.endpoint, methods=sorted(r.methods or ()))
        for r in plain
        if isinstance(r, Route)
    ]
    mounts = [r for r in sdk if isinstance(r, Mount)]
    return [*(r for r in sdk if not isinstance(r, Mount)), *tenanted, *mounts]
