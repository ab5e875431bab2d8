"""Mutual TLS against real servers on loopback: the demo agent behind uvicorn requiring a
client certificate from its own CA, and a bare TLS server that records whether a client
presented one. Certificates are made for each run (`tests.certificates`)."""

from __future__ import annotations

import logging
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from services.agent_check.doctor import diagnose
from services.client import agent, resources
from services.client.tls import ClientCertificate, OriginCertificates
from services.errors import AppError, ClientCertificateNeeded, NotAnAgent
from services.inspector.inspection import export_jsonl
from services.replies import Reply
from services.runtime import SessionRuntime
from services.session import Settings
from tests.certificates import MutualTls, https_demo_agent, make_mutual_tls
from tests.conftest import APP, close_runtime
from tests.test_app import last_bubble, send
from tests.test_inspector_page import INSPECTOR, everything_shown

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[1]
NEEDED = (
    "The agent asks for a client certificate (mutual TLS): pass --client-cert and --client-key."
)


@dataclass(frozen=True)
class Agent:
    url: str
    files: MutualTls

    def certificate(self, *, stranger: bool = False) -> ClientCertificate:
        cert, key = (
            (self.files.stranger_cert, self.files.stranger_key)
            if stranger
            else (self.files.client_cert, self.files.client_key)
        )
        return ClientCertificate.load(str(cert), str(key), str(self.files.ca), agent="agent T")


@pytest.fixture(scope="module")
def mtls_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """The demo agent over https, requiring a client certificate signed by its CA."""
    files = make_mutual_tls(tmp_path_factory.mktemp("mtls"))
    with https_demo_agent(files.server_cert, files.server_key, client_ca=files.ca) as url:
        yield Agent(url, files)


@pytest.fixture
def trust_test_ca(mtls_agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the test CA for servers' certificates (httpx reads SSL_CERT_FILE), so a
    client with no certificate of its own gets as far as the certificate request."""
    monkeypatch.setenv("SSL_CERT_FILE", str(mtls_agent.files.ca))


@contextmanager
def session(certificates: OriginCertificates | None = None) -> Iterator[SessionRuntime]:
    runtime = resources.configure(SessionRuntime(label="mtls"), certificates=certificates)
    try:
        yield runtime
    finally:
        runtime.close()


def reply_to(runtime: SessionRuntime, url: str, text: str) -> Reply:
    """Send `text` and read the whole reply, as the Chat page does."""
    reply = Reply()
    for event in agent.send_message(runtime, url, text):
        reply.apply(event)
    reply.finish()
    return reply


# --- the session's client ------------------------------------------------------------------


def test_the_session_client_with_the_agents_certificate_connects_and_sends(mtls_agent: Agent):
    certificates = OriginCertificates()
    certificates.set(mtls_agent.url, mtls_agent.certificate())
    with session(certificates) as runtime:
        info = agent.connect(runtime, mtls_agent.url)
        opened, _idle = resources.pool_counts(runtime)  # the card's connection, kept alive
        reply = reply_to(runtime, mtls_agent.url, "hello over mutual TLS")
    assert info.name == "A2A Demo Agent"
    assert "hello over mutual TLS" in reply.text and not reply.error
    assert opened >= 1  # counted over the certificate's own pool


def test_without_a_certificate_the_connect_says_one_is_needed(mtls_agent: Agent, trust_test_ca):
    with session() as runtime, pytest.raises(ClientCertificateNeeded) as raised:
        agent.connect(runtime, mtls_agent.url)
    assert str(raised.value) == (
        f"The agent at {mtls_agent.url} asks for a client certificate (mutual TLS): "
        "configure client_cert and client_key for it in secrets."
    )


def test_removing_a_certificate_closes_its_connections(mtls_agent: Agent, trust_test_ca):
    with session() as runtime:
        resources.certificates(runtime).set(mtls_agent.url, mtls_agent.certificate())
        agent.connect(runtime, mtls_agent.url)
        assert resources.pool_counts(runtime)[0] >= 1
        resources.certificates(runtime).set(mtls_agent.url, None)  # from the script thread
        with pytest.raises(ClientCertificateNeeded):
            agent.connect(runtime, mtls_agent.url)
        assert resources.pool_counts(runtime) == (0, 0)  # the certificate's pool is closed


def test_a_certificate_from_another_ca_is_refused_in_one_sentence(mtls_agent: Agent):
    certificates = OriginCertificates()
    certificates.set(mtls_agent.url, mtls_agent.certificate(stranger=True))
    with session(certificates) as runtime, pytest.raises(ClientCertificateNeeded) as raised:
        agent.connect(runtime, mtls_agent.url)
    assert str(raised.value).startswith(
        f"The agent at {mtls_agent.url} refused the client certificate of agent T ("
    )


@contextmanager
def certificate_recorder(files: MutualTls) -> Iterator[tuple[str, list[Any]]]:
    """A TLS server on 127.0.0.1 that asks for, but does not require, a client certificate
    (CERT_OPTIONAL), records what each connection presented (None: nothing), and answers
    every request 404."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(files.ca))
    context.load_cert_chain(str(files.server_cert), str(files.server_key))
    context.verify_mode = ssl.CERT_OPTIONAL
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    seen: list[Any] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    seen.append(tls.getpeercert())
                    request = b""
                    while b"\r\n\r\n" not in request and (chunk := tls.recv(4096)):
                        request += chunk
                    tls.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")  # fmt: skip
            except (ssl.SSLError, OSError) as error:
                seen.append(f"failed: {error}")
            finally:
                conn.close()

    thread = threading.Thread(target=serve, name="tls-recorder", daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_the_certificate_is_never_presented_to_another_origin(mtls_agent: Agent, trust_test_ca):
    certificates = OriginCertificates()
    certificates.set(mtls_agent.url, mtls_agent.certificate())
    with certificate_recorder(mtls_agent.files) as (other_url, seen), session(certificates) as rt:
        agent.connect(rt, mtls_agent.url)  # the certificate is in use...
        with pytest.raises(NotAnAgent):
            agent.connect(rt, other_url)  # ...and another origin asks for one
        assert seen and all(peer is None for peer in seen), seen
        # The recorder does see a certificate where one is due (so None above means none).
        certificates.set(other_url, mtls_agent.certificate())
        with pytest.raises(NotAnAgent):
            agent.connect(rt, other_url)
    subjects = [dict(p[0] for p in peer["subject"]) for peer in seen if isinstance(peer, dict)]
    assert subjects and all(s["commonName"] == "app" for s in subjects)


def test_a_certificate_follows_the_card_only_to_endpoints_on_the_agents_host():
    certificate_for = OriginCertificates()
    certificate = ClientCertificate("cert", "key", label="agent T")
    certificate_for.set("https://agent.example:8443", certificate)
    certificate_for.follow_card(
        "https://agent.example:8443/a2a",
        [
            "https://agent.example:9443/rpc",  # the same host: the agent's own endpoint
            "https://elsewhere.example/rpc",  # another host the card names
            "http://agent.example:8080/rpc",  # plain http: nothing to present it on
        ],
    )
    assert certificate_for.get("https://agent.example:9443/x") is certificate
    assert certificate_for.get("https://elsewhere.example/rpc") is None
    assert certificate_for.get("http://agent.example:8080/rpc") is None
    assert certificate_for.get("https://agent.example/") is None  # port 443: not named


# --- settings --------------------------------------------------------------------------------


def test_pem_text_and_a_path_both_load(mtls_agent: Agent):
    files = mtls_agent.files
    from_paths = ClientCertificate.load(str(files.client_cert), str(files.client_key), agent="A")
    from_text = ClientCertificate.load(
        files.client_cert.read_text(), files.client_key.read_text(), agent="A"
    )
    assert from_paths == from_text
    assert from_text.ssl_context() is from_text.ssl_context()  # built once


def test_a_certificate_that_cannot_be_used_gets_one_sentence(mtls_agent: Agent, tmp_path: Path):
    files = mtls_agent.files
    with pytest.raises(AppError) as no_key:
        ClientCertificate.load(str(files.client_cert), "", agent="agent 'Vault'")
    assert str(no_key.value) == (
        "The client certificate for agent 'Vault' has client_cert but no client_key: set both "
        "(PEM text or a PEM file's path) or neither."
    )
    pasted_key = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"  # a key without its header
    with pytest.raises(AppError) as unreadable:
        ClientCertificate.load(str(files.client_cert), pasted_key, agent="agent 'Vault'")
    assert str(unreadable.value) == (
        "The client_key for agent 'Vault' is neither PEM text (-----BEGIN ...) nor a file "
        "that can be read (No such file or directory): give the PEM itself or the path of "
        "a readable PEM file."
    )
    with pytest.raises(AppError) as mismatched:
        ClientCertificate.load(str(files.client_cert), str(files.stranger_key), agent="agent 'V'")
    assert str(mismatched.value) == (
        "The client_cert and client_key for agent 'V' do not load: check that client_cert "
        "is a PEM certificate and client_key its unencrypted PEM key."
    )
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate")
    with pytest.raises(AppError) as bad_ca:
        ClientCertificate.load(
            str(files.client_cert), str(files.client_key), str(not_pem), agent="agent 'V'"
        )
    assert str(bad_ca.value).startswith("The ca_cert for agent 'V' does not load")


def test_the_key_stays_out_of_every_repr(mtls_agent: Agent):
    files = mtls_agent.files
    key = files.client_key.read_text()
    body = key.splitlines()[1]
    certificate = ClientCertificate.load(files.client_cert.read_text(), key, agent="agent T")
    secrets = {
        "agent_url": mtls_agent.url,
        "agent_client_cert": files.client_cert.read_text(),
        "agent_client_key": key,
        "agents": [{"url": "https://b.example", "client_cert": "c.pem", "client_key": key}],
    }
    loaded = Settings.load({"A2A_AGENT_CA_CERT": str(files.ca)}, secrets)
    assert loaded.agent_client_key == key.strip() and loaded.agent_ca_cert == str(files.ca)
    assert loaded.agents[0]["client_key"] == key
    for shown in (repr(loaded), repr(certificate), str(certificate)):
        assert body not in shown and "BEGIN" not in shown
    assert key.strip() in certificate.secret_values and body in certificate.secret_values


# --- the app, configured from secrets --------------------------------------------------------


def test_an_agent_from_secrets_is_reached_with_its_certificate_and_the_key_is_never_shown(
    mtls_agent: Agent, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    files = mtls_agent.files
    key = files.client_key.read_text()
    key_line = key.splitlines()[1]
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    caplog.set_level(logging.DEBUG)
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["agents"] = [
        {
            "url": mtls_agent.url,
            "name": "Vault",
            "client_cert": files.client_cert.read_text(),  # PEM text
            "client_key": str(files.client_key),  # a path
            "ca_cert": str(files.ca),
        },
        {"url": "https://half.example", "name": "Half", "client_cert": str(files.client_cert)},
    ]
    try:
        at.run()
        assert not at.exception
        send(at, f"my key line is {key_line}")  # the chat shows it; the inspector must not
        assert "my key line is" in last_bubble(at)  # the reply came over mutual TLS
        space = at.session_state["workspace"]
        half = space.agents["https://half.example"]
        at.sidebar.selectbox(key="sidebar_agent_choice").set_value(half.url).run()
        assert str(half.error) == (
            "The client certificate for agent 'Half' has client_cert but no client_key: set "
            "both (PEM text or a PEM file's path) or neither."
        )
        at.switch_page(INSPECTOR).run()
        assert not at.exception
        shown = everything_shown(at)
        recorder = at.session_state["traffic_recorder"]
        exports = [export_jsonl(r, recorder.redactor) for r in recorder.streams()]
    finally:
        close_runtime(at)
    assert "[redacted]" in "".join(exports)
    for text in (shown, *exports, caplog.text):
        assert key_line not in text


# --- the agent check -------------------------------------------------------------------------


def test_the_doctor_says_when_the_agent_wants_a_certificate(mtls_agent: Agent):
    files = mtls_agent.files
    without = diagnose(mtls_agent.url, verify=str(files.ca), timeout=5)
    refused = diagnose(
        mtls_agent.url,
        verify=str(files.ca),
        timeout=5,
        client_certificate=mtls_agent.certificate(stranger=True),
    )
    given = diagnose(
        mtls_agent.url, verify=str(files.ca), timeout=5, client_certificate=mtls_agent.certificate()
    )
    tls = [next(c for c in r.checks if c.id == "doctor.tls") for r in (without, refused, given)]
    assert (tls[0].status, tls[0].message) == ("fail", NEEDED)
    assert tls[1].status == "fail"
    assert tls[1].message.startswith("The agent refused the client certificate given: ")
    assert tls[2].status == "pass"
    assert not any(c.status == "fail" for c in given.checks)


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.agent_check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
    )


def test_the_command_checks_an_mtls_agent_with_its_certificate(mtls_agent: Agent):
    files = mtls_agent.files
    done = command(
        mtls_agent.url,
        "--client-cert", str(files.client_cert),
        "--client-key", str(files.client_key),
        "--ca-cert", str(files.ca),
        "--timeout", "30",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rpc.send-message.jsonrpc" in done.stdout
    without = command(mtls_agent.url, "--ca-cert", str(files.ca), "--timeout", "30")
    assert without.returncode == 2, without.stdout + without.stderr
    assert NEEDED in without.stdout
    half = command(mtls_agent.url, "--client-cert", str(files.client_cert))
    assert half.returncode == 2 and "has --client-cert but no --client-key" in half.stderr
