"""The command-line face of the agent check: `python -m services.agent_check URL ...`.

It runs the connection doctor (and, when that passes, the protocol checks if they are
installed), prints a table for people, writes JSON and JUnit XML for machines, and exits
0 when every MUST check holds, 1 when one fails, 2 when the agent cannot be reached.
Credentials given with `--token` or `--header` are sent, never printed; a client
certificate (`--client-cert`, `--client-key`, `--ca-cert`) is presented for mutual TLS.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from services.agent_check.doctor import BINDING_NAMES
from services.agent_check.model import AgentCheckReport
from services.agent_check.run import run_agent_check
from services.client.tls import ClientCertificate
from services.errors import AppError

__all__ = [
    "EXIT_MUST_FAILED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "exit_code",
    "junit_xml",
    "main",
    "render_table",
]

EXIT_OK = 0
EXIT_MUST_FAILED = 1
EXIT_UNREACHABLE = 2
DEFAULT_MESSAGE = "Hello from the agent check."


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.agent_check",
        description="Check an A2A agent: connection doctor, then protocol checks.",
    )
    parser.add_argument("url", help="the agent's base URL, or its card's full URL")
    parser.add_argument("--binding", choices=sorted(BINDING_NAMES), help="check one binding")
    parser.add_argument("--token", help="a bearer token to send (never printed)")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="K=V",
        help="a header to send, repeatable (never printed)",
    )
    parser.add_argument("--client-id", default="", help="sign in with client credentials")
    parser.add_argument("--client-secret", default="", help="its secret (never printed)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the report as JSON")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="the protocol run's budget in seconds (each doctor step gets at most 10)",
    )
    parser.add_argument(
        "--jwks-url",
        default="",
        metavar="URL",
        help="check the card's signature with the keys at this JWKS URL (not the card's jku)",
    )
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    parser.add_argument(
        "--client-cert", metavar="FILE", help="a PEM client certificate, for mutual TLS"
    )
    parser.add_argument("--client-key", metavar="FILE", help="its PEM private key")
    parser.add_argument(
        "--ca-cert", metavar="FILE", help="the PEM CA to trust for the agent's certificate"
    )
    parser.add_argument(
        "--message", default=DEFAULT_MESSAGE, help="the text the protocol checks send"
    )
    return parser


def _headers(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in args.header:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            # Do not echo the argument: it may be a secret typed without its name.
            parser.error("--header needs NAME=VALUE, and one has no '=' or no name")
        headers[name.strip()] = value
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    return headers


def _client_certificate(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> ClientCertificate | None:
    if not (args.client_cert or args.client_key):
        return None
    try:
        return ClientCertificate.load(
            args.client_cert or "",
            args.client_key or "",
            args.ca_cert or "",
            agent="the agent check",
            names=("--client-cert", "--client-key", "--ca-cert"),
        )
    except AppError as error:
        parser.error(str(error))


def render_table(report: AgentCheckReport) -> str:
    """The report as a plain-text table: agent, then id, level, status, message."""
    agent = report.agent
    lines = [f"Agent: {agent.get('name') or '(no card read)'} at {agent.get('url', '')}"]
    if agent.get("protocol_version"):
        lines.append(f"Protocol {agent['protocol_version']} over {agent.get('binding', '')}")
    rows = [("ID", "LEVEL", "STATUS", "MESSAGE")]
    rows += [(c.id, c.level, c.status.upper(), c.message) for c in report.checks]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines.append("")
    for row in rows:
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[3]
        )
    summary = ", ".join(f"{n} {status}" for status, n in report.summary.items())
    lines += ["", f"Summary: {summary}"]
    return "\n".join(lines) + "\n"


def junit_xml(report: AgentCheckReport) -> bytes:
    """The report as JUnit XML: one testcase per check, failure for fail, skipped for skip."""
    summary = report.summary
    suite = ET.Element(
        "testsuite",
        name="agent_check",
        tests=str(len(report.checks)),
        failures=str(summary["fail"]),
        errors="0",
        skipped=str(summary["skip"]),
    )
    for check in report.checks:
        group = check.id.split(".")[0]
        case = ET.SubElement(suite, "testcase", classname=f"agent_check.{group}", name=check.id)
        if check.status == "fail":
            failure = ET.SubElement(case, "failure", message=check.message, type=check.level)
            failure.text = f"{check.title} ({check.level}, {check.spec}): {check.message}"
        elif check.status == "skip":
            ET.SubElement(case, "skipped", message=check.message)
        out = ET.SubElement(case, "system-out")
        out.text = f"{check.status} [{check.level}] {check.message} ({check.spec})"
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def exit_code(report: AgentCheckReport) -> int:
    """2 if nothing answered, 1 if a MUST check failed, else 0."""
    if not report.reachable:
        return EXIT_UNREACHABLE
    return EXIT_MUST_FAILED if report.must_failed else EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the checks for the command line's arguments; return the exit code."""
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    headers = _headers(args, parser)
    certificate = _client_certificate(args, parser)
    verify: bool | str = not args.insecure
    if args.ca_cert and not args.insecure:
        verify = args.ca_cert  # the doctor checks the agent's certificate against it
    report = run_agent_check(
        args.url,
        headers=headers,
        client_certificate=certificate,
        timeout=args.timeout,
        verify=verify,
        binding=BINDING_NAMES.get(args.binding or "", ""),
        message=args.message,
        client_id=args.client_id,
        client_secret=args.client_secret,
        jwks_url=args.jwks_url,
    )
    out.write(render_table(report))
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2) + "\n")
    if args.junit:
        args.junit.write_bytes(junit_xml(report))
    return exit_code(report)
