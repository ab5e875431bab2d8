"""The top-level fields with simple rules (name, description, the agent's version,
0.3's `protocolVersion`, the provider, documentation and icon URLs, signatures), and
field names the card misspells."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from services.inspector.card_check.findings import CardReport, major_minor
from services.inspector.card_check.urls import check_link

_HINTS = {
    "name": "add a human-readable name for the agent",
    "description": "add a sentence on what the agent does",
    "version": 'add the agent\'s own version, such as "1.0.0"',
    "protocolVersion": 'add the A2A version the agent speaks, such as "0.3.0"',
}


def check_required_text(report: CardReport, key: str) -> None:
    """`name`, `description`, `version`: a non-empty string."""
    report.required(report.card, "", key, str, _HINTS[key])


def check_protocol_version(report: CardReport, key: str) -> None:
    """0.3: a version a2a-sdk will talk to, and one that matches the 0.3 layout."""
    value = report.required(report.card, "", key, str, _HINTS[key])
    if value is None:
        return
    mm = major_minor(value)
    if mm is None or mm < (0, 3):
        shown = "does not parse as a version" if mm is None else "is older than 0.3"
        report.error(
            key,
            f"`protocolVersion` is {value!r}, which {shown}, so a2a-sdk (and this app) "
            'will not talk to the agent; publish "0.3.0" or a 1.0 card.',
        )
    elif mm == (1, 0):
        report.warn(
            key,
            "The card claims protocol 1.0 but uses the 0.3 layout (top-level url); "
            'publish supportedInterfaces for 1.0, or set protocolVersion to "0.3.0".',
        )
    elif mm != (0, 3):
        report.warn(
            key,
            f"`protocolVersion` is {value!r}, which this app does not speak (it speaks "
            '1.0 and 0.3); publish "0.3.0" if the agent follows the 0.3 spec.',
        )


def check_provider(report: CardReport, key: str) -> None:
    """Who publishes the agent: an organization and a website."""
    provider = report.optional(report.card, "", key, dict)
    if provider is None:
        return
    url = report.required(provider, key, "url", str, "give the provider's website")
    report.required(provider, key, "organization", str, "give the provider's name")
    if url is not None:
        check_link(report, f"{key}.url", url)


def check_documentation_url(report: CardReport, key: str) -> None:
    """An absolute http(s) URL clients can open."""
    url = report.optional(report.card, "", key, str)
    if url is not None:
        check_link(report, key, url)


def check_icon_url(report: CardReport, key: str) -> None:
    """An absolute URL, or a `data:` URL carrying the icon itself."""
    url = report.optional(report.card, "", key, str)
    if url is not None:
        check_link(report, key, url, allow_data=True)


def check_signatures(report: CardReport, key: str) -> None:
    """Each JWS signature's parts; the signature itself is not verified here."""
    for where, signature in report.objects(key, report.optional(report.card, "", key, list) or []):
        report.required(signature, where, "protected", str, "give the base64url JWS header")
        report.required(signature, where, "signature", str, "give the base64url signature")
        report.optional(signature, where, "header", dict)


def misspelled_fields(
    card: Mapping[str, Any], fields: Sequence[str], known: Collection[str]
) -> dict[str, str]:
    """Unknown top-level keys that look like one of `fields` the card lacks (snake_case,
    typos), as {field: the key the card uses}. `known` are field names of any version."""
    missing = [f for f in fields if f not in card]
    aliases: dict[str, str] = {}
    for key in card:
        if not isinstance(key, str) or key in known:
            continue
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
        if camel in missing:
            aliases.setdefault(camel, key)
            continue
        close = difflib.get_close_matches(key, missing, 1, 0.8)
        if close:
            aliases.setdefault(close[0], key)
    return aliases


def warn_misspelled_fields(report: CardReport, required: Collection[str]) -> None:
    """Warns of misspelled optional fields; a required one's check already said it."""
    for canonical, alias in report.aliases.items():
        if canonical not in required:
            report.warn(
                alias,
                f"`{alias}` is not a field name the {report.spec} spec uses, so clients may "
                f"ignore it; rename it to `{canonical}` if that is what you meant.",
            )
