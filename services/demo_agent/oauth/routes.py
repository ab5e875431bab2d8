"""The authorization server's Starlette routes: endpoints, metadata, and two small pages.

Every route reads its request in full first (`FormRequest`, at most 16 KB of body) and
then lets Authlib decide. The consent page (`/oauth/authorize`) and the device page
(`/oauth/device`) are plain escaped HTML forms with no scripts; there is no sign-in:
whoever opens them decides as the demo user, which is what a loopback demo needs.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2.rfc6749 import InsecureTransportError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from services.demo_agent.oauth.config import SCOPES
from services.demo_agent.oauth.grants import ALGORITHM, AUTH_METHODS, GRANT_TYPES
from services.demo_agent.oauth.server import DemoAuthorizationServer, FormRequest

__all__ = ["MAX_BODY", "metadata", "oauth_routes"]

MAX_BODY = 16 * 1024  # bytes of form a request may send
_MAX_FIELDS = 50
_PAGE_HEADERS = {
    # No scripts, no framing (clickjacking a consent button), nothing cached or leaked.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_STYLE = "body{font-family:sans-serif;max-width:36em;margin:3em auto;line-height:1.5}"

Handler = Callable[[Request], Awaitable[Response]]


class _BodyTooLarge(Exception):
    pass


def oauth_routes(server: DemoAuthorizationServer) -> list[Route]:
    """The routes of `server`, at the paths its endpoints name (all exact paths)."""
    endpoints = server.endpoints

    async def authorize(request: Request) -> Response:
        return _authorize(server, await _read(request))

    async def token(request: Request) -> Response:
        return server.create_token_response(await _read(request))

    async def device_authorization(request: Request) -> Response:
        return server.create_endpoint_response("device_authorization", await _read(request))

    async def device(request: Request) -> Response:
        return _device_page(server, await _read(request))

    async def jwks(_request: Request) -> Response:
        return JSONResponse(server.public_jwks)

    async def discovery(_request: Request) -> Response:
        return JSONResponse(metadata(server))

    handlers: list[tuple[str, Handler, list[str]]] = [
        (endpoints.authorization, authorize, ["GET", "POST"]),
        (endpoints.token, token, ["POST"]),
        (endpoints.device_authorization, device_authorization, ["POST"]),
        (endpoints.device_verification, device, ["GET", "POST"]),
        (endpoints.jwks, jwks, ["GET"]),
        (endpoints.metadata, discovery, ["GET"]),
        # Also where clients that append the suffix to the issuer look (RFC 8414 §5).
        (f"{endpoints.issuer}/.well-known/oauth-authorization-server", discovery, ["GET"]),
        (endpoints.openid_configuration, discovery, ["GET"]),
    ]
    return [
        Route(_path(url), _guarded(handler), methods=methods) for url, handler, methods in handlers
    ]


def metadata(server: DemoAuthorizationServer) -> dict[str, Any]:
    """RFC 8414 metadata, which is also the OpenID Connect discovery document."""
    endpoints, config = server.endpoints, server.config
    public = ["none"] if config.public_client else []
    return {
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorization,
        "token_endpoint": endpoints.token,
        "device_authorization_endpoint": endpoints.device_authorization,
        "jwks_uri": endpoints.jwks,
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [g for g in GRANT_TYPES if server.client.check_grant_type(g)],
        "token_endpoint_auth_methods_supported": AUTH_METHODS + public,
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "name",
            "preferred_username",
        ],
    }


def _guarded(handler: Handler) -> Handler:
    """Answers what Authlib leaves unhandled: a body too large, plain http off loopback,
    and text it cannot decode or put into an error (`OAuth2Error` refuses some chars)."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except _BodyTooLarge:
            return _error(413, f"The request body is over {MAX_BODY // 1024} KB.")
        except InsecureTransportError:
            return _error(400, "OAuth needs https, or http on a loopback address.")
        except ValueError:
            return _error(400, "The request has malformed or undecodable parameters.")

    return guarded


def _error(status_code: int, description: str) -> JSONResponse:
    body = {"error": "invalid_request", "error_description": description}
    return JSONResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


async def _read(request: Request) -> FormRequest:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _BodyTooLarge
    form: list[tuple[str, str]] = []
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    query = parse_qsl(request.url.query, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    return FormRequest(request.method, str(request.url), request.headers, query, form)


# --- the consent page (authorization code grant) ------------------------------------------


def _authorize(server: DemoAuthorizationServer, request: FormRequest) -> Response:
    try:
        grant = server.get_consent_grant(request, end_user=server.user)
    except OAuth2Error as error:
        if error.redirect_uri:  # the client and its redirect URI are sound: tell it there
            return server.handle_error_response(request, error)
        reason = f": {_e(error.description)}" if error.description else ""
        return _page(
            "Authorization request refused",
            f"<p><b>{_e(error.error)}</b>{reason}</p>",
            status_code=error.status_code or 400,
        )
    if "none" in grant.request.payload.data.get("prompt", "").split():
        # OpenID Connect Core §3.1.2.1: no page for prompt=none, and no consent is kept.
        required = ConsentRequiredError(redirect_uri=grant.redirect_uri)
        required.state = grant.request.payload.state
        return server.handle_error_response(request, required)
    if request.method == "GET":
        return _consent_page(server, request, grant.request.scope)
    allowed = dict(request.form).get("decision") == "allow"
    return server.create_authorization_response(
        grant.request, grant_user=server.user if allowed else None, grant=grant
    )


def _consent_page(server: DemoAuthorizationServer, request: FormRequest, scope: str) -> Response:
    # The request's own fields go back in the POST; a decision field is ours to add.
    hidden = "".join(
        f'<input type="hidden" name="{_e(key)}" value="{_e(value)}">'
        for key, value in request.query
        if key != "decision"
    )
    redirect_uri = dict(request.query).get("redirect_uri", "")
    body = (
        f"<p><b>{_e(server.config.client_id)}</b> asks to act as <b>{_e(server.user.name)}</b>:"
        f"</p>{_scope_list(scope)}<p>You will return to <code>{_e(redirect_uri)}</code>.</p>"
        f'<form method="post" action="{_e(_path(server.endpoints.authorization))}">{hidden}'
        '<button name="decision" value="allow">Allow</button> '
        '<button name="decision" value="deny">Deny</button></form>'
    )
    return _page("Allow access to the A2A Demo Agent?", body)


# --- the device page (RFC 8628 §3.3) ---------------------------------------------------


def _device_page(server: DemoAuthorizationServer, request: FormRequest) -> Response:
    fields = dict(request.query) | dict(request.form)
    user_code = _normal_user_code(fields.get("user_code", ""))
    if request.method == "POST":
        approved = fields.get("decision") == "allow"
        if not server.store.decide(user_code, server.user, approved=approved):
            return _device_form(server, user_code, "That code is unknown, expired or used.", 400)
        outcome = "You allowed the device" if approved else "You denied the device"
        return _page("Done", f"<p>{outcome}. You can close this page and return to it.</p>")
    return _device_form(server, user_code, "", 200)


def _device_form(
    server: DemoAuthorizationServer, user_code: str, problem: str, status_code: int
) -> Response:
    pending = server.store.awaiting_decision(user_code) if user_code else None
    asks = (
        f"<p><b>{_e(pending.get_client_id())}</b> asks to act as "
        f"<b>{_e(server.user.name)}</b>:</p>{_scope_list(pending.get_scope() or '')}"
        if pending
        else ""
    )
    body = (
        (f"<p><b>{_e(problem)}</b></p>" if problem else "")
        + asks
        + f'<form method="post" action="{_e(_path(server.endpoints.device_verification))}">'
        '<p><label>Code shown on your device: <input name="user_code" '
        f'value="{_e(user_code)}" autocomplete="off" required></label></p>'
        '<button name="decision" value="allow">Allow</button> '
        '<button name="decision" value="deny">Deny</button></form>'
    )
    return _page("Connect a device to the A2A Demo Agent", body, status_code=status_code)


def _normal_user_code(value: str) -> str:
    """`bcdfghjk` and ` BCDF-GHJK ` both name the code Authlib made as `BCDF-GHJK`."""
    code = value.strip().upper()
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 and "-" not in code else code


# --- page helpers ---------------------------------------------------------------------


def _scope_list(scope: str) -> str:
    items = "".join(
        f"<li>{_e(SCOPES.get(name, name))} (<code>{_e(name)}</code>)</li>" for name in scope.split()
    )
    return f"<ul>{items}</ul>"


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{_e(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers=_PAGE_HEADERS)


def _path(url: str) -> str:
    """A URL's path: routes and form actions hold on whatever host the browser used."""
    return urlsplit(url).path


def _e(text: str) -> str:
    return html.escape(text, quote=True)
