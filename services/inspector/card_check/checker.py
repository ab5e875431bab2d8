"""`check_card`: one table of top-level checks per protocol version, and the walk.

Each table maps the version's top-level fields, in spec order, to the function that
checks that field (in the spirit of jsonschema's validator dict per draft). Walking a
table in order gives findings in the card's field order; `check_card` then puts errors
first. Differences between versions deeper inside a field (which form a security scheme
takes, deprecated OAuth flows, the spec named in messages) read `CardReport.version`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from services.inspector.card_check import capabilities, fields, interfaces, security, skills
from services.inspector.card_check.findings import CardReport, CardVersion, CardWarning, typename

FieldCheck = Callable[[CardReport, str], None]  # (report, the field's name)

# A2A 1.0: the AgentCard message's fields in proto field-number order.
CHECKS_10: dict[str, FieldCheck] = {
    "name": fields.check_required_text,
    "description": fields.check_required_text,
    "supportedInterfaces": interfaces.check_supported_interfaces,
    "provider": fields.check_provider,
    "version": fields.check_required_text,
    "documentationUrl": fields.check_documentation_url,
    "capabilities": capabilities.check_capabilities_10,
    "securitySchemes": security.check_security_schemes,
    "securityRequirements": security.check_security_requirements,
    # Legacy 0.3 name: a2a-sdk still maps it onto securityRequirements.
    "security": security.check_security_requirements,
    "defaultInputModes": skills.check_default_modes,
    "defaultOutputModes": skills.check_default_modes,
    "skills": skills.check_skills_10,
    "signatures": fields.check_signatures,
    "iconUrl": fields.check_icon_url,
}

# A2A 0.3: the AgentCard of the 0.3 JSON schema, in its layout.
CHECKS_03: dict[str, FieldCheck] = {
    "protocolVersion": fields.check_protocol_version,
    "name": fields.check_required_text,
    "description": fields.check_required_text,
    "url": interfaces.check_url,
    "preferredTransport": interfaces.check_preferred_transport,
    "additionalInterfaces": interfaces.check_additional_interfaces,
    "provider": fields.check_provider,
    "version": fields.check_required_text,
    "documentationUrl": fields.check_documentation_url,
    "capabilities": capabilities.check_capabilities_03,
    "securitySchemes": security.check_security_schemes,
    "security": security.check_security_requirements,
    "defaultInputModes": skills.check_default_modes,
    "defaultOutputModes": skills.check_default_modes,
    "skills": skills.check_skills_03,
    "supportsAuthenticatedExtendedCard": capabilities.check_supports_authenticated_extended_card,
    "signatures": fields.check_signatures,
    "iconUrl": fields.check_icon_url,
}

# REQUIRED top-level fields: 1.0 from the proto's field_behavior, 0.3 from the JSON
# schema. Their checks report them missing; this decides how a misspelling of one is told.
REQUIRED_10 = frozenset(
    (
        "name",
        "description",
        "supportedInterfaces",
        "version",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    )
)
REQUIRED_03 = frozenset(
    (
        "protocolVersion",
        "name",
        "description",
        "url",
        "version",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    )
)

_TABLES: dict[CardVersion, tuple[dict[str, FieldCheck], frozenset[str]]] = {
    "1.0": (CHECKS_10, REQUIRED_10),
    "0.3": (CHECKS_03, REQUIRED_03),
}
_KNOWN_FIELDS = frozenset(CHECKS_10) | frozenset(CHECKS_03)  # never taken for misspellings

# The top-level connection fields of 0.3, gone from 1.0.
LEGACY_MARKERS = ("url", "protocolVersion", "preferredTransport", "additionalInterfaces")


def card_version(card: Mapping[str, Any]) -> CardVersion:
    """1.0 if the card has `supportedInterfaces` (as a2a-sdk decides), 0.3 if it has the
    legacy top-level connection fields, else 1.0."""
    if "supportedInterfaces" in card:
        return "1.0"
    if any(key in card for key in LEGACY_MARKERS):
        return "0.3"
    return "1.0"


def check_card(raw: Mapping[str, Any]) -> list[CardWarning]:
    """Every problem with an agent card as fetched: errors first, then warnings, each in
    the card's field order. An empty list means the card is sound."""
    if not isinstance(raw, Mapping):
        return [
            CardWarning(
                "card",
                f"The card is {typename(raw)}, not a JSON object; serve the agent card "
                "as a JSON object.",
                "error",
            )
        ]
    version = card_version(raw)
    checks, required = _TABLES[version]
    report = CardReport(raw, version, fields.misspelled_fields(raw, list(checks), _KNOWN_FIELDS))
    for key, check in checks.items():
        check(report, key)
    fields.warn_misspelled_fields(report, required)
    return sorted(report.found, key=lambda w: w.severity != "error")  # stable
