"""The connection doctor: from a URL to a usable agent, one step at a time.

`diagnose` walks the way a client reaches an agent (URL, DNS, TCP, TLS, the card's HTTP
answer, its content type and JSON, the card's own checks, the protocol version, and
the card's signature, whether the endpoint wants credentials), one `Check` per step, and
stops at the first failure: what comes after it is `skip`, so the report names the one
thing to fix first. A signature that does not verify fails its (SHOULD) step without
stopping the run: the agent may still work, and the later steps say whether it does.

It is a one-shot diagnostic, not the session's streaming path, so it is synchronous (a
short-lived `httpx.Client` and plain sockets) and needs no runtime or event loop.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
from a2a.client.card_resolver import parse_agent_card
from a2a.types import a2a_pb2_grpc
from a2a.types.a2a_pb2 import AgentCard, GetTaskRequest
from google.protobuf.json_format import ParseError

from services.agent_check.model import AgentCheckReport, Check, Level, Status
from services.client.agent import CARD_MAX_BYTES, CARD_PATHS
from services.client.grpc_channels import grpc_target
from services.client.signatures import verify_card
from services.client.tls import ClientCertificate, certificate_refusal
from services.errors import InvalidUrl
from services.formats import FileRejected, load_json
from services.inspector.card_check import check_card
from services.urls import check_agent_url, shorten

__all__ = ["APP_PROTOCOL_VERSIONS", "BINDING_NAMES", "diagnose"]

APP_PROTOCOL_VERSIONS = ("1.0", "0.3")  # what this app speaks, preferred first
# Command-line name -> the card's.
BINDING_NAMES = {"jsonrpc": "JSONRPC", "rest": "HTTP+JSON", "grpc": "GRPC"}
_DISCOVERY = "A2A 1.0 §8.2 Agent Card discovery"
_AUTH = "A2A 1.0 §4 Authentication and Authorization"
_VERSIONS = "A2A 1.0 §3.2.1 Protocol versioning (A2A-Version header)"
_SIGNING = "A2A 1.0 §8.4 Agent Card Signing"
_SIGNATURE_STATUS: dict[str, Status] = {
    "verified": "pass",
    "absent": "skip",
    "unverifiable": "warn",
    "invalid": "fail",
}
# OpenSSL's X509_V_ERR_* codes, as ssl.SSLCertVerificationError.verify_code carries them.
_TLS_REASONS = {
    9: "its certificate is not valid yet",
    10: "its certificate has expired",
    18: "its certificate is self-signed and not trusted",
    19: "its certificate chain ends in a self-signed certificate that is not trusted",
    20: "its certificate's issuer is unknown (not in the trusted certificate authorities)",
    21: "its certificate's issuer is unknown (not in the trusted certificate authorities)",
    62: "its certificate is for another host name",
    64: "its certificate is for another IP address",
}


@dataclass(frozen=True)
class _Step:
    id: str
    title: str
    level: Level
    spec: str
    check: Callable[[_Run, _Step], None]


class _Stop(Exception):
    """A step failed: the run stops here (the failing check is already recorded)."""


@dataclass
class _Run:
    """What the steps learn, passed from each to the next."""

    text: str
    headers: dict[str, str]
    timeout: float
    verify: bool | str
    binding: str
    jwks_url: str = ""
    report: AgentCheckReport = field(default_factory=AgentCheckReport)
    url: str = ""
    host: str = ""
    port: int = 0
    addresses: list[tuple[Any, ...]] = field(default_factory=list)
    card_url: str = ""
    response: httpx.Response | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    card: AgentCard | None = None
    endpoint: str = ""
    chosen_binding: str = ""
    version: str = ""
    probe: httpx.Response | None = None  # the endpoint's answer to a harmless request
    certificate: ClientCertificate | None = None  # presented to the agent (mutual TLS)

    def record(self, step: _Step, status: Status, message: str) -> None:
        self.report.checks.append(
            Check(step.id, step.title, step.level, status, message, step.spec)
        )

    def fail(self, step: _Step, message: str) -> _Stop:
        self.record(step, "fail", message)
        return _Stop(message)


def diagnose(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    verify: bool | str = True,
    binding: str = "",
    jwks_url: str = "",
    report: AgentCheckReport | None = None,
    client_certificate: ClientCertificate | None = None,
) -> AgentCheckReport:
    """Check each step from `url` to a usable agent; stop at the first failure.

    Args:
        headers: sent with every request (credentials, say); never echoed in the report.
        verify: True checks TLS certificates against the system's authorities, a path
            checks them against that CA bundle, False does not check them (`--insecure`).
        binding: "JSONRPC" or "HTTP+JSON" to check only that interface; else either.
        jwks_url: where the card's signature keys are, instead of the signature's `jku`.
        report: the report to fill, check by check (a page watching a run reads it);
            a new one if None.
        client_certificate: presented to the agent for mutual TLS (`--client-cert`).
    """
    run = _Run(
        url, dict(headers or {}), timeout, verify, binding, jwks_url, report or AgentCheckReport()
    )
    run.certificate = client_certificate
    run.report.agent = {"url": shorten(url)}
    for position, step in enumerate(_STEPS):
        try:
            step.check(run, step)
        except _Stop:
            for later in _STEPS[position + 1 :]:
                run.record(later, "skip", f"Not checked: {step.title} failed.")
            # Reachable means something answered over HTTP; before that, nothing did.
            run.report.reachable = position >= _STEPS.index(_step("doctor.http"))
            break
    return run.report


def _step(step_id: str) -> _Step:
    return next(s for s in _STEPS if s.id == step_id)


# --- the steps, in order -----------------------------------------------------------------


def _check_url(run: _Run, step: _Step) -> None:
    try:
        run.url = check_agent_url(run.text)
    except InvalidUrl as error:
        raise run.fail(step, str(error)) from error
    parts = urlsplit(run.url)
    run.host = parts.hostname or ""
    run.port = parts.port or (443 if parts.scheme == "https" else 80)
    run.report.agent["url"] = shorten(run.url)
    run.record(step, "pass", f"{shorten(run.url)} is a valid {parts.scheme} URL.")


def _check_dns(run: _Run, step: _Step) -> None:
    try:
        ipaddress.ip_address(run.host)
    except ValueError:
        pass
    else:
        run.addresses = socket.getaddrinfo(run.host, run.port, type=socket.SOCK_STREAM)
        run.record(step, "pass", f"{run.host} is an IP address: no DNS lookup needed.")
        return
    try:
        run.addresses = _with_timeout(
            lambda: socket.getaddrinfo(run.host, run.port, type=socket.SOCK_STREAM),
            run.timeout,
        )
    except TimeoutError as error:
        raise run.fail(
            step, f"Looking up {run.host} took more than {run.timeout:g} s: check your DNS."
        ) from error
    except OSError as error:
        raise run.fail(
            step, f"The host name {run.host} does not resolve: check its spelling."
        ) from error
    shown = ", ".join(sorted({str(a[4][0]) for a in run.addresses})[:3])
    run.record(step, "pass", f"{run.host} resolves to {shown}.")


def _check_tcp(run: _Run, step: _Step) -> None:
    errors: list[OSError] = []
    for family, kind, proto, _name, address in run.addresses:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(run.timeout)
        try:
            sock.connect(address)
        except OSError as error:
            errors.append(error)
            continue
        finally:
            sock.close()
        run.record(step, "pass", f"Port {run.port} on {run.host} accepts connections.")
        return
    timed_out = any(isinstance(e, TimeoutError) for e in errors)
    why = f"did not answer within {run.timeout:g} s" if timed_out else "refused the connection"
    raise run.fail(
        step, f"Port {run.port} on {run.host} {why}: check the port and that the agent is running."
    ) from (errors[0] if errors else None)


def _tls_context(verify: bool | str, certificate: ClientCertificate | None) -> ssl.SSLContext:
    if isinstance(verify, str):
        context = ssl.create_default_context(cafile=verify)
    else:
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    if certificate is not None:
        certificate.load_into(context)
    return context


def _refused_certificate(run: _Run) -> str:
    """One sentence if the agent wants a client certificate it did not get, or refused
    the one given (mutual TLS); else "". Servers often just close the connection, so
    `certificate_refusal` watches a handshake of its own for the server's request."""
    context = _tls_context(run.verify, run.certificate)
    refusal = certificate_refusal(run.host, run.port, context, timeout=run.timeout)
    if refusal is None:
        return ""
    if run.certificate is None:
        return (
            "The agent asks for a client certificate (mutual TLS): pass --client-cert "
            "and --client-key."
        )
    return (
        f"The agent refused the client certificate given: {refusal}; check --client-cert "
        "and --client-key, and that the agent trusts their issuer."
    )


def _check_tls(run: _Run, step: _Step) -> None:
    if urlsplit(run.url).scheme != "https":
        if _is_local(run.host):
            run.record(step, "skip", "Not checked: the URL uses plain http on a local address.")
        else:
            run.record(
                step,
                "warn",
                f"The URL uses plain http: production agents must use https, "
                f"so {run.host} sees credentials and messages unencrypted.",
            )
        return
    context = _tls_context(run.verify, run.certificate)
    try:
        with (
            socket.create_connection((run.host, run.port), timeout=run.timeout) as sock,
            context.wrap_socket(sock, server_hostname=run.host) as tls,
        ):
            version = tls.version() or "TLS"
    except ssl.SSLCertVerificationError as error:
        reason = _TLS_REASONS.get(
            error.verify_code, f"its certificate failed: {error.verify_message}"
        )
        raise run.fail(
            step, f"{run.host} is not trusted: {reason}; fix the certificate or pass --insecure."
        ) from error
    except (ssl.SSLError, OSError) as error:
        message = (
            _refused_certificate(run) or f"The TLS handshake with {run.host} failed ({error})."
        )
        raise run.fail(step, message) from error
    if refused := _refused_certificate(run):
        raise run.fail(step, refused)
    if run.verify is False:
        run.record(
            step, "warn", f"{version} works, but the certificate was not checked (--insecure)."
        )
    else:
        run.record(step, "pass", f"{version} works with a trusted certificate for {run.host}.")


def _card_urls(url: str) -> list[str]:
    if urlsplit(url).path.endswith(".json"):
        return [url]
    return [url.rstrip("/") + path for path in CARD_PATHS]


def _client(run: _Run) -> httpx.Client:
    verify = _tls_context(run.verify, run.certificate)  # verify=False: it checks nothing
    return httpx.Client(
        headers=run.headers, timeout=run.timeout, verify=verify, follow_redirects=True
    )


def _get_bounded(client: httpx.Client, url: str) -> httpx.Response:
    """The response with at most CARD_MAX_BYTES + 1 of its body read."""
    with client.stream("GET", url) as response:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > CARD_MAX_BYTES:
                break
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=bytes(body),
        request=response.request,
    )


def _check_http(run: _Run, step: _Step) -> None:
    answers: list[tuple[str, httpx.Response]] = []
    try:
        with _client(run) as client:
            for card_url in _card_urls(run.url):
                answers.append((card_url, _get_bounded(client, card_url)))
    except httpx.HTTPError as error:
        raise run.fail(
            step, f"Fetching the card from {shorten(run.url)} failed ({type(error).__name__})."
        ) from error
    found = [(u, r) for u, r in answers if r.status_code == 200]
    # The first answer that parses as JSON, as the client picks it; else the first 200.
    chosen = next((a for a in found if _parses(a[1])), found[0] if found else None)
    if chosen is None:
        tried = ", ".join(f"{urlsplit(u).path} → {r.status_code}" for u, r in answers)
        raise run.fail(step, f"No agent card was served ({tried}): check the URL or its path.")
    run.card_url, run.response = chosen
    run.report.agent["card_url"] = shorten(run.card_url)
    legacy = run.card_url.endswith(CARD_PATHS[1]) and len(answers) > 1
    where = "the legacy path (0.3 agents)" if legacy else "200"
    run.record(step, "pass", f"{shorten(run.card_url)} answered {where}.")


def _parses(response: httpx.Response) -> bool:
    try:
        load_json(response.content, what="agent card", max_bytes=CARD_MAX_BYTES)
    except FileRejected:
        return False
    return True


def _check_content_type(run: _Run, step: _Step) -> None:
    assert run.response is not None
    value = run.response.headers.get("content-type", "")
    media = value.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        run.record(step, "pass", f"The card is served as {media}.")
    else:
        shown = media or "no content type"
        run.record(step, "warn", f"The card is served as {shown}, not application/json.")


def _check_json(run: _Run, step: _Step) -> None:
    assert run.response is not None
    try:
        raw = load_json(run.response.content, what="agent card", max_bytes=CARD_MAX_BYTES)
    except FileRejected as error:
        start = run.response.content.lstrip()[:1]
        if start == b"<":
            raise run.fail(
                step,
                f"{shorten(run.card_url)} returned a web page, not a JSON agent card: "
                "check that the URL points at an A2A agent.",
            ) from error
        raise run.fail(step, str(error)) from error
    if not isinstance(raw, dict):
        raise run.fail(step, f"The card is a JSON {type(raw).__name__}, not an object.")
    run.raw = raw
    run.record(step, "pass", f"The card is a JSON object of {len(run.response.content):,} bytes.")


def _check_card(run: _Run, step: _Step) -> None:
    findings = check_card(run.raw)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        more = f" ({len(errors) - 1} more errors)" if len(errors) > 1 else ""
        raise run.fail(step, f"{errors[0].message.rstrip('.')}{more}.")
    try:
        # parse_agent_card rewrites legacy (0.3) fields in place: give it a copy.
        run.card = parse_agent_card(copy.deepcopy(run.raw))
    except (ParseError, TypeError, AttributeError, ValueError) as error:
        raise run.fail(step, f"The card is not a valid A2A card ({error}).") from error
    card = run.card
    run.report.agent.update(
        name=card.name,
        version=card.version,
        bindings=sorted({i.protocol_binding for i in card.supported_interfaces}),
        protocol_versions=sorted({i.protocol_version for i in card.supported_interfaces}),
    )
    if findings:
        more = f" ({len(findings) - 1} more warnings)" if len(findings) > 1 else ""
        run.record(step, "warn", f"{findings[0].message.rstrip('.')}{more}.")
    else:
        run.record(step, "pass", f"The card of {card.name or 'the agent'} passes every check.")


def _check_signature(run: _Run, step: _Step) -> None:
    assert run.card is not None
    # No `run.headers` nor client certificate: a key set may live at another origin, and
    # credentials are the agent's.
    verify: ssl.SSLContext | bool = (
        _tls_context(run.verify, None) if run.verify is not False else False
    )
    with httpx.Client(timeout=run.timeout, verify=verify, follow_redirects=True) as client:
        signature = verify_card(client, run.card, jwks_url=run.jwks_url)
    run.record(step, _SIGNATURE_STATUS[signature.state], signature.sentence)


def _major_minor(version: str) -> str:
    return ".".join(version.strip().split(".")[:2])


def _check_version(run: _Run, step: _Step) -> None:
    assert run.card is not None
    wanted = [run.binding] if run.binding else list(BINDING_NAMES.values())
    interfaces = [i for i in run.card.supported_interfaces if i.protocol_binding in wanted]
    if not interfaces:
        offered = ", ".join(i.protocol_binding for i in run.card.supported_interfaces) or "none"
        raise run.fail(
            step,
            f"The card offers no {' or '.join(wanted)} interface (it offers {offered}): "
            "choose another binding.",
        )
    declared = sorted({_major_minor(i.protocol_version) for i in interfaces if i.protocol_version})
    for version in APP_PROTOCOL_VERSIONS:
        match = next((i for i in interfaces if _major_minor(i.protocol_version) == version), None)
        if match is not None:
            break
    else:
        shown = ", ".join(declared) or "no version"
        raise run.fail(
            step,
            f"The card declares protocol {shown}, but this app speaks "
            f"{' and '.join(APP_PROTOCOL_VERSIONS)}.",
        )
    run.version, run.chosen_binding, run.endpoint = version, match.protocol_binding, match.url
    run.report.agent.update(binding=run.chosen_binding, protocol_version=version)
    # Negotiation: the endpoint itself must take the A2A-Version header the card implies.
    try:
        with _client(run) as client:
            run.probe = _probe(run, client)
    except httpx.HTTPError:
        run.probe = None  # the auth step asks again and says what failed
    if run.probe is not None and _refuses_version(run.probe):
        raise run.fail(
            step,
            f"The agent refused A2A-Version {version} (VersionNotSupportedError), though "
            f"its card declares {version} for {run.chosen_binding}: make the two agree.",
        )
    run.record(
        step,
        "pass",
        f"Protocol {version} over {run.chosen_binding} will be used "
        f"(the card declares {', '.join(declared)}).",
    )


def _refuses_version(response: httpx.Response) -> bool:
    """VersionNotSupportedError in a JSON-RPC (-32009) or HTTP+JSON error response."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    return error.get("code") == -32009 or "VERSION_NOT_SUPPORTED" in json.dumps(error)


def _probe(run: _Run, client: httpx.Client) -> httpx.Response:
    """A request that changes nothing: get a task that does not exist."""
    task_id = f"agent-check-{uuid.uuid4()}"
    version_header = {"A2A-Version": run.version}
    if run.chosen_binding == "GRPC":
        return _grpc_probe(run, task_id)
    if run.chosen_binding == "HTTP+JSON":
        url = f"{run.endpoint.rstrip('/')}/tasks/{task_id}"
        return client.get(url, headers=version_header)
    method = "GetTask" if run.version == "1.0" else "tasks/get"
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"id": task_id}}
    return client.post(run.endpoint, content=json.dumps(body), headers=version_header)


# gRPC status -> the HTTP status the auth step judges (A2A 1.0 §3.3.2's mapping).
_GRPC_AS_HTTP = {
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.UNIMPLEMENTED: 501,
}


def _grpc_probe(run: _Run, task_id: str) -> httpx.Response:
    """`_probe` over gRPC: a synchronous GetTask (no event loop), told as an HTTP answer.

    A status with no HTTP twin answers 500 with the status in an error body, where
    `_refuses_version` finds VERSION_NOT_SUPPORTED; a channel that cannot connect raises
    `httpx.ConnectError`, as the HTTP probe would.
    """
    target, secure = grpc_target(run.endpoint)
    metadata = [("a2a-version", run.version)]
    metadata += [(name.lower(), value) for name, value in run.headers.items()]
    if secure:
        roots = None
        if isinstance(run.verify, str):
            with open(run.verify, "rb") as file:
                roots = file.read()
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(roots))
    else:
        channel = grpc.insecure_channel(target)
    with channel:
        stub = a2a_pb2_grpc.A2AServiceStub(channel)  # type: ignore[no-untyped-call]
        try:
            stub.GetTask(GetTaskRequest(id=task_id), metadata=metadata, timeout=run.timeout)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise httpx.ConnectError(f"gRPC {code.name}: {error.details()}") from error
            reasons = " ".join(str(value) for _key, value in error.trailing_metadata() or ())
            status = _GRPC_AS_HTTP.get(code, 500)
            body = {"error": {"code": code.name, "message": f"{error.details()} {reasons}"}}
            return httpx.Response(status, json=body)
    return httpx.Response(200, json={})


def _expected_credentials(card: AgentCard) -> str:
    """What the card's security schemes ask for, in words."""
    wants = []
    for name, scheme in card.security_schemes.items():
        kind = scheme.WhichOneof("scheme")
        if kind == "http_auth_security_scheme":
            what = f"an HTTP {scheme.http_auth_security_scheme.scheme.lower()} token"
            if scheme.http_auth_security_scheme.scheme.lower() == "bearer":
                what = "a bearer token"
        elif kind == "api_key_security_scheme":
            what = f"an API key in {scheme.api_key_security_scheme.name or 'a header'}"
        elif kind == "oauth2_security_scheme":
            what = "an OAuth 2.0 access token"
        elif kind == "open_id_connect_security_scheme":
            what = "an OpenID Connect token"
        elif kind == "mtls_security_scheme":
            what = "a client certificate (mutual TLS)"
        else:
            what = "credentials"
        wants.append(f"{what} (securitySchemes.{name})")
    return " or ".join(wants)


def _check_auth(run: _Run, step: _Step) -> None:
    assert run.card is not None
    try:
        if run.probe is not None:
            response = run.probe
        else:
            with _client(run) as client:
                response = _probe(run, client)
    except httpx.HTTPError as error:
        raise run.fail(
            step,
            f"A request to the agent's endpoint {shorten(run.endpoint)} failed "
            f"({type(error).__name__}).",
        ) from error
    status = response.status_code
    wants = _expected_credentials(run.card)
    sent = bool(run.headers)
    if status in (401, 403):
        if not wants:
            raise run.fail(
                step,
                f"The agent answered {status}, but its card declares no security schemes: "
                "declare them in the card.",
            )
        if sent:
            raise run.fail(
                step,
                f"The agent answered {status} to the credentials given: its card asks for "
                f"{wants}; check them.",
            )
        run.record(
            step,
            "warn",
            f"The agent answered {status}: its card asks for {wants}; "
            "pass --token or set credentials.",
        )
        return
    if wants:
        how = "accepted the credentials given" if sent else "answered without credentials"
        run.record(step, "pass", f"The agent {how}; its card asks for {wants}.")
    else:
        run.record(step, "pass", "The card declares no security schemes, and none are needed.")


_STEPS = [
    _Step("doctor.url", "URL syntax", "MUST", _DISCOVERY, _check_url),
    _Step("doctor.dns", "DNS", "MUST", _DISCOVERY, _check_dns),
    _Step("doctor.tcp", "TCP connect", "MUST", _DISCOVERY, _check_tcp),
    _Step("doctor.tls", "TLS", "MUST", f"{_AUTH} (transport security)", _check_tls),
    _Step("doctor.http", "Card HTTP status", "MUST", _DISCOVERY, _check_http),
    _Step("doctor.content-type", "Card content type", "SHOULD", _DISCOVERY, _check_content_type),
    _Step("doctor.json", "Card JSON", "MUST", _DISCOVERY, _check_json),
    _Step(
        "doctor.card",
        "Card checks",
        "MUST",
        f"{_DISCOVERY} (the card's fields)",
        _check_card,
    ),
    _Step("doctor.signature", "Card signature", "SHOULD", _SIGNING, _check_signature),
    _Step("doctor.version", "Protocol version", "MUST", _VERSIONS, _check_version),
    _Step("doctor.auth", "Authentication", "MUST", _AUTH, _check_auth),
]


# --- helpers -----------------------------------------------------------------------------


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _with_timeout(call: Callable[[], list[tuple[Any, ...]]], timeout: float) -> Any:
    """`call()` on a daemon thread, or TimeoutError after `timeout` seconds.

    getaddrinfo takes no timeout; a daemon thread lets the caller give up on a hung
    resolver without waiting for it (or blocking interpreter exit).
    """
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append((True, call()))
        except OSError as error:
            outcome.append((False, error))

    thread = threading.Thread(target=target, name="agent-check-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise TimeoutError
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
