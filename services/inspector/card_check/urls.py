"""The URL rules several field groups share: absolute http(s), and no cleartext where
messages or credentials travel (interfaces, OAuth and OpenID Connect URLs)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from services.inspector.card_check.findings import CardReport

_UNSPECIFIED_HOSTS = ("0.0.0.0", "::")


def check_link(report: CardReport, where: str, url: str, *, allow_data: bool = False) -> None:
    """An informational URL (docs, icon, provider): absolute, no cleartext check."""
    scheme, host = scheme_host(url)
    if allow_data and scheme == "data":
        return
    if scheme not in ("http", "https") or not host:
        report.warn(
            where,
            f"`{where}` is {url!r}, not an absolute http(s) URL; publish the full URL so "
            "clients can open it.",
        )


def check_secure_link(report: CardReport, where: str, url: str) -> None:
    """A URL credentials travel to (OAuth, OpenID Connect): absolute, https off loopback."""
    scheme, host = scheme_host(url)
    if scheme not in ("http", "https") or not host:
        report.error(
            where,
            f"`{where}` is {url!r}, not an absolute http(s) URL; publish the full URL so "
            "clients can authenticate.",
        )
    else:
        check_cleartext(report, where, scheme, host)


def check_cleartext(report: CardReport, where: str, scheme: str, host: str) -> None:
    """Warns of a host clients cannot reach, or plain http(ws) off loopback."""
    if host in _UNSPECIFIED_HOSTS:
        report.warn(
            where,
            f"`{where}` uses {host}, a listening address clients cannot reliably reach; "
            "publish the host name or IP address clients should use.",
        )
    elif scheme in ("http", "ws") and not _is_loopback(host):
        report.warn(
            where,
            f"`{where}` uses plain {scheme}:// on {host}, so messages and credentials travel "
            "unencrypted; serve it over https (the spec requires TLS in production).",
        )


def scheme_host(url: str) -> tuple[str, str]:
    """A URL's scheme (lower case) and host; empty strings if it does not parse."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower(), (parts.hostname or "")
    except ValueError:
        return "", ""


def _is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
