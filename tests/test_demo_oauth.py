"""The demo agent as its own OAuth 2 / OpenID Connect server (`DemoOAuth`), end to end.

Every test runs the real agent on loopback and talks to it as a client would: Authlib's
httpx OAuth client for the token requests, plain httpx for the pages a browser would
post, and a2a-sdk's client for the agent itself. Redirect URIs point at a loopback port
where nothing listens: the tests read the `Location` the server answers with.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from a2a.client import AuthInterceptor, ClientConfig, CredentialService, create_client
from a2a.client.client import ClientCallContext
from a2a.helpers.proto_helpers import new_text_part
from a2a.types.a2a_pb2 import (
    GetExtendedAgentCardRequest,
    Message,
    Role,
    SendMessageRequest,
)
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE
from authlib.oidc.discovery import OpenIDProviderMetadata
from google.protobuf.json_format import MessageToDict
from joserfc import jwt
from joserfc.jwk import KeySet

from services.demo_agent import (
    DemoAgentServer,
    DemoAuth,
    DemoOAuth,
    build_agent_card,
    build_app,
)
from services.demo_agent.oauth.store import MAX_PENDING
from services.inspector.card_check import check_card
from tests.conftest import FAST

pytestmark = pytest.mark.timeout(60)

CLIENT_ID, SECRET = "demo-client", "demo-secret"
REDIRECT_URI = "http://127.0.0.1:8501/oauth/callback"  # the app's callback; nothing listens
ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@pytest.fixture(scope="module")
def agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=FAST, oauth=DemoOAuth()) as server:
        yield server


@pytest.fixture(scope="module")
def short_lived() -> Iterator[DemoAgentServer]:
    """Access tokens and device codes that last one second."""
    oauth = DemoOAuth(access_token_lifetime=1, device_code_lifetime=1)
    with DemoAgentServer(timing=FAST, oauth=oauth) as server:
        yield server


# --- helpers ---------------------------------------------------------------------------


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run the async client side of a test on a fresh event loop, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(work(), 20)

    return asyncio.run(bounded())


def metadata(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/.well-known/oauth-authorization-server/oauth").json()


def oauth_client(url: str, **kwargs: Any) -> OAuth2Client:
    """Authlib's client for the demo client, confidential unless told otherwise."""
    kwargs.setdefault("client_secret", SECRET)
    return OAuth2Client(CLIENT_ID, redirect_uri=REDIRECT_URI, **kwargs)


def client_credentials(url: str, scope: str = "a2a:call") -> dict[str, Any]:
    with oauth_client(url, scope=scope) as client:
        return dict(client.fetch_token(f"{url}/oauth/token", grant_type="client_credentials"))


class _HiddenFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden":
            self.fields.append((found.get("name") or "", found.get("value") or ""))


def hidden_fields(page: str) -> list[tuple[str, str]]:
    parser = _HiddenFields()
    parser.feed(page)
    return parser.fields


def consent(url: str, authorization_url: str, decision: str = "allow") -> httpx.Response:
    """Open the consent page as a browser would, and press Allow (or Deny)."""
    with httpx.Client() as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, page.text
        form = {**dict(hidden_fields(page.text)), "decision": decision}
        return browser.post(f"{url}/oauth/authorize", data=form)


def sign_in(
    url: str, scope: str = "a2a:call", **client_kwargs: Any
) -> tuple[OAuth2Client, str, str]:
    """An approved authorization request: the client, its PKCE verifier, and the redirect."""
    client = oauth_client(url, scope=scope, code_challenge_method="S256", **client_kwargs)
    verifier = secrets.token_urlsafe(48)
    authorization_url, _state = client.create_authorization_url(
        f"{url}/oauth/authorize", code_verifier=verifier, nonce="n-0S6_WzA2Mj"
    )
    redirect = consent(url, authorization_url)
    assert redirect.status_code == 302, redirect.text
    return client, verifier, redirect.headers["location"]


def get_task(url: str, token: str | None) -> httpx.Response:
    """A JSON-RPC GetTask of a task that does not exist, with `token` if given."""
    headers = {"A2A-Version": "1.0"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "no-such-task"}}
    return httpx.post(f"{url}/", json=body, headers=headers)


def assert_accepted(url: str, token: str) -> None:
    answer = get_task(url, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["error"]["message"] == "Task not found"  # past auth, into A2A


def token_endpoint_error(response: httpx.Response) -> str:
    return str(response.json()["error"])


def device_authorization(url: str) -> dict[str, Any]:
    # A public client: client_id alone, as a TV or a command line would send it.
    answer = httpx.post(
        f"{url}/oauth/device_authorization",
        data={"client_id": CLIENT_ID, "scope": "a2a:call offline_access"},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def poll(url: str, device_code: str) -> httpx.Response:
    data = {"grant_type": DEVICE_CODE_GRANT_TYPE, "device_code": device_code}
    return httpx.post(f"{url}/oauth/token", data={**data, "client_id": CLIENT_ID})


class StaticCredentials(CredentialService):
    def __init__(self, **by_scheme: str) -> None:
        self.by_scheme = by_scheme

    async def get_credentials(
        self, security_scheme_name: str, context: ClientCallContext | None
    ) -> str | None:
        return self.by_scheme.get(security_scheme_name)


# --- discovery and the card --------------------------------------------------------------


def test_the_metadata_documents_agree_and_the_card_points_at_them(agent):
    url = agent.url
    rfc8414 = metadata(url)
    suffixed = httpx.get(f"{url}/oauth/.well-known/oauth-authorization-server").json()
    openid = httpx.get(f"{url}/oauth/.well-known/openid-configuration").json()
    assert rfc8414 == suffixed == openid
    AuthorizationServerMetadata(rfc8414).validate()
    OpenIDProviderMetadata(openid).validate()
    assert rfc8414["issuer"] == f"{url}/oauth"
    assert rfc8414["authorization_endpoint"] == f"{url}/oauth/authorize"
    assert rfc8414["token_endpoint"] == f"{url}/oauth/token"
    assert rfc8414["device_authorization_endpoint"] == f"{url}/oauth/device_authorization"
    assert rfc8414["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_CODE_GRANT_TYPE in rfc8414["grant_types_supported"]
    assert {"a2a:call", "openid", "profile", "offline_access"} <= set(rfc8414["scopes_supported"])
    assert httpx.get(rfc8414["jwks_uri"]).json()["keys"][0]["kid"]

    card = httpx.get(f"{url}/.well-known/agent-card.json").json()
    schemes = card["securitySchemes"]
    code = schemes["oauth2"]["oauth2SecurityScheme"]
    assert code["oauth2MetadataUrl"] == f"{url}/.well-known/oauth-authorization-server/oauth"
    assert (
        code["flows"]["authorizationCode"]["authorizationUrl"] == rfc8414["authorization_endpoint"]
    )
    assert code["flows"]["authorizationCode"]["tokenUrl"] == rfc8414["token_endpoint"]
    assert code["flows"]["authorizationCode"]["pkceRequired"] is True
    machine = schemes["oauth2ClientCredentials"]["oauth2SecurityScheme"]["flows"]
    assert machine["clientCredentials"]["tokenUrl"] == rfc8414["token_endpoint"]
    device = schemes["oauth2DeviceCode"]["oauth2SecurityScheme"]["flows"]["deviceCode"]
    assert device["deviceAuthorizationUrl"] == rfc8414["device_authorization_endpoint"]
    assert schemes["oidc"]["openIdConnectSecurityScheme"]["openIdConnectUrl"] == (
        f"{url}/oauth/.well-known/openid-configuration"
    )
    # Any one scheme is enough, with scope a2a:call; and the extended card is on offer.
    requirements = card["securityRequirements"]
    assert sorted(name for r in requirements for name in r["schemes"]) == sorted(schemes)
    assert all(list(r["schemes"].values()) == [{"list": ["a2a:call"]}] for r in requirements)
    assert card["capabilities"]["extendedAgentCard"] is True


def test_the_oauth_card_passes_the_card_check():
    card = build_agent_card("http://127.0.0.1:9999", oauth=DemoOAuth())
    assert check_card(MessageToDict(card)) == []


def test_auth_and_oauth_do_not_mix():
    with pytest.raises(ValueError, match="not both"):
        build_app("http://127.0.0.1:9999", auth=DemoAuth(bearer_token="t"), oauth=DemoOAuth())


def test_demo_oauth_hides_its_secret():
    assert SECRET not in repr(DemoOAuth())
    with pytest.raises(ValueError):
        DemoOAuth(access_token_lifetime=0)


# --- client credentials -------------------------------------------------------------------


def test_a_client_credentials_token_is_a_signed_jwt_the_agent_accepts(agent):
    token = client_credentials(agent.url)
    assert token["token_type"] == "Bearer" and "refresh_token" not in token
    assert token["expires_in"] == 300
    keys = KeySet.import_key_set(httpx.get(f"{agent.url}/oauth/jwks").json())
    decoded = jwt.decode(token["access_token"], keys, algorithms=["RS256"])
    assert decoded.header["typ"] == "at+jwt" and decoded.header["kid"] == keys.keys[0].kid
    claims = decoded.claims
    assert claims["iss"] == f"{agent.url}/oauth" and claims["aud"] == agent.url
    assert claims["sub"] == CLIENT_ID == claims["client_id"]
    assert "a2a:call" in claims["scope"].split()
    assert 0 < claims["exp"] - claims["iat"] <= 300 and claims["jti"]

    async def work() -> tuple[Any, Any]:
        interceptors = [AuthInterceptor(StaticCredentials(oauth2=token["access_token"]))]
        client = await create_client(agent.url, ClientConfig(), interceptors=interceptors)
        try:
            message = Message(
                role=Role.ROLE_USER,
                message_id="oauth-hello",
                parts=[new_text_part("hello, oauth agent")],
            )
            events = [e async for e in client.send_message(SendMessageRequest(message=message))]
            extended = await client.get_extended_agent_card(GetExtendedAgentCardRequest())
            return events, extended
        finally:
            await client.close()

    events, extended = run(work)
    assert "oauth agent" in events[-1].message.parts[0].text
    assert "admin" in [skill.id for skill in extended.skills]


def test_client_secret_post_works_and_a_wrong_secret_is_invalid_client(agent):
    token_url = f"{agent.url}/oauth/token"
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    posted = httpx.post(token_url, data={**form, "client_secret": SECRET})
    assert posted.status_code == 200, posted.text
    assert_accepted(agent.url, posted.json()["access_token"])
    wrong_basic = httpx.post(token_url, data=form, auth=(CLIENT_ID, "wrong"))
    wrong_post = httpx.post(token_url, data={**form, "client_secret": "wrong"})
    no_secret = httpx.post(token_url, data=form)  # client credentials is never public
    for refused in (wrong_basic, wrong_post, no_secret):
        assert refused.status_code == 401, refused.text
        assert token_endpoint_error(refused) == "invalid_client"


def test_a_token_without_the_scope_gets_403_insufficient_scope(agent):
    token = client_credentials(agent.url, scope="profile")
    assert token["scope"] == "profile"
    answer = get_task(agent.url, token["access_token"])
    assert answer.status_code == 403
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="A2A Demo Agent"')
    assert 'error="insufficient_scope"' in challenge and 'scope="a2a:call"' in challenge
    assert answer.json()["error"] == "insufficient_scope"


def test_refusals_say_why(agent, short_lived):
    missing = get_task(agent.url, None)
    garbage = get_task(agent.url, "not-a-jwt")
    foreign = get_task(agent.url, client_credentials(short_lived.url)["access_token"])
    assert missing.status_code == 401
    # RFC 6750 §3.1: no error code when the request carried no credentials at all.
    assert missing.headers["www-authenticate"].startswith('Bearer realm="A2A Demo Agent"')
    assert "error=" not in missing.headers["www-authenticate"]
    for refused in (garbage, foreign):
        assert refused.status_code == 401
        challenge = refused.headers["www-authenticate"]
        assert 'error="invalid_token"' in challenge and "error_description=" in challenge
        assert refused.json()["error"] == "invalid_token"


def test_only_the_exact_oauth_paths_are_open(agent):
    # The SDK's REST binding mounts /{tenant}/...: "oauth" must not be a way around auth.
    assert httpx.get(f"{agent.url}/oauth/tasks").status_code == 401
    assert httpx.get(f"{agent.url}/rest/tasks").status_code == 401
    assert httpx.get(f"{agent.url}/files/readme.txt").status_code == 200


def test_bodies_over_16_kb_are_refused(agent):
    answer = httpx.post(
        f"{agent.url}/oauth/token",
        data={"grant_type": "client_credentials", "padding": "x" * 17_000},
        auth=(CLIENT_ID, SECRET),
    )
    assert answer.status_code == 413


# --- authorization code with PKCE ---------------------------------------------------------


def test_the_consent_page_is_plain_escaped_html(agent):
    client = oauth_client(agent.url, scope="a2a:call", code_challenge_method="S256")
    authorization_url, _ = client.create_authorization_url(
        f"{agent.url}/oauth/authorize",
        state='"><script>alert(1)</script>',
        code_verifier=secrets.token_urlsafe(48),
    )
    page = httpx.get(authorization_url)
    assert page.status_code == 200
    assert "<script" not in page.text and "&lt;script&gt;" in page.text
    assert ">Allow</button>" in page.text and ">Deny</button>" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_authorization_code_with_pkce_gives_tokens_and_an_id_token(agent):
    client, verifier, location = sign_in(agent.url, scope="openid profile a2a:call")
    assert location.startswith(f"{REDIRECT_URI}?")
    query = parse_qs(urlsplit(location).query)
    assert query["code"] and query["state"]
    with client:
        token = client.fetch_token(
            f"{agent.url}/oauth/token", authorization_response=location, code_verifier=verifier
        )
    assert set(token["scope"].split()) == {"openid", "profile", "a2a:call"}
    assert token["refresh_token"]
    keys = KeySet.import_key_set(httpx.get(f"{agent.url}/oauth/jwks").json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert id_token.header["kid"] == keys.keys[0].kid
    assert id_token.claims["iss"] == f"{agent.url}/oauth"
    assert id_token.claims["aud"] == [CLIENT_ID]
    assert id_token.claims["sub"] == "demo-user" and id_token.claims["nonce"] == "n-0S6_WzA2Mj"
    assert id_token.claims["name"] == "Demo User"
    assert_accepted(agent.url, token["access_token"])
    # An ID token is no access token (RFC 9068 §4: typ at+jwt), though the key signed both.
    assert get_task(agent.url, token["id_token"]).status_code == 401


def test_a_wrong_verifier_is_invalid_grant_and_the_code_is_spent(agent):
    client, verifier, location = sign_in(agent.url)
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    token_url = f"{agent.url}/oauth/token"
    wrong = httpx.post(
        token_url,
        data={**form, "code_verifier": secrets.token_urlsafe(48)},
        auth=(CLIENT_ID, SECRET),
    )
    assert wrong.status_code == 400 and token_endpoint_error(wrong) == "invalid_grant"
    again = httpx.post(
        token_url, data={**form, "code_verifier": verifier}, auth=(CLIENT_ID, SECRET)
    )
    assert token_endpoint_error(again) == "invalid_grant"  # one attempt per code
    client.close()


def test_a_public_client_exchanges_its_code_with_the_verifier_alone(agent):
    client, verifier, location = sign_in(
        agent.url, client_secret=None, token_endpoint_auth_method="none"
    )
    with client:
        token = client.fetch_token(
            f"{agent.url}/oauth/token", authorization_response=location, code_verifier=verifier
        )
    assert_accepted(agent.url, token["access_token"])


def test_pkce_s256_is_required(agent):
    base = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "a2a:call",
        "state": "s1",
    }
    without = httpx.get(f"{agent.url}/oauth/authorize", params=base)
    plain = httpx.get(
        f"{agent.url}/oauth/authorize",
        params={**base, "code_challenge": "a" * 43, "code_challenge_method": "plain"},
    )
    for refused in (without, plain):
        assert refused.status_code == 302
        query = parse_qs(urlsplit(refused.headers["location"]).query)
        assert query["error"] == ["invalid_request"] and query["state"] == ["s1"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "http://127.0.0.1/callback",  # no port
        "http://127.0.0.1:8501@evil.example/callback",
        "http://10.0.0.1:8501/callback",
    ],
)
def test_a_foreign_redirect_uri_is_refused_without_a_redirect(agent, redirect_uri):
    answer = httpx.get(
        f"{agent.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "code_challenge": "a" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert answer.status_code == 400 and "location" not in answer.headers
    assert "invalid_request" in answer.text and "is not supported by client" in answer.text


def test_localhost_redirect_uris_are_accepted(agent):
    client = oauth_client(agent.url, scope="a2a:call", code_challenge_method="S256")
    client.redirect_uri = "http://localhost:9123/any/path"
    authorization_url, _ = client.create_authorization_url(
        f"{agent.url}/oauth/authorize", code_verifier=secrets.token_urlsafe(48)
    )
    assert httpx.get(authorization_url).status_code == 200


def test_deny_redirects_with_access_denied(agent):
    client = oauth_client(agent.url, scope="a2a:call", code_challenge_method="S256")
    authorization_url, state = client.create_authorization_url(
        f"{agent.url}/oauth/authorize", code_verifier=secrets.token_urlsafe(48)
    )
    denied = consent(agent.url, authorization_url, decision="deny")
    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == [state]
    assert "code" not in query


def test_prompt_none_gets_consent_required_not_a_page(agent):
    client = oauth_client(agent.url, scope="openid a2a:call", code_challenge_method="S256")
    authorization_url, state = client.create_authorization_url(
        f"{agent.url}/oauth/authorize", code_verifier=secrets.token_urlsafe(48), prompt="none"
    )
    answer = httpx.get(authorization_url)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["consent_required"] and query["state"] == [state]


# --- device authorization (RFC 8628) ------------------------------------------------------


def test_the_device_grant_waits_for_approval_on_the_device_page(agent):
    started = device_authorization(agent.url)
    assert started["verification_uri"] == f"{agent.url}/oauth/device"
    assert started["verification_uri_complete"].endswith(f"user_code={started['user_code']}")
    pending = poll(agent.url, started["device_code"])
    assert pending.status_code == 400 and token_endpoint_error(pending) == "authorization_pending"
    too_soon = poll(agent.url, started["device_code"])
    assert token_endpoint_error(too_soon) == "slow_down"

    page = httpx.get(started["verification_uri_complete"])
    assert page.status_code == 200 and f'value="{started["user_code"]}"' in page.text
    assert "a2a:call" in page.text
    approved = httpx.post(
        started["verification_uri"],
        data={"user_code": started["user_code"].replace("-", "").lower(), "decision": "allow"},
    )
    assert approved.status_code == 200 and "allowed" in approved.text

    token = poll(agent.url, started["device_code"])
    assert token.status_code == 200, token.text
    assert token.json()["refresh_token"]
    assert_accepted(agent.url, token.json()["access_token"])
    spent = poll(agent.url, started["device_code"])  # a device code gives one token
    assert spent.status_code == 400


def test_a_denied_device_gets_access_denied(agent):
    started = device_authorization(agent.url)
    denied = httpx.post(
        f"{agent.url}/oauth/device",
        data={"user_code": started["user_code"], "decision": "deny"},
    )
    assert denied.status_code == 200
    assert token_endpoint_error(poll(agent.url, started["device_code"])) == "access_denied"
    unknown = httpx.post(
        f"{agent.url}/oauth/device", data={"user_code": "ZZZZ-ZZZZ", "decision": "allow"}
    )
    assert unknown.status_code == 400 and "unknown, expired or used" in unknown.text


def test_an_unapproved_device_code_expires(short_lived):
    started = device_authorization(short_lived.url)
    time.sleep(1.2)
    assert token_endpoint_error(poll(short_lived.url, started["device_code"])) == "expired_token"


def test_pending_device_codes_are_bounded():
    with DemoAgentServer(oauth=DemoOAuth()) as server, httpx.Client() as http:
        answers = [
            http.post(f"{server.url}/oauth/device_authorization", data={"client_id": CLIENT_ID})
            for _ in range(MAX_PENDING + 1)
        ]
    assert all(a.status_code == 200 for a in answers[:MAX_PENDING])
    assert answers[-1].status_code == 503
    assert answers[-1].json()["error"] == "temporarily_unavailable"


# --- expiry and refresh -------------------------------------------------------------------


def test_an_expired_token_gets_401_and_a_refresh_gives_one_that_works(short_lived):
    url = short_lived.url
    client, verifier, location = sign_in(url, scope="a2a:call offline_access")
    with client:
        token = client.fetch_token(
            f"{url}/oauth/token", authorization_response=location, code_verifier=verifier
        )
        assert token["expires_in"] == 1
        assert_accepted(url, token["access_token"])
        # exp is a second away, and the agent allows one more for rounding.
        time.sleep(max(0.0, token["expires_at"] + 2.2 - time.time()))
        expired = get_task(url, token["access_token"])
        assert expired.status_code == 401
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]
        assert "expired" in expired.json()["error_description"]

        renewed = client.refresh_token(f"{url}/oauth/token", refresh_token=token["refresh_token"])
    assert renewed["access_token"] != token["access_token"]
    assert_accepted(url, renewed["access_token"])
    # Refresh tokens rotate: the old one is spent.
    reused = httpx.post(
        f"{url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(CLIENT_ID, SECRET),
    )
    assert reused.status_code == 400 and token_endpoint_error(reused) == "invalid_grant"


# --- the command line ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_line_serves_oauth(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    output = (tmp_path / "agent.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.demo_agent", "--port", str(port), "--oauth"],
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/.well-known/agent-card.json").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the agent exited"
            assert time.monotonic() < deadline, "the agent did not start"
            time.sleep(0.1)
        discovery = httpx.get(f"{url}/oauth/.well-known/openid-configuration").json()
        assert discovery["token_endpoint"] == f"{url}/oauth/token"
        assert_accepted(url, client_credentials(url)["access_token"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        output.seek(0)
        printed = output.read()
        output.close()
    assert f"client id {CLIENT_ID}" in printed and f"{url}/oauth/token" in printed
