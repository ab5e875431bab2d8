"""`build_app`: the demo agent as a Starlette app (card, JSON-RPC at `/`, REST at `/rest`).

It wires a2a-sdk's request handler to `DemoAgentExecutor`, an in-memory or database task
store, a push config store beside it and a2a-sdk's push sender (see `push`), the
per-visitor call context and, with `auth` or `oauth`, the credentials middleware (and,
with `oauth`, the authorization server under `/oauth`); it also serves a few public
files at `/files/{name}`, and, with `card_signing`, its key set at
`/.well-known/jwks.json`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import urlsplit

from a2a.server.routes import (
    create_agent_card_routes,
    create_jsonrpc_routes,
)
from a2a.server.tasks import (
    BasePushNotificationSender,
    InMemoryPushNotificationConfigStore,
    InMemoryTaskStore,
)
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from services.demo_agent.auth import DemoAuth, RequireCredentials, demo_auth_check
from services.demo_agent.card import build_agent_card, build_extended_agent_card
from services.demo_agent.executor import DemoAgentExecutor
from services.demo_agent.extensions import ExtensionsHeader, demo_extensions
from services.demo_agent.grpc_server import serve_grpc
from services.demo_agent.oauth import DemoOAuth, mount_oauth
from services.demo_agent.push import is_loopback_url, new_push_client, push_url_policy
from services.demo_agent.scenarios import DemoTiming
from services.demo_agent.signing import JWKS_PATH, CardSigner, CardSigning
from services.demo_agent.store import PersistentTaskStore
from services.demo_agent.tenants import CheckedRequestHandler, rest_routes
from services.demo_agent.visitors import PerVisitor

__all__ = ["PUBLIC_FILES", "build_app"]

# a2a-sdk's server warns "Dispatcher task is not running" whenever a client leaves a
# stream early (Stop, a closed tab): expected here, and noise in the app's console.
logging.getLogger("a2a.server.events.event_queue_v2").setLevel(logging.ERROR)

# Files the app serves publicly at /files/{name}; the chart scenario links to one.
PUBLIC_FILES: dict[str, tuple[str, str]] = {
    "readme.txt": (
        "A2A Demo Agent\n\nThis file is served by the demo agent at /files/readme.txt and "
        "reaches you as a URL file part: the client fetches it, not the agent.\n",
        "text/plain; charset=utf-8",
    ),
}


async def _public_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in PUBLIC_FILES:
        return PlainTextResponse("Not Found", status_code=404)
    text, media_type = PUBLIC_FILES[name]
    return PlainTextResponse(text, media_type=media_type)


def build_app(
    base_url: str,
    timing: DemoTiming | None = None,
    *,
    streaming: bool = True,
    auth: DemoAuth | None = None,
    oauth: DemoOAuth | None = None,
    database_url: str | None = None,
    card_signing: CardSigning | None = None,
    grpc_port: int | None = None,
    tenants: tuple[str, ...] = (),
    required_extension: bool = False,
) -> Starlette:
    """A Starlette app serving the demo agent: card, JSON-RPC at `/`, REST at `/rest`.

    `streaming=False` serves a card without streaming, for clients' polling paths.
    `auth` requires its credentials on everything but the card and `/files/...`.
    `oauth` instead serves an authorization server under `/oauth` (issuer
    `{base_url}/oauth`) and requires its JWT access tokens, with scope `a2a:call`, on
    everything but the card, `/files/...` and the authorization server's own paths.
    `database_url` (`sqlite:///path`, `postgresql+psycopg://...`) keeps tasks, and their
    push configs, in tables `demo_agent_tasks` and `demo_agent_push_configs` of that
    database instead of memory; the app's lifespan opens it (and fails tasks a restart
    cut off) and closes it, so serve it with lifespan on.

    Push notifications go to public addresses only, and also to loopback when `base_url`
    is a loopback address: both servers (`LoopbackServer`, `python -m services.demo_agent`)
    build it from the address they bind, so it says where the agent can be reached from.

    `card_signing="signed"` signs the public and extended cards (ES256, the key published
    at `/.well-known/jwks.json`); "bad" changes each card after signing it (see `signing`).

    `grpc_port` also serves the agent over gRPC on that port of `base_url`'s host (the
    card's third interface), from the app's lifespan: serve it with lifespan on.

    The card declares two extensions (see `extensions`); `required_extension=True` makes
    the audit one required, and messages without it are refused. `tenants` admits only
    requests naming one of them (JSON-RPC `params.tenant`, `/rest/{tenant}/...`), each
    tenant's tasks apart (see `tenants`).
    """
    if auth and oauth:
        raise ValueError("build_app takes auth or oauth, not both")
    grpc_host = urlsplit(base_url).hostname or "127.0.0.1"
    grpc_target = f"{grpc_host}:{grpc_port}" if grpc_port is not None else ""
    card = build_agent_card(base_url, auth=auth, oauth=oauth, grpc_target=grpc_target)
    card.capabilities.streaming = streaming
    extensions = demo_extensions(required=required_extension)
    card.capabilities.extensions.extend(extensions)
    extended_card = build_extended_agent_card(card)
    signer = CardSigner(base_url, card_signing) if card_signing else None
    if signer:
        card, extended_card = signer.sign(card), signer.sign(extended_card)
    persistent = PersistentTaskStore(database_url) if database_url else None
    push_configs = persistent.push_configs if persistent else InMemoryPushNotificationConfigStore()
    # Loopback webhooks only for an agent bound to loopback (see `push` for why).
    policy = push_url_policy(allow_loopback=is_loopback_url(base_url))
    push_client = new_push_client()
    handler = CheckedRequestHandler(
        tenants=tenants,
        required_extensions=[e.uri for e in extensions if e.required],
        agent_executor=DemoAgentExecutor(timing, base_url),
        task_store=persistent or InMemoryTaskStore(),
        agent_card=card,
        extended_agent_card=extended_card,
        push_config_store=push_configs,
        # Checked when a config is registered (CreateTaskPushNotificationConfig, or one
        # in SendMessage's configuration) and again before each POST.
        push_sender=BasePushNotificationSender(
            push_client, push_configs, push_url_validator=policy
        ),
        push_url_validator=policy,
    )
    mounted = mount_oauth(oauth, base_url) if oauth else None
    routes = [
        *create_agent_card_routes(card),
        *(mounted.routes if mounted else []),  # exact paths, before the REST mount too
        *(signer.routes() if signer else []),
        # Before the REST routes: they mount `/{tenant}` at the root, which would
        # otherwise take `/files/...` for a tenant and answer 404.
        Route("/files/{name}", _public_file, methods=["GET"]),
        *create_jsonrpc_routes(
            handler, rpc_url="/", enable_v0_3_compat=True, context_builder=PerVisitor()
        ),
        *rest_routes(handler, "/rest", PerVisitor()),  # and `/rest/{tenant}/...`
    ]
    # Exact paths, so the SDK's `/{tenant}/...` REST mount is never public through them.
    public = {AGENT_CARD_WELL_KNOWN_PATH, *(f"/files/{name}" for name in PUBLIC_FILES)}
    if signer:
        public.add(JWKS_PATH)  # the key that checks the card is as public as the card
    check = demo_auth_check(auth) if auth else mounted.check if mounted else None
    middleware = []
    if auth:
        middleware = [Middleware(RequireCredentials, check=demo_auth_check(auth), public=public)]
    elif mounted:
        middleware = [
            Middleware(
                RequireCredentials,
                check=mounted.check,
                public=public,
                open_paths=mounted.open_paths,
            )
        ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if persistent:
            await persistent.open()
        try:
            async with AsyncExitStack() as serving:
                if grpc_port is not None:  # on this loop, stopped before the handler closes
                    await serving.enter_async_context(
                        serve_grpc(handler, check, grpc_host, grpc_port)
                    )
                yield
        finally:
            await handler.aclose()  # running tasks stop before their store closes
            await push_client.aclose()
            if persistent:
                await persistent.close()

    middleware.append(Middleware(ExtensionsHeader, known=[e.uri for e in extensions]))
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
