"""What the agent offers beyond plain messages: `capabilities` (its flags and
extensions), and the extended card, which 0.3 announces at the top level as
`supportsAuthenticatedExtendedCard`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.inspector.card_check.findings import CardReport

_HINT = "add a capabilities object, even an empty one"
_FLAGS_10 = ("streaming", "pushNotifications", "extendedAgentCard")
_FLAGS_03 = ("streaming", "pushNotifications", "stateTransitionHistory")


def check_capabilities_10(report: CardReport, key: str) -> None:
    """1.0: the flags, extensions (uri expected), and auth for `extendedAgentCard`."""
    caps = _check_capabilities(report, key, _FLAGS_10, uri_required=False)
    if caps is not None and caps.get("extendedAgentCard") is True:
        _check_extended_card_auth(report, f"{key}.extendedAgentCard")


def check_capabilities_03(report: CardReport, key: str) -> None:
    """0.3: the flags, and extensions (uri REQUIRED by the 0.3 schema)."""
    _check_capabilities(report, key, _FLAGS_03, uri_required=True)


def check_supports_authenticated_extended_card(report: CardReport, key: str) -> None:
    """0.3's `capabilities.extendedAgentCard`: it needs a scheme to authenticate with."""
    if report.optional(report.card, "", key, bool) is True:
        _check_extended_card_auth(report, key)


def _check_capabilities(
    report: CardReport, key: str, flags: tuple[str, ...], *, uri_required: bool
) -> Mapping[str, Any] | None:
    """The capabilities object after checking its flags and extensions; None if unusable."""
    caps = report.required(report.card, "", key, dict, _HINT)
    if caps is None:
        return None
    for flag in flags:
        report.optional(caps, key, flag, bool)
    extensions = report.optional(caps, key, "extensions", list) or []
    for where, ext in report.objects(f"{key}.extensions", extensions):
        _check_extension(report, where, ext, uri_required=uri_required)
    return caps


def _check_extension(
    report: CardReport, where: str, ext: Mapping[str, Any], *, uri_required: bool
) -> None:
    if uri_required:
        uri = report.required(ext, where, "uri", str, "give the extension's URI")
    else:  # not REQUIRED in the 1.0 proto, but an extension without one means nothing
        uri = report.optional(ext, where, "uri", str)
        if uri is None or not uri.strip():
            report.warn(
                f"{where}.uri",
                f"`{where}` has no uri, so clients cannot tell which extension it is; "
                "give the extension's URI.",
            )
    report.optional(ext, where, "description", str)
    report.optional(ext, where, "params", dict)
    if report.optional(ext, where, "required", bool) is True:
        report.warn(
            f"{where}.required",
            f"The agent requires the extension {uri or '(no uri)'}, which this app does not "
            "implement, so it may reject the app's requests; mark it required: false if "
            "clients without it can still be served.",
        )


def _check_extended_card_auth(report: CardReport, where: str) -> None:
    schemes = report.card.get("securitySchemes")
    if not isinstance(schemes, Mapping) or not schemes:
        report.warn(
            where,
            "The card offers an extended agent card but declares no securitySchemes, and "
            "the spec requires that request to be authenticated; declare the scheme clients "
            "must use.",
        )
