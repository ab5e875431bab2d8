"""Where to reach the agent: 1.0's `supportedInterfaces`, and 0.3's `url`,
`preferredTransport` and `additionalInterfaces`; their bindings, protocol versions,
addresses and duplicates, and whether this app can call any of them."""

from __future__ import annotations

import re
from typing import Any

from a2a.utils.constants import TransportProtocol

from services.inspector.card_check.findings import CardReport, major_minor
from services.inspector.card_check.urls import check_cleartext, scheme_host

JSONRPC = TransportProtocol.JSONRPC.value
HTTP_JSON = TransportProtocol.HTTP_JSON.value
GRPC = TransportProtocol.GRPC.value
KNOWN_BINDINGS = (JSONRPC, HTTP_JSON, GRPC)
APP_BINDINGS = (JSONRPC, HTTP_JSON, GRPC)  # what services.client.agent asks ClientFactory for
_BINDING_SPELLINGS = {"JSONRPC": JSONRPC, "HTTP+JSON": HTTP_JSON, "REST": HTTP_JSON, "GRPC": GRPC}
# gRPC addresses may be `host:port` (spec main after v1.0.1: "hostname:port").
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}")
_HINTS = {
    "supportedInterfaces": "list at least one interface with url, protocolBinding and "
    "protocolVersion",
    "url": "add the URL of the agent's A2A endpoint",
}


def check_supported_interfaces(report: CardReport, key: str) -> None:
    """1.0: each interface's url, binding and version; one this app can use."""
    items = report.required(report.card, "", key, list, _HINTS[key])
    if items is None:
        return
    seen: dict[tuple[Any, ...], str] = {}
    bindings: list[str] = []
    usable_versions = False
    for where, item in report.objects(key, items):
        raw_binding = item.get("protocolBinding")
        url = report.required(item, where, "url", str, "give the interface's absolute URL")
        if url is not None:
            _check_endpoint(
                report, f"{where}.url", url, raw_binding if isinstance(raw_binding, str) else ""
            )
        binding = report.required(
            item, where, "protocolBinding", str, "set it to JSONRPC, HTTP+JSON or GRPC"
        )
        if binding is not None:
            _check_binding(report, f"{where}.protocolBinding", binding)
            bindings.append(binding)
        tenant = report.optional(item, where, "tenant", str)
        version = report.required(
            item,
            where,
            "protocolVersion",
            str,
            'set the A2A version this interface speaks, such as "1.0"',
        )
        if version is not None:
            _check_interface_version(report, f"{where}.protocolVersion", version)
        if binding in APP_BINDINGS:
            mm = major_minor(version) if version is not None else (1, 0)
            usable_versions = usable_versions or (mm is not None and mm >= (0, 3))
        _check_duplicate(
            report, where, (url, binding, version, tenant), seen, f"{binding} at {url}"
        )
    if _usable_bindings(report, key, bindings) and not usable_versions:
        report.error(
            key,
            "No JSON-RPC, HTTP+JSON or gRPC interface declares a protocol version this app can "
            'use (0.3 or later), so a2a-sdk will not connect; declare "1.0" or "0.3".',
        )


def check_url(report: CardReport, key: str) -> None:
    """0.3: the preferred endpoint, spoken in `preferredTransport`."""
    value = report.required(report.card, "", key, str, _HINTS[key])
    if value is not None:
        _check_endpoint(report, key, value, _legacy_binding(report))


def check_preferred_transport(report: CardReport, key: str) -> None:
    """0.3: the binding of `url`."""
    if report.optional(report.card, "", key, str) is not None:
        _check_binding(report, key, report.card[key])


def check_additional_interfaces(report: CardReport, key: str) -> None:
    """0.3: the other interfaces, and one this app can use among them and `url`."""
    bindings = [_legacy_binding(report)]
    items = report.optional(report.card, "", key, list) or []
    seen: dict[tuple[Any, ...], str] = {}
    for where, item in report.objects(key, items):
        url = report.required(item, where, "url", str, "give the interface's absolute URL")
        binding = report.required(
            item, where, "transport", str, "set it to JSONRPC, HTTP+JSON or GRPC"
        )
        if url is not None:
            _check_endpoint(report, f"{where}.url", url, binding or "")
        if binding is not None:
            _check_binding(report, f"{where}.transport", binding)
            bindings.append(binding)
        _check_duplicate(report, where, (url, binding), seen, f"{binding} at {url}")
    _usable_bindings(report, key if items else "preferredTransport", bindings)


def _legacy_binding(report: CardReport) -> str:
    binding = report.card.get("preferredTransport")
    return binding if isinstance(binding, str) and binding else JSONRPC


def _usable_bindings(report: CardReport, where: str, bindings: list[str]) -> bool:
    """Reports a card with no interface this app can call; True if it has one."""
    if not bindings or any(b in APP_BINDINGS for b in bindings):
        return bool(bindings)
    offered = ", ".join(dict.fromkeys(bindings))
    report.error(
        where,
        f"None of the agent's interfaces ({offered}) is JSON-RPC, HTTP+JSON or gRPC, which "
        "this app needs; add one to the card to use the agent here.",
    )
    return False


def _check_binding(report: CardReport, where: str, binding: str) -> None:
    if binding in KNOWN_BINDINGS:
        return
    meant = _BINDING_SPELLINGS.get(binding.upper().replace("-", "").replace("_", "+"))
    if meant:
        report.warn(
            where,
            f"`{where}` is {binding!r}, which clients treat as a custom binding; write "
            f"{meant} (binding names are case-sensitive).",
        )
    else:
        report.warn(
            where,
            f"`{where}` is the custom binding {binding!r}, which this app cannot use; "
            "document it, and also offer JSONRPC or HTTP+JSON for standard clients.",
        )


def _check_interface_version(report: CardReport, where: str, value: str) -> None:
    mm = major_minor(value)
    if mm is None:
        report.warn(
            where,
            f"`{where}` is {value!r}, which does not parse as a version, so a2a-sdk skips "
            'this interface; use "1.0" or "0.3".',
        )
    elif mm not in ((1, 0), (0, 3)):
        report.warn(
            where,
            f"`{where}` is {value!r}, a protocol version this app does not speak (it "
            'speaks 1.0 and 0.3); declare "1.0" or "0.3" if the interface follows them.',
        )


def _check_duplicate(
    report: CardReport,
    where: str,
    key: tuple[Any, ...],
    seen: dict[tuple[Any, ...], str],
    what: str,
) -> None:
    if None in key[:2]:  # no url or no binding: already an error, not a duplicate
        return
    if key in seen:
        report.warn(
            where,
            f"`{where}` repeats `{seen[key]}` ({what}); remove the duplicate interface.",
        )
    else:
        seen[key] = where


def _check_endpoint(report: CardReport, where: str, url: str, binding: str) -> None:
    """An interface's address: absolute http(s) (or gRPC host:port), https off loopback."""
    if binding == GRPC and _HOST_PORT.fullmatch(url):
        return
    scheme, host = scheme_host(url)
    if binding in KNOWN_BINDINGS and (scheme not in ("http", "https") or not host):
        report.error(
            where,
            f"`{where}` is {url!r}, not an absolute http(s) URL; publish the full URL, "
            "such as https://agent.example.com/a2a.",
        )
    elif not scheme or not host:
        report.error(
            where,
            f"`{where}` is {url!r}, not an absolute URL; publish the full URL of the interface.",
        )
    else:
        check_cleartext(report, where, scheme, host)
