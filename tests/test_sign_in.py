"""Signing in to an agent (services.client.oauth and the Sign-in page), against the demo
agent's own authorization server on loopback (`--oauth`): each grant end to end, refresh
before expiry, the sentences for what goes wrong, and no token anywhere it could be seen."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from services.agent_check.cli import main as agent_check
from services.client import resources
from services.client.agent import connect
from services.client.auth import Credentials, OriginCredentials
from services.client.oauth import (
    AuthServer,
    OAuthFailed,
    SignIn,
    Token,
    TokenKeeper,
    adiscover,
    token_findings,
)
from services.demo_agent import DemoAgentServer, DemoOAuth
from services.inspector.capture import TrafficRecorder
from services.runtime import SessionRuntime
from tests.conftest import APP, close_runtime
from tests.test_demo_oauth import hidden_fields

pytestmark = pytest.mark.timeout(90)

CLIENT_ID, SECRET = "demo-client", "demo-secret"
REDIRECT_URI = "http://127.0.0.1:8501/sign_in"  # the app's Sign-in page; nothing listens


@pytest.fixture(scope="module")
def agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(oauth=DemoOAuth()) as server:
        yield server


@pytest.fixture(scope="module")
def short_lived() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(oauth=DemoOAuth(access_token_lifetime=2)) as server:
        yield server


class Session:
    """What a browser session has: a runtime with its credentials, redactor and keeper."""

    def __init__(self) -> None:
        self.credentials = OriginCredentials()
        self.recorder = TrafficRecorder()
        self.runtime = resources.configure(
            SessionRuntime(label="sign-in-test"), recorder=self.recorder, auth=self.credentials
        )
        self.keeper = TokenKeeper(self.credentials, self.recorder.redactor)
        self.http = resources.http(self.runtime)

    def card(self, url: str) -> dict[str, Any]:
        return connect(self.runtime, url).card

    def sign_in(
        self, url: str, scheme: str, grant: str, *, scopes: tuple[str, ...] = ("a2a:call",), **kw
    ) -> SignIn:
        card = self.card(url)
        server, steps = self.runtime.call(adiscover, self.http, card, scheme)
        endpoints = tuple(i["url"] for i in card["supportedInterfaces"])
        return SignIn(
            agent_url=url,
            endpoints=endpoints,
            server=server,
            grant=grant,  # type: ignore[arg-type]
            client_id=kw.get("client_id", CLIENT_ID),
            client_secret=kw.get("client_secret", SECRET),
            scopes=scopes,
            timeline=steps,
        )

    def call(self, function: Any, *args: Any) -> Any:
        return self.runtime.call(function, *args)

    def probe(self, sign_in: SignIn, title: str) -> Any:
        return self.runtime.call(lambda: sign_in.aprobe(self.http, title=title))


@pytest.fixture
def session() -> Iterator[Session]:
    made = Session()
    yield made
    made.runtime.close()


def shown(sign_in: SignIn) -> str:
    """Everything the timeline would show, as text."""
    return json.dumps(
        [(s.title, s.sentence, dict(s.detail)) for s in sign_in.timeline], default=str
    )


def approve(url: str, authorization_url: str, decision: str = "allow") -> str:
    """The browser's part: the consent page, Allow, and where it is sent back to."""
    with httpx.Client() as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, page.text
        form = {**dict(hidden_fields(page.text)), "decision": decision}
        answer = browser.post(f"{url}/oauth/authorize", data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


# --- the grants ----------------------------------------------------------------------------


def test_client_credentials_from_the_card_and_the_agent_accepts_the_token(agent, session):
    sign_in = session.sign_in(agent.url, "oauth2ClientCredentials", "client_credentials")
    assert sign_in.timeline[0].title == "Authorization server metadata"
    assert sign_in.server.token_endpoint == f"{agent.url}/oauth/token"
    assert sign_in.server.required_scopes == ("a2a:call",)
    before = session.probe(sign_in, "before")
    assert before.ok and before.detail["status"] == 401  # the card said a token is needed

    token = session.call(sign_in.aclient_credentials, session.http)
    session.keeper.put(
        sign_in, session.credentials._by_origin.get(("", "", None)) or Credentials(), session.http
    )  # noqa: SLF001
    after = session.probe(sign_in, "after")
    assert after.ok and after.detail["status"] != 401, after
    assert after.sentence.startswith("The agent accepted the token")

    claims = next(s for s in sign_in.timeline if s.kind == "claims")
    assert claims.ok, claims.sentence
    assert claims.detail["jwt_header"]["alg"] == "RS256"
    assert claims.detail["jwt_claims"]["aud"] == agent.url
    assert "a2a:call" in claims.detail["jwt_claims"]["scope"]
    for secret in (token.access_token, SECRET):
        assert secret not in shown(sign_in)
        assert secret not in repr(sign_in)


def test_authorization_code_with_pkce_comes_back_and_checks_state(agent, session):
    sign_in = session.sign_in(agent.url, "oauth2", "authorization_code", client_secret="")
    url = sign_in.authorization_url(REDIRECT_URI)
    assert "code_challenge_method=S256" in url and f"client_id={CLIENT_ID}" in url
    location = approve(agent.url, url)

    forged = location.replace(f"state={sign_in.state}", "state=forged")
    with pytest.raises(OAuthFailed, match="state does not match"):
        session.call(sign_in.acomplete_redirect, session.http, forged)

    token = session.call(sign_in.acomplete_redirect, session.http, location)
    assert token.refresh_token and "a2a:call" in token.scope
    session.keeper.put(sign_in, Credentials(), session.http)
    assert session.probe(sign_in, "after").detail["status"] != 401
    assert sign_in.code_verifier not in shown(sign_in)


def test_the_device_grant_waits_for_approval(agent, session):
    sign_in = session.sign_in(agent.url, "oauth2DeviceCode", "device_code", client_secret="")
    device = session.call(sign_in.astart_device, session.http)
    assert sign_in.next_url == device.verification_uri_complete
    assert session.call(sign_in.apoll_device, session.http) is None  # not approved yet
    approved = httpx.post(
        device.verification_uri, data={"user_code": device.user_code, "decision": "allow"}
    )
    assert approved.status_code == 200
    deadline = time.monotonic() + 30
    token = None
    while token is None:
        assert time.monotonic() < deadline, shown(sign_in)
        time.sleep(sign_in.device.interval if sign_in.device else 1)
        token = session.call(sign_in.apoll_device, session.http)
    assert "a2a:call" in token.scope
    assert device.device_code not in shown(sign_in)


def test_a_token_about_to_expire_is_refreshed_before_the_next_request(short_lived, session):
    sign_in = session.sign_in(short_lived.url, "oauth2", "authorization_code", client_secret="")
    location = approve(short_lived.url, sign_in.authorization_url(REDIRECT_URI))
    first = session.call(sign_in.acomplete_redirect, session.http, location)
    session.keeper.put(sign_in, Credentials(), session.http)
    time.sleep(2.2)  # the two-second token has expired
    after = session.probe(sign_in, "after expiry")
    assert after.detail["status"] != 401, after  # refreshed on the way out
    assert sign_in.token is not None and sign_in.token.access_token != first.access_token
    assert [s.title for s in sign_in.timeline if s.kind == "token"][-1] == "Refresh"
    # The new token is masked wherever the session shows text.
    assert session.recorder.redactor.text(sign_in.token.access_token) == "[redacted]"


# --- what goes wrong, in one sentence --------------------------------------------------------


def test_a_wrong_client_secret_says_invalid_client(agent, session):
    sign_in = session.sign_in(
        agent.url, "oauth2ClientCredentials", "client_credentials", client_secret="wrong-secret"
    )
    with pytest.raises(OAuthFailed) as failure:
        session.call(sign_in.aclient_credentials, session.http)
    assert str(failure.value).startswith(
        "The authorization server refused the client (invalid_client): check the client id "
        "'demo-client' and its secret"
    )
    assert not sign_in.timeline[-1].ok
    assert "wrong-secret" not in shown(sign_in)


def test_a_token_without_the_scope_says_so_and_the_agent_refuses_it(agent, session):
    sign_in = session.sign_in(
        agent.url, "oauth2ClientCredentials", "client_credentials", scopes=("profile",)
    )
    session.call(sign_in.aclient_credentials, session.http)
    claims = next(s for s in sign_in.timeline if s.kind == "claims")
    assert not claims.ok and "lacks the scope the agent's card requires (a2a:call)" in (
        claims.sentence
    )
    session.keeper.put(sign_in, Credentials(), session.http)
    refused = session.probe(sign_in, "after")
    assert refused.detail["status"] == 403
    assert refused.sentence == (
        "The agent accepted the token but it lacks the scope it needs (a2a:call): ask for "
        "that scope and sign in again."
    )


def test_a_redirect_uri_the_server_did_not_see_is_a_mismatch(agent, session):
    sign_in = session.sign_in(agent.url, "oauth2", "authorization_code", client_secret="")
    location = approve(agent.url, sign_in.authorization_url(REDIRECT_URI))
    sign_in.redirect_uri = "http://127.0.0.1:8502/sign_in"  # not the one authorized
    with pytest.raises(OAuthFailed, match=r"^Redirect URI mismatch"):
        session.call(sign_in.acomplete_redirect, session.http, location)


def test_a_spent_code_says_invalid_grant(agent, session):
    sign_in = session.sign_in(agent.url, "oauth2", "authorization_code", client_secret="")
    location = approve(agent.url, sign_in.authorization_url(REDIRECT_URI))
    session.call(sign_in.acomplete_redirect, session.http, location)
    with pytest.raises(OAuthFailed, match=r"refused the grant \(invalid_grant\)"):
        session.call(sign_in.acomplete_redirect, session.http, location)


def test_a_denied_sign_in_says_access_denied(agent, session):
    sign_in = session.sign_in(agent.url, "oauth2", "authorization_code", client_secret="")
    location = approve(agent.url, sign_in.authorization_url(REDIRECT_URI), decision="deny")
    with pytest.raises(OAuthFailed, match="denied at the authorization server"):
        session.call(sign_in.acomplete_redirect, session.http, location)


def test_a_token_for_another_agent_would_go_to_the_wrong_origin(agent, session):
    sign_in = session.sign_in(agent.url, "oauth2ClientCredentials", "client_credentials")
    elsewhere = replace(sign_in, agent_url="http://127.0.0.1:1", endpoints=("http://127.0.0.1:1/",))
    session.call(elsewhere.aclient_credentials, session.http)
    claims = next(s for s in elsewhere.timeline if s.kind == "claims")
    assert "not this agent (http://127.0.0.1:1): it would be sent to the wrong origin" in (
        claims.sentence
    )


def test_clock_skew_is_named():
    sign_in = SignIn(
        agent_url="http://127.0.0.1:1",
        endpoints=(),
        server=_server(),
        grant="client_credentials",
        client_id="c",
    )
    now = time.time()
    token = Token("t" * 20, expires_at=now + 300, scope=("a2a:call",))
    ahead = token_findings(token, {"iat": now + 600, "exp": now + 900}, sign_in)
    assert any("(clock skew)" in f for f in ahead), ahead
    expired = token_findings(token, {"iat": now - 900, "exp": now - 600}, sign_in)
    assert any("had expired when it arrived" in f for f in expired), expired


def _server() -> AuthServer:
    return AuthServer(scheme="s", kind="oauth2", required_scopes=("a2a:call",))


# --- the page ------------------------------------------------------------------------------


def test_the_sign_in_page_signs_in_with_client_credentials_and_never_shows_the_token(
    monkeypatch, agent, caplog
):
    monkeypatch.setenv("A2A_AGENT_URL", agent.url)
    at = AppTest.from_file(APP, default_timeout=60)
    try:
        caplog.set_level(logging.DEBUG)
        at.run()
        at.switch_page("app_pages/sign_in.py").run()
        assert not at.exception, at.exception
        at.selectbox(key="signin_scheme").select("oauth2ClientCredentials")
        at.selectbox(key="signin_grant").select("client_credentials")
        at.text_input(key="signin_client_id").input(CLIENT_ID)
        at.text_input(key="signin_client_secret").input(SECRET)
        at.button[0].click()  # the form's submit button
        at.run()
        assert not at.exception, at.exception
        page = _page_text(at)
        assert "Signed in" in page, page
        attempt = at.session_state["oauth_sign_ins"][agent.url]
        token = attempt.token.access_token
        assert len(token) > 100
        assert token not in page and SECRET not in page
        assert token not in caplog.text and SECRET not in caplog.text
        # The chat works with the token: the agent answers.
        at.switch_page("app_pages/chat.py").run()
        at.chat_input[0].set_value("hello").run()
        assert not at.exception, at.exception
        assert "hello" in _page_text(at)
        # The inspector keeps the chat's exchange with the token masked.
        recorder = at.session_state["traffic_recorder"]
        exchanges = [e for r in recorder.streams() for e in r.exchanges]
        assert exchanges
        for exchange in exchanges:
            assert token not in str(exchange.request_headers)
            assert dict(exchange.request_headers).get("authorization") == "[redacted]"
    finally:
        close_runtime(at)


def _page_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "json", "code", "success", "error", "warning", "info"):
        for element in at.get(kind):
            parts.append(str(getattr(element, "value", "") or element.proto))
    for expander in at.get("expander"):
        parts.append(str(expander.proto))
    return "\n".join(parts)


def test_a_redirect_with_an_unknown_state_gets_a_sentence(monkeypatch, agent):
    monkeypatch.setenv("A2A_AGENT_URL", agent.url)
    at = AppTest.from_file(APP, default_timeout=60)
    try:
        at.query_params["code"] = "abc"
        at.query_params["state"] = "never-issued"
        at.run()
        at.switch_page("app_pages/sign_in.py").run()
        assert not at.exception, at.exception
        errors = [e.value for e in at.error]
        assert any("unknown or older than ten minutes" in e for e in errors), errors
    finally:
        close_runtime(at)


# --- the agent check --------------------------------------------------------------------------


def test_the_agent_check_signs_in_with_client_credentials(agent, tmp_path, capsys):
    report = tmp_path / "report.json"
    code = agent_check(
        [agent.url, "--client-id", CLIENT_ID, "--client-secret", SECRET, "--json", str(report)]
    )
    written = json.loads(report.read_text())
    checks = {c["id"]: c for c in written["checks"]}
    assert checks["auth.client-credentials"]["status"] == "pass", checks
    assert checks["doctor.auth"]["status"] == "pass", checks["doctor.auth"]
    assert checks["rpc.send-message.jsonrpc"]["status"] == "pass"
    assert code == 0, [c for c in written["checks"] if c["status"] == "fail"]
    assert SECRET not in report.read_text() + capsys.readouterr().out

    wrong = agent_check([agent.url, "--client-id", CLIENT_ID, "--client-secret", "nope"])
    assert wrong == 1


# --- a sign-in kept in the workspace ----------------------------------------------------------


def _sign_in_on_the_page(at: AppTest, *, keep: bool) -> None:
    at.switch_page("app_pages/sign_in.py").run()
    at.selectbox(key="signin_scheme").select("oauth2ClientCredentials")
    at.selectbox(key="signin_grant").select("client_credentials")
    at.text_input(key="signin_client_id").input(CLIENT_ID)
    at.text_input(key="signin_client_secret").input(SECRET)
    if keep:
        at.checkbox(key="signin_keep").check()
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception


def test_a_kept_sign_in_is_sealed_and_comes_back_in_a_new_session(monkeypatch, agent):
    from cryptography.fernet import Fernet

    from services.session import _store as session_store

    monkeypatch.setenv("A2A_AGENT_URL", agent.url)
    monkeypatch.setenv("A2A_TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    first = AppTest.from_file(APP, default_timeout=60)
    try:
        first.run()
        _sign_in_on_the_page(first, keep=True)
        workspace = first.session_state["workspace_id"]
        token = first.session_state["oauth_sign_ins"][agent.url].token.access_token
    finally:
        close_runtime(first)
    store = session_store.route_store()
    assert store is not None
    sealed = store.sign_in(workspace, agent.url)
    assert sealed and token not in sealed and SECRET not in sealed  # encrypted at rest

    again = AppTest.from_file(APP, default_timeout=60)
    again.session_state["workspace_id"] = workspace
    try:
        again.run()
        again.switch_page("app_pages/sign_in.py").run()
        assert not again.exception, again.exception
        assert "Signed in" in _page_text(again)
        brought = again.session_state["oauth_sign_ins"][agent.url]
        assert brought.token.access_token == token
        assert any(s.title == "Sign-in brought back from the workspace" for s in brought.timeline)
        again.button(key="signin_out").click().run()
        assert store.sign_in(workspace, agent.url) is None  # sign-out forgets it there too
    finally:
        close_runtime(again)


def test_without_a_key_a_sign_in_is_not_kept(monkeypatch, agent):
    monkeypatch.setenv("A2A_AGENT_URL", agent.url)
    monkeypatch.delenv("A2A_TOKEN_ENCRYPTION_KEY", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    try:
        at.run()
        at.switch_page("app_pages/sign_in.py").run()
        keep = at.checkbox(key="signin_keep")
        assert keep.disabled
        assert "token_encryption_key" in keep.help
    finally:
        close_runtime(at)
