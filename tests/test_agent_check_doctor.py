"""The connection doctor and `python -m services.agent_check`, against real servers on
loopback: the demo agent, purpose-built broken agents, and TLS servers with certificates
made for each test (self-signed, expired, for another host, and a good one)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.agent_check import AgentCheckReport
from services.agent_check.doctor import diagnose
from services.demo_agent import DemoAgentServer, DemoAuth, LoopbackServer
from tests.agents import bad_card_app, html_app, not_found_app
from tests.certificates import https_demo_agent, make_certificates

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "tok-doctor-4471"
STEPS = [
    "doctor.url",
    "doctor.dns",
    "doctor.tcp",
    "doctor.tls",
    "doctor.http",
    "doctor.content-type",
    "doctor.json",
    "doctor.card",
    "doctor.signature",
    "doctor.version",
    "doctor.auth",
]


def statuses(report: AgentCheckReport) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


def check(report: AgentCheckReport, check_id: str) -> tuple[str, str]:
    found = next(c for c in report.checks if c.id == check_id)
    return found.status, found.message


def skipped_after(report: AgentCheckReport, check_id: str, title: str) -> bool:
    later = [c for c in report.checks][STEPS.index(check_id) + 1 :]
    return all(c.status == "skip" and c.message == f"Not checked: {title} failed." for c in later)


# --- the doctor over http ----------------------------------------------------------------


def test_the_demo_agent_passes_every_check_in_order():
    with DemoAgentServer(auth=DemoAuth(bearer_token=TOKEN)) as server:
        report = diagnose(server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert [c.id for c in report.checks] == STEPS
    assert {c.status for c in report.checks} == {"pass", "skip"}
    assert check(report, "doctor.tls") == (
        "skip",
        "Not checked: the URL uses plain http on a local address.",
    )
    assert report.reachable and not report.must_failed
    assert report.agent["name"] == "A2A Demo Agent"
    assert report.agent["protocol_version"] == "1.0"
    assert report.agent["binding"] == "JSONRPC"
    assert set(report.agent["bindings"]) == {"JSONRPC", "HTTP+JSON", "GRPC"}
    assert TOKEN not in json.dumps(report.as_json())


def test_each_binding_can_be_checked_alone():
    with DemoAgentServer() as server:
        report = diagnose(server.url, binding="HTTP+JSON", timeout=5)
    assert check(report, "doctor.version")[0] == "pass"
    assert report.agent["binding"] == "HTTP+JSON"
    assert check(report, "doctor.auth")[0] == "pass"


def test_an_unresolvable_host_fails_dns_and_is_unreachable():
    report = diagnose("http://no-such-agent.invalid", timeout=5)
    assert statuses(report)["doctor.dns"] == "fail"
    assert "does not resolve" in check(report, "doctor.dns")[1]
    assert skipped_after(report, "doctor.dns", "DNS")
    assert not report.reachable


def test_a_closed_port_fails_tcp():
    with socket.socket() as sock:  # bind, then close: the port is free and nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = diagnose(f"http://127.0.0.1:{port}", timeout=5)
    assert check(report, "doctor.tcp") == (
        "fail",
        f"Port {port} on 127.0.0.1 refused the connection: check the port and that the "
        "agent is running.",
    )
    assert skipped_after(report, "doctor.tcp", "TCP connect")
    assert not report.reachable


def test_a_bad_url_fails_its_syntax_check():
    report = diagnose("ftp://example.com", timeout=5)
    assert statuses(report)["doctor.url"] == "fail"
    assert skipped_after(report, "doctor.url", "URL syntax")


def test_an_html_page_fails_json_and_warns_on_content_type():
    with LoopbackServer(html_app) as server:
        report = diagnose(server.url, timeout=5)
    assert check(report, "doctor.content-type") == (
        "warn",
        "The card is served as text/html, not application/json.",
    )
    status, message = check(report, "doctor.json")
    assert status == "fail" and "returned a web page" in message
    assert skipped_after(report, "doctor.json", "Card JSON")
    assert report.reachable and report.must_failed


def plain_text_card(base_url: str) -> Starlette:
    """The demo agent's card, served as text/plain."""
    from google.protobuf.json_format import MessageToDict

    from services.demo_agent import build_agent_card

    body = json.dumps(MessageToDict(build_agent_card(base_url)))

    async def card(_request: Request) -> Response:
        return Response(body, media_type="text/plain")

    return Starlette(routes=[Route("/.well-known/agent-card.json", card)])


def test_a_card_served_as_text_plain_only_warns():
    # SHOULD, not MUST: a client can still read the card, so the rest goes on.
    with LoopbackServer(plain_text_card) as server:
        report = diagnose(server.url, timeout=5)
    assert check(report, "doctor.content-type") == (
        "warn",
        "The card is served as text/plain, not application/json.",
    )
    assert statuses(report)["doctor.json"] == "pass"
    assert statuses(report)["doctor.card"] in ("pass", "warn")


def test_no_card_at_either_path_fails_http():
    with LoopbackServer(not_found_app) as server:
        report = diagnose(server.url, timeout=5)
    status, message = check(report, "doctor.http")
    assert status == "fail"
    assert "/.well-known/agent-card.json → 404" in message
    assert "/.well-known/agent.json → 404" in message
    assert report.reachable


def test_a_card_with_wrong_types_fails_the_card_checks():
    with LoopbackServer(bad_card_app) as server:
        report = diagnose(server.url, timeout=5)
    status, message = check(report, "doctor.card")
    assert status == "fail" and "`name`" in message
    assert skipped_after(report, "doctor.card", "Card checks")


def versioned_card_app(version: str, *, refuse: bool) -> Callable[[str], Starlette]:
    """The demo agent's card with every interface at protocol `version`; with `refuse`,
    its endpoints answer any request with VersionNotSupportedError (both bindings)."""
    from google.protobuf.json_format import MessageToDict
    from starlette.responses import JSONResponse

    from services.demo_agent import build_agent_card

    def factory(base_url: str) -> Starlette:
        card = MessageToDict(build_agent_card(base_url))
        for interface in card["supportedInterfaces"]:
            interface["protocolVersion"] = version

        async def serve_card(_request: Request) -> Response:
            return JSONResponse(card)

        async def rpc(request: Request) -> Response:
            error = {"code": -32009, "message": "Version not supported"}
            body = await request.json()
            return JSONResponse({"jsonrpc": "2.0", "id": body.get("id"), "error": error})

        async def rest(_request: Request) -> Response:
            reason = {"@type": "type.googleapis.com/google.rpc.ErrorInfo"}
            reason["reason"] = "VERSION_NOT_SUPPORTED"
            error = {"code": 400, "status": "FAILED_PRECONDITION", "details": [reason]}
            return JSONResponse({"error": error}, status_code=400)

        routes = [Route("/.well-known/agent-card.json", serve_card)]
        if refuse:
            routes += [Route("/", rpc, methods=["POST"]), Route("/rest/{path:path}", rest)]
        return Starlette(routes=routes)

    return factory


def test_a_card_for_a_version_the_app_does_not_speak_fails_version():
    with LoopbackServer(versioned_card_app("2.0", refuse=False)) as server:
        report = diagnose(server.url, timeout=5)
    assert check(report, "doctor.version") == (
        "fail",
        "The card declares protocol 2.0, but this app speaks 1.0 and 0.3.",
    )
    assert skipped_after(report, "doctor.version", "Protocol version")


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON"])
def test_an_agent_refusing_the_version_its_card_declares_fails_version(binding: str):
    with LoopbackServer(versioned_card_app("1.0", refuse=True)) as server:
        report = diagnose(server.url, binding=binding, timeout=5)
    assert check(report, "doctor.version") == (
        "fail",
        "The agent refused A2A-Version 1.0 (VersionNotSupportedError), though its card "
        f"declares 1.0 for {binding}: make the two agree.",
    )


def test_an_agent_that_wants_a_bearer_token_says_so():
    with DemoAgentServer(auth=DemoAuth(bearer_token=TOKEN)) as server:
        report = diagnose(server.url, timeout=5)
        wrong = diagnose(server.url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert check(report, "doctor.auth") == (
        "warn",
        "The agent answered 401: its card asks for a bearer token (securitySchemes.bearer); "
        "pass --token or set credentials.",
    )
    status, message = check(wrong, "doctor.auth")
    assert status == "fail" and message.startswith("The agent answered 401 to the credentials")


# --- TLS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("self-signed", "its certificate is self-signed and not trusted"),
        ("expired", "its certificate has expired"),
        ("other-host", "its certificate is for another IP address"),
    ],
)
def test_a_bad_certificate_fails_tls_with_its_reason(tmp_path: Path, kind: str, reason: str):
    cert, key, ca = make_certificates(tmp_path, kind)
    with https_demo_agent(cert, key) as url:
        # Trust the test CA (as for an internal agent), so only the named fault remains.
        report = diagnose(url, verify=str(ca), timeout=5)
        insecure = diagnose(url, verify=False, timeout=5)
    assert check(report, "doctor.tls") == (
        "fail",
        f"127.0.0.1 is not trusted: {reason}; fix the certificate or pass --insecure.",
    )
    assert skipped_after(report, "doctor.tls", "TLS")
    assert not report.reachable
    assert check(insecure, "doctor.tls")[0] == "warn"
    assert check(insecure, "doctor.http")[0] == "pass"


def test_a_trusted_certificate_passes_tls_and_the_rest(tmp_path: Path):
    cert, key, ca = make_certificates(tmp_path, "good")
    with https_demo_agent(cert, key) as url:
        report = diagnose(url, verify=str(ca), timeout=5)
    status, message = check(report, "doctor.tls")
    assert status == "pass" and "trusted certificate for 127.0.0.1" in message
    assert not any(c.status == "fail" for c in report.checks)


# --- the command ---------------------------------------------------------------------------


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.agent_check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_writes_json_and_junit_and_exits_0(tmp_path: Path):
    out_json, out_junit = tmp_path / "report.json", tmp_path / "report.xml"
    with DemoAgentServer(auth=DemoAuth(bearer_token=TOKEN)) as server:
        done = command(
            server.url, "--token", TOKEN, "--json", str(out_json), "--junit", str(out_junit)
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert "doctor.auth" in done.stdout and "PASS" in done.stdout
    report = json.loads(out_json.read_text())
    assert set(report) == {"agent", "checks", "summary"}
    doctor = [c for c in report["checks"] if c["id"].startswith("doctor.")]
    assert [c["id"] for c in doctor] == STEPS
    for item in report["checks"]:
        assert set(item) == {"id", "title", "level", "status", "message", "spec"}
    assert set(report["summary"]) == {"pass", "fail", "warn", "skip"}
    assert TOKEN not in out_json.read_text() + out_junit.read_text()
    suite = ET.parse(out_junit).getroot()
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert len(cases) == len(report["checks"]) == int(suite.get("tests", "0"))
    assert [c.get("name") for c in cases][: len(STEPS)] == STEPS
    assert cases[STEPS.index("doctor.tls")].find("skipped") is not None
    assert suite.findall("testcase/failure") == []


def test_the_command_exits_2_when_nothing_answers(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out_junit = tmp_path / "report.xml"
    done = command(f"http://127.0.0.1:{port}", "--junit", str(out_junit), "--timeout", "3")
    assert done.returncode == 2, done.stdout + done.stderr
    failures = ET.parse(out_junit).getroot().findall("testcase/failure")
    assert len(failures) == 1 and "refused the connection" in (failures[0].get("message") or "")


def test_the_command_exits_1_when_a_must_check_fails():
    with LoopbackServer(html_app) as server:
        done = command(server.url, "--header", f"X-Secret={TOKEN}")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "doctor.json" in done.stdout and "FAIL" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
