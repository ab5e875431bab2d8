"""The one check for an agent URL, and the one way to echo a URL back to a person.

Every URL the app is given (typed in the sidebar, configured, or listed in
`allowed_agent_urls`) goes through `check_agent_url` before anything else happens, so a
bad one gets one sentence instead of a traceback or "failed unexpectedly". Every echo of
a URL goes through `shorten`: at most about 80 characters, any password masked.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import idna

from services.errors import InvalidUrl

__all__ = ["ECHO_LENGTH", "MAX_URL_LENGTH", "check_agent_url", "shorten"]

MAX_URL_LENGTH = 2048  # what browsers and most servers accept in a request line
ECHO_LENGTH = 80
_EXAMPLE = "such as http://127.0.0.1:9999"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Characters a reader cannot see, or that reorder what they see (Trojan Source, CVE-2021-42574).
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_ASCII_HOST = re.compile(r"[A-Za-z0-9._\-]+")


def shorten(url: str, limit: int = ECHO_LENGTH) -> str:
    """`url` as safe to show: user-info masked, invisible characters replaced, cut to `limit`."""
    shown = (c if c == " " or not (_invisible(c) or c.isspace()) else "\ufffd" for c in url)
    text = _mask_userinfo("".join(shown))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mask_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority_end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    authority = rest[:authority_end]
    if "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    user, has_password, _password = userinfo.partition(":")
    masked = f"{user}:***" if has_password else "***"
    return f"{scheme}://{masked}@{host}{rest[authority_end:]}"


def _invisible(char: str) -> bool:
    return char in _BIDI or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in _BIDI:
        return f"an invisible text-direction control ({code})"
    if char.isspace():
        return f"a space or line break ({code})"
    if unicodedata.category(char) == "Cc":
        return f"a control character ({code})"
    return f"an invisible character ({code})"


def check_agent_url(text: str) -> str:
    """The normalised http(s) URL to use for `text`, or `InvalidUrl` saying what is wrong."""
    url = text.strip()
    if not url:
        raise InvalidUrl(f"The agent URL is empty: enter the agent's base URL, {_EXAMPLE}.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrl(
            f"The URL is {len(url):,} characters long, more than the {MAX_URL_LENGTH:,} "
            f"allowed: enter the agent's base URL, {_EXAMPLE}."
        )
    for position, char in enumerate(url, start=1):
        if _invisible(char) or char.isspace():
            raise InvalidUrl(
                f"The URL contains {_describe(char)} at character {position}: remove it, "
                "or type the URL by hand instead of pasting it."
            )
    if "\\" in url:
        # Browsers read a backslash as a slash, other parsers do not: never guess.
        raise InvalidUrl("The URL contains a backslash (\\): use forward slashes (/) in URLs.")
    scheme_match = _SCHEME.match(url)
    if scheme_match is None or not url[scheme_match.end() :].startswith("//"):
        raise InvalidUrl(
            f"{shorten(url)} is not an http(s) URL, as it does not start with http:// or "
            f"https://: add that in front, {_EXAMPLE}."
        )
    scheme = scheme_match.group(1).lower()
    if scheme not in ("http", "https"):
        raise _bad_scheme(url, scheme_match.group(1))
    rest = url[scheme_match.end() + 2 :]
    authority_end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        raise InvalidUrl(
            f"The URL {shorten(url)} has a user name or password in it: remove it, and set "
            "the agent's credentials under Credentials in the sidebar instead."
        )
    host, port = _split_authority(authority)
    return f"{scheme}://{host}{':' + port if port else ''}{tail}"


def _bad_scheme(url: str, scheme: str) -> InvalidUrl:
    return InvalidUrl(
        f"{shorten(url)} is not an http(s) URL (its scheme is {shorten(scheme, 20)!r}): use "
        f"the agent's http:// or https:// address, {_EXAMPLE}."
    )


def _split_authority(authority: str) -> tuple[str, str]:
    """(normalised host, port or "") from a URL's authority, user-info already refused."""
    if authority.startswith("["):
        literal, closed, after = authority[1:].partition("]")
        if not closed:
            raise InvalidUrl(
                f"The IPv6 address in {shorten(authority)} has no closing ]: write it as "
                "[::1] (in brackets), then the port, as in http://[::1]:9999."
            )
        try:
            host = f"[{ipaddress.IPv6Address(literal).compressed}]"
        except ValueError:
            raise InvalidUrl(
                f"[{shorten(literal, 40)}] is not a valid IPv6 address: check it, "
                "or use the agent's host name or IPv4 address."
            ) from None
        if after and not after.startswith(":"):
            raise InvalidUrl(
                f"Only a :port may follow the IPv6 address in {shorten(authority)}: "
                "remove the rest, as in http://[::1]:9999."
            )
        return host, _port(after[1:])
    if authority.count(":") > 1:
        raise InvalidUrl(
            f"{shorten(authority)} looks like an IPv6 address without brackets: "
            "write it in brackets, as in http://[::1]:9999."
        )
    name, _, port = authority.partition(":")
    return _host(name), _port(port)


def _port(port: str) -> str:
    if not port:
        return ""
    if not port.isascii() or not port.isdigit():
        raise InvalidUrl(
            f"The port {shorten(port, 20)!r} is not a number: write the port as digits, "
            "as in http://127.0.0.1:9999, or leave it out."
        )
    if not 1 <= int(port) <= 65535:
        raise InvalidUrl(
            f"The port {shorten(port, 20)} is out of range: ports run from 1 to 65535, "
            "so check the agent's address."
        )
    return str(int(port))


def _host(name: str) -> str:
    if not name:
        raise InvalidUrl(f"The URL has no host name: add one, {_EXAMPLE}.")
    if name.isascii():
        if not _ASCII_HOST.fullmatch(name):
            bad = next(c for c in name if not _ASCII_HOST.fullmatch(c))
            raise InvalidUrl(
                f"The host name {shorten(name, 40)} contains {bad!r}, which a host name "
                "cannot: check the agent's address."
            )
        return name.lower()
    try:
        # UTS 46 maps what people type (capitals, full-width forms) before IDNA 2008.
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise InvalidUrl(
            f"The host name {shorten(name, 40)} is not a valid international domain name "
            f"({str(error)[:60]}): check its spelling, or use its xn-- form."
        ) from None
