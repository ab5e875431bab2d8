"""Signed agent cards (A2A 1.0 §8.4): the demo agent signs on request, and the client, the
connection doctor and the sidebar say verified, invalid, unverifiable or absent. Real
servers on loopback: signed and tampered demo agents, card-only agents whose `jku` points
elsewhere, and key servers serving good and malformed key sets."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from a2a.server.routes import create_agent_card_routes
from a2a.types.a2a_pb2 import AgentCard, AgentCardSignature
from a2a.utils.signing import create_agent_card_signer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from streamlit.testing.v1 import AppTest

from services.agent_check import cli
from services.agent_check.doctor import diagnose
from services.agent_check.run import run_agent_check
from services.client import agent, resources
from services.client.agent import aresolve_card
from services.client.allowlist import AllowList
from services.client.signatures import (
    JWKS_MAX_BYTES,
    CardSignature,
    KeySet,
    averify_card,
    judge_signatures,
    read_key_set,
)
from services.demo_agent import (
    JWKS_PATH,
    DemoAgentServer,
    DemoAuth,
    LoopbackServer,
    build_agent_card,
    build_app,
)
from services.demo_agent.signing import TAMPERED_NOTE, CardSigner
from services.runtime import SessionRuntime
from services.safe_text import plain
from tests.conftest import APP, FAST, close_runtime

pytestmark = pytest.mark.timeout(60)

KEYS = JWKS_PATH.lstrip("/")  # the key set's name on a file server


# --- servers -------------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def file_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback server answering GET /{name} with the bodies set in its dict."""
    bodies: dict[str, bytes] = {}

    async def serve(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in bodies:
            return Response(status_code=404)
        return Response(bodies[name], media_type="application/json")

    app = Starlette(routes=[Route("/{name:path}", serve, methods=["GET"])])
    with LoopbackServer(lambda _url: app) as server:
        yield server.url, bodies


def card_only(sign: Callable[[AgentCard], AgentCard]) -> Callable[[str], Starlette]:
    """An agent that serves only its card, signed by `sign` (its jku may point anywhere)."""
    return lambda url: Starlette(routes=create_agent_card_routes(sign(build_agent_card(url))))


@contextmanager
def signed_elsewhere() -> Iterator[tuple[LoopbackServer, CardSigner, str]]:
    """A card-only agent whose signature's jku is on a separate key server: (agent, signer,
    the key server's base URL)."""
    with file_server() as (keys_url, bodies):
        signer = CardSigner(keys_url)
        bodies[KEYS] = json.dumps(signer.jwks).encode()
        with LoopbackServer(card_only(signer.sign)) as server:
            yield server, signer, keys_url


def verify(url: str, *, jwks_url: str = "") -> CardSignature:
    """Resolve the card at `url` and judge its signature, on a fresh loop."""

    async def work() -> CardSignature:
        async with httpx.AsyncClient() as http:
            card, _, _ = await aresolve_card(http, url)
            return await averify_card(http, card, jwks_url=jwks_url)

    return asyncio.run(asyncio.wait_for(work(), 20))


def protected_header(raw_card: dict) -> dict:
    protected = raw_card["signatures"][0]["protected"]
    return json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- the four states against the demo agent --------------------------------------------------


def test_a_signed_demo_card_verifies_with_its_key_id_and_issuer():
    with DemoAgentServer(timing=FAST, card_signing="signed") as server:
        raw = httpx.get(f"{server.url}/.well-known/agent-card.json").json()
        jwks = httpx.get(server.url + JWKS_PATH).json()
        result = verify(server.url)
    header = protected_header(raw)
    [key] = jwks["keys"]
    assert header == {
        "alg": "ES256",
        "kid": key["kid"],
        "typ": "JOSE",
        "jku": server.url + JWKS_PATH,
    }
    assert key["kty"] == "EC" and key["crv"] == "P-256" and "d" not in key  # public only
    assert result.state == "verified"
    assert result.key_id == key["kid"]
    assert result.issuer == server.url
    assert result.sentence == (
        f"The card's signature verifies with key {key['kid']} from {server.url}."
    )


def test_a_card_changed_after_signing_is_invalid():
    with DemoAgentServer(timing=FAST, card_signing="bad") as server:
        raw = httpx.get(f"{server.url}/.well-known/agent-card.json").json()
        kid = httpx.get(server.url + JWKS_PATH).json()["keys"][0]["kid"]
        result = verify(server.url)
    assert raw["description"].endswith(TAMPERED_NOTE)
    assert result.state == "invalid"
    assert (result.key_id, result.issuer) == (kid, server.url)
    assert "changed after it was signed" in result.sentence


def test_an_unsigned_card_is_absent(demo_agent):
    result = verify(demo_agent.url)
    assert result == CardSignature(
        "absent", sentence="The card is not signed, so who published it cannot be checked."
    )
    assert httpx.get(demo_agent.url + JWKS_PATH).status_code == 404  # no key, no key set


def test_the_key_set_is_public_when_the_agent_wants_credentials():
    auth = DemoAuth(bearer_token="tok-sig-1234")
    with DemoAgentServer(timing=FAST, auth=auth, card_signing="signed") as server:
        assert httpx.get(server.url + JWKS_PATH).status_code == 200
        assert verify(server.url).state == "verified"


def test_the_extended_card_is_signed_too():
    auth = DemoAuth(bearer_token="tok-sig-5678")
    with DemoAgentServer(timing=FAST, auth=auth, card_signing="signed") as server:
        answer = httpx.get(
            f"{server.url}/rest/extendedAgentCard",
            headers={"Authorization": "Bearer tok-sig-5678", "A2A-Version": "1.0"},
        )
        assert answer.status_code == 200, answer.text
        extended = answer.json()
        assert "admin report" in extended["description"]
        assert protected_header(extended)["jku"] == server.url + JWKS_PATH

        async def judge() -> CardSignature:
            from a2a.client.card_resolver import parse_agent_card

            async with httpx.AsyncClient() as http:
                return await averify_card(http, parse_agent_card(extended))

        assert asyncio.run(judge()).state == "verified"


def test_a_key_set_on_a_closed_port_is_unverifiable():
    signer = CardSigner(f"http://127.0.0.1:{free_port()}")
    with LoopbackServer(card_only(signer.sign)) as server:
        result = verify(server.url)
    assert result.state == "unverifiable"
    assert result.key_id == signer.key_id
    assert "could not be used (nothing answered there)" in result.sentence
    assert "set a JWKS URL for this agent" in result.sentence


def test_a_key_set_the_allow_list_refuses_is_unverifiable_and_the_connect_works():
    with signed_elsewhere() as (server, signer, _keys_url):
        allowed = resources.configure(
            SessionRuntime(label="sig-allow"), allow=AllowList([server.url])
        )
        anywhere = SessionRuntime(label="sig-any")
        try:
            refused = agent.connect(allowed, server.url)
            reached = agent.connect(anywhere, server.url)
        finally:
            allowed.close()
            anywhere.close()
    assert refused.name == "A2A Demo Agent"  # connected all the same
    assert refused.signature is not None and refused.signature.state == "unverifiable"
    assert "allowed_agent_urls" in refused.signature.sentence
    assert reached.signature is not None and reached.signature.state == "verified"


def test_a_jwks_url_for_the_agent_overrides_the_jku():
    with signed_elsewhere() as (server, signer, keys_url):
        # The card's own jku works; a JWKS URL given for the agent is used instead.
        assert verify(server.url).issuer == keys_url
        with DemoAgentServer(timing=FAST, card_signing="signed") as other:
            elsewhere = verify(server.url, jwks_url=other.url + JWKS_PATH)
        overridden = verify(server.url, jwks_url=f"{keys_url}/{KEYS}")
    assert overridden.state == "verified" and overridden.issuer == keys_url
    # Another agent's key set has no key by this id: nothing to check it with.
    assert elsewhere.state == "unverifiable" and "no usable key" in elsewhere.sentence
    assert elsewhere.issuer == other.url


def test_a_jwks_url_rescues_a_card_whose_jku_is_unreachable():
    with file_server() as (keys_url, bodies):
        signer = CardSigner(f"http://127.0.0.1:{free_port()}")
        bodies["keys.json"] = json.dumps(signer.jwks).encode()
        with LoopbackServer(card_only(signer.sign)) as server:
            assert verify(server.url).state == "unverifiable"
            rescued = verify(server.url, jwks_url=f"{keys_url}/keys.json")
    assert (rescued.state, rescued.key_id, rescued.issuer) == (
        "verified",
        signer.key_id,
        keys_url,
    )


# --- what an agent may publish: never an exception ----------------------------------------


def test_malformed_key_sets_are_unverifiable_without_an_exception():
    signer = CardSigner(f"http://127.0.0.1:{free_port()}")
    [good] = signer.jwks["keys"]
    bodies = {
        "html": b"<html>not json</html>",
        "list": b"[1, 2, 3]",
        "keys-not-a-list": b'{"keys": "EC"}',
        "broken-key": json.dumps({"keys": [{**good, "x": "!!", "y": "??"}]}).encode(),
        "no-kty": json.dumps({"keys": [{"kid": good["kid"]}]}).encode(),
        "deep": b"[" * 20_000 + b"]" * 20_000,
        "huge": json.dumps({"keys": [], "pad": "x" * (JWKS_MAX_BYTES + 10)}).encode(),
        "not-utf8": b'{"keys": ["\xff\xfe"]}',
    }
    with file_server() as (keys_url, served), LoopbackServer(card_only(signer.sign)) as server:
        served.update(bodies)
        results = {name: verify(server.url, jwks_url=f"{keys_url}/{name}") for name in bodies}
        missing = verify(server.url, jwks_url=f"{keys_url}/missing")
        ftp = verify(server.url, jwks_url="ftp://127.0.0.1/keys.json")
        garbage = verify(server.url, jwks_url="http://[::1")
    for name, result in results.items():
        assert result.state == "unverifiable", (name, result)
        assert result.sentence.endswith("set a JWKS URL for this agent.") or (
            "no usable key" in result.sentence
        ), (name, result.sentence)
    assert "larger than 64 KB" in results["huge"].sentence
    assert "HTTP 404" in missing.sentence
    assert "not an http(s) URL" in ftp.sentence
    assert garbage.state == "unverifiable"


def test_weird_headers_are_a_state_not_an_exception():
    card = build_agent_card("http://127.0.0.1:9")
    headers = [
        "!!!not base64!!!",
        b64(b"[1, 2]"),
        b64(b'{"alg": "none", "kid": "k"}'),
        b64(json.dumps({"alg": "ES256", "kid": {"nested": True}, "jku": 7}).encode()),
        b64(b"{" * 5000),
    ]
    for protected in headers:
        card.ClearField("signatures")
        card.signatures.append(AgentCardSignature(protected=protected, signature="AAAA"))
        result = judge_signatures(card, {"http://127.0.0.1:9/keys": KeySet(problem="x")})
        assert result.state in ("invalid", "unverifiable"), (protected, result)
        assert result.sentence
    assert read_key_set(b"\x00\x01").problem
    assert read_key_set(b'{"keys": [1, "a", {"kty": "EC"}]}').keys == ({"kty": "EC"},)


def test_an_hs256_signature_is_not_accepted():
    secret = secrets.token_bytes(64)
    with file_server() as (keys_url, bodies):
        jku = f"{keys_url}/{KEYS}"
        shared = {"kty": "oct", "kid": "shared", "k": b64(secret)}  # a symmetric "key set"
        bodies[KEYS] = json.dumps({"keys": [shared]}).encode()
        sign = create_agent_card_signer(
            secret, {"alg": "HS256", "kid": "shared", "jku": jku, "typ": "JOSE"}
        )
        with LoopbackServer(card_only(sign)) as server:
            result = verify(server.url)
            overridden = verify(server.url, jwks_url=jku)
    assert result.state == overridden.state == "invalid"
    assert "HS256, which this app does not accept" in result.sentence


# --- the connection doctor -------------------------------------------------------------------


def signature_check(report) -> tuple[str, str, str, str]:
    found = next(c for c in report.checks if c.id == "doctor.signature")
    return found.status, found.level, found.spec, found.message


def test_the_doctor_reports_each_signature_state(demo_agent):
    with DemoAgentServer(timing=FAST, card_signing="signed") as signed:
        passed = diagnose(signed.url, timeout=5)
    with DemoAgentServer(timing=FAST, card_signing="bad") as bad:
        failed = diagnose(bad.url, timeout=5)
    skipped = diagnose(demo_agent.url, timeout=5)
    signer = CardSigner(f"http://127.0.0.1:{free_port()}")
    with LoopbackServer(card_only(signer.sign)) as unreachable:
        warned = diagnose(unreachable.url, timeout=5)
        with file_server() as (keys_url, bodies):
            bodies["keys.json"] = json.dumps(signer.jwks).encode()
            rescued = diagnose(unreachable.url, timeout=5, jwks_url=f"{keys_url}/keys.json")
    status, level, spec, message = signature_check(passed)
    assert (status, level, spec) == ("pass", "SHOULD", "A2A 1.0 §8.4 Agent Card Signing")
    assert message.startswith("The card's signature verifies with key ")
    assert signature_check(failed)[0] == "fail"
    # A bad signature is a SHOULD failure: the run goes on, and the agent still works.
    assert {c.id: c.status for c in failed.checks}["doctor.auth"] == "pass"
    assert not failed.must_failed
    assert signature_check(skipped)[::3] == (
        "skip",
        "The card is not signed, so who published it cannot be checked.",
    )
    assert signature_check(warned)[0] == "warn"
    assert signature_check(rescued)[0] == "pass"


def test_a_bad_signature_still_gets_the_protocol_checks():
    with LoopbackServer(lambda url: build_app(url, FAST, card_signing="bad")) as server:
        report = run_agent_check(server.url, timeout=20)
    assert signature_check(report)[0] == "fail"
    assert any(not c.id.startswith("doctor.") for c in report.checks)  # a SHOULD: run on
    assert cli.exit_code(report) == cli.EXIT_OK


def test_the_command_takes_a_jwks_url():
    with (
        LoopbackServer(lambda url: build_app(url, FAST, card_signing="signed")) as server,
        DemoAgentServer(timing=FAST, card_signing="signed") as other,
    ):
        out = io.StringIO()
        cli.main([server.url, "--jwks-url", other.url + JWKS_PATH, "--timeout", "20"], out)
    row = next(line for line in out.getvalue().splitlines() if "doctor.signature" in line)
    assert "SHOULD" in row and "WARN" in row and "no usable key" in row


# --- the client's connect and the sidebar ------------------------------------------------------


def test_connect_fills_in_the_signature(runtime, demo_agent):
    with DemoAgentServer(timing=FAST, card_signing="signed") as server:
        info = agent.connect(runtime, server.url)
        given = agent.connect(runtime, server.url, jwks_url="not a url at all")
    assert info.signature is not None and info.signature.state == "verified"
    assert given.signature is not None and given.signature.state == "unverifiable"
    unsigned = agent.connect(runtime, demo_agent.url)
    assert unsigned.signature is not None and unsigned.signature.state == "absent"


def sidebar_captions(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption]


def test_the_sidebar_shows_the_signature_line(monkeypatch, demo_agent):
    with (
        LoopbackServer(lambda url: build_app(url, FAST, card_signing="signed")) as signed,
        LoopbackServer(lambda url: build_app(url, FAST, card_signing="bad")) as bad,
    ):
        monkeypatch.setenv("A2A_AGENT_URL", signed.url)
        at = AppTest.from_file(APP, default_timeout=30)
        try:
            at.run()
            kid = httpx.get(signed.url + JWKS_PATH).json()["keys"][0]["kid"]
            line = next(c for c in sidebar_captions(at) if "Card signature" in c)
            assert line.startswith(":green[verified] Card signature: key ")
            assert plain(kid[:23]) in line and line.endswith(f"from {signed.url}")
            at.sidebar.text_input(key="sidebar_agent_url").set_value(bad.url)
            next(b for b in at.sidebar.button if b.label == "Connect").click().run()
            line = next(c for c in sidebar_captions(at) if "Card signature" in c)
            assert line.startswith(":red[invalid] Card signature: The card")
            at.sidebar.text_input(key="sidebar_agent_url").set_value(demo_agent.url)
            next(b for b in at.sidebar.button if b.label == "Connect").click().run()
            assert ":gray[unsigned] Card signature: none" in sidebar_captions(at)
            assert not at.exception
        finally:
            close_runtime(at)


def test_a_jwks_url_from_secrets_reaches_the_connect(monkeypatch):
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    with file_server() as (keys_url, bodies):
        signer = CardSigner(f"http://127.0.0.1:{free_port()}")
        bodies["keys.json"] = json.dumps(signer.jwks).encode()
        with LoopbackServer(card_only(signer.sign)) as server:
            at = AppTest.from_file(APP, default_timeout=30)
            at.secrets["agents"] = [{"url": server.url, "jwks_url": f"{keys_url}/keys.json"}]
            try:
                at.run()
                line = next(c for c in sidebar_captions(at) if "Card signature" in c)
                assert line.startswith(":green[verified]") and line.endswith(f"from {keys_url}")
                assert not at.exception
            finally:
                close_runtime(at)
