"""Security: `securitySchemes` in 1.0's form (one key per kind) or 0.3's OpenAPI form
(`type`), their OAuth flows, and the requirements that name them (1.0's
`securityRequirements`, 0.3's `security`), on the card and on each skill."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from services.inspector.card_check.findings import CardReport, join
from services.inspector.card_check.urls import check_secure_link

# Security scheme kinds, with their REQUIRED fields: 1.0 wraps each kind in its own key,
# 0.3 (OpenAPI style) names it in `type`. a2a-sdk accepts the 0.3 form in either card.
_SCHEMES_10 = {
    "apiKeySecurityScheme": ("location", "name"),
    "httpAuthSecurityScheme": ("scheme",),
    "oauth2SecurityScheme": ("flows",),
    "openIdConnectSecurityScheme": ("openIdConnectUrl",),
    "mtlsSecurityScheme": (),
}
_SCHEMES_03 = {
    "apiKey": ("in", "name"),
    "http": ("scheme",),
    "oauth2": ("flows",),
    "openIdConnect": ("openIdConnectUrl",),
    "mutualTLS": (),
}
_API_KEY_LOCATIONS = ("query", "header", "cookie")
_SCHEME_HINTS = {
    "location": "set it to query, header or cookie",
    "in": "set it to query, header or cookie",
    "name": "give the name of the header, query or cookie parameter that carries the key",
    "scheme": 'give the HTTP authentication scheme, such as "Bearer"',
    "flows": "describe the OAuth flow clients should use",
    "openIdConnectUrl": "give the provider's OpenID Connect discovery URL",
}
# OAuth flows and their REQUIRED URLs (1.0 proto; the 0.3 schema agrees, minus deviceCode).
_FLOWS = {
    "authorizationCode": ("authorizationUrl", "tokenUrl"),
    "clientCredentials": ("tokenUrl",),
    "deviceCode": ("deviceAuthorizationUrl", "tokenUrl"),
    "implicit": ("authorizationUrl",),
    "password": ("tokenUrl",),
}
_DEPRECATED_FLOWS = ("implicit", "password")  # deprecated in 1.0


def check_security_schemes(report: CardReport, key: str) -> None:
    """Each named scheme: one known kind, with its required fields."""
    schemes = report.optional(report.card, "", key, dict)
    for name, scheme in (schemes or {}).items():
        where = f"{key}.{name}"
        if report.typed(where, scheme, dict):
            _check_scheme(report, where, scheme)


def check_security_requirements(report: CardReport, key: str) -> None:
    """The card's own requirements (`securityRequirements`, or `security`)."""
    check_requirements(report, key, report.card)


def check_requirements(
    report: CardReport, key: str, owner: Mapping[str, Any], prefix: str = ""
) -> None:
    """Security requirements name only schemes the card declares (OpenAPI's rule).

    `key` gives the shape: `securityRequirements` is 1.0's, anything else 0.3's."""
    where = join(prefix, key)
    items = report.optional(owner, prefix, key, list)
    declared = report.card.get("securitySchemes")
    declared = declared if isinstance(declared, Mapping) else {}
    for item_where, item in report.objects(where, items or []):
        if key == "securityRequirements":
            if not item:
                continue  # {}: "no authentication" is one of the alternatives
            if "schemes" not in item:
                report.error(
                    item_where,
                    f'`{item_where}` has no "schemes" object, so a2a-sdk reads it as "no '
                    'authentication needed"; write it as {"schemes": {"<name>": '
                    '{"list": ["<scope>"]}}}.',
                )
                continue
            schemes = item["schemes"]
            if not report.typed(f"{item_where}.schemes", schemes, dict):
                continue
            for name, scopes in schemes.items():
                scope_where = f"{item_where}.schemes.{name}"
                if report.typed(scope_where, scopes, dict):
                    report.strings(
                        f"{scope_where}.list",
                        report.optional(scopes, scope_where, "list", list) or [],
                    )
        else:
            schemes = item
            for name, scopes in schemes.items():
                if report.typed(f"{item_where}.{name}", scopes, list):
                    report.strings(f"{item_where}.{name}", scopes)
        for name in schemes:
            if name not in declared:
                report.error(
                    item_where,
                    f"`{item_where}` names the security scheme {name!r}, which securitySchemes "
                    "does not declare; declare it there or fix the name.",
                )


def _check_scheme(report: CardReport, where: str, scheme: Mapping[str, Any]) -> None:
    # A 0.3 card's schemes are all in the 0.3 form; a 1.0 card may use either.
    if "type" in scheme or report.version == "0.3":
        kind = scheme.get("type")
        if kind not in _SCHEMES_03:
            report.error(
                f"{where}.type",
                f"`{where}.type` is {json.dumps(kind)}, not a known scheme type; use one "
                f"of {', '.join(_SCHEMES_03)}.",
            )
            return
        _check_scheme_body(report, where, scheme, _SCHEMES_03[kind], location="in")
        return
    kinds = [kind for kind in _SCHEMES_10 if kind in scheme]
    if len(kinds) != 1:
        found = (
            f"declares {len(kinds)} scheme types ({', '.join(kinds)})"
            if kinds
            else ("names no scheme type")
        )
        report.error(
            where,
            f"`{where}` {found}; give exactly one of {', '.join(_SCHEMES_10)}.",
        )
        return
    body = scheme[kinds[0]]
    if report.typed(f"{where}.{kinds[0]}", body, dict):
        _check_scheme_body(report, f"{where}.{kinds[0]}", body, _SCHEMES_10[kinds[0]], "location")


def _check_scheme_body(
    report: CardReport,
    where: str,
    body: Mapping[str, Any],
    fields: Sequence[str],
    location: str,
) -> None:
    for name in fields:
        kind = dict if name == "flows" else str
        value = report.required(body, where, name, kind, _SCHEME_HINTS[name])
        if value is None:
            continue
        if name == location and value not in _API_KEY_LOCATIONS:
            report.error(
                f"{where}.{name}",
                f"`{where}.{name}` is {value!r}; use query, header or cookie.",
            )
        elif name == "openIdConnectUrl":
            check_secure_link(report, f"{where}.{name}", value)
        elif name == "flows":
            _check_flows(report, f"{where}.flows", value)
    metadata = report.optional(body, where, "oauth2MetadataUrl", str)
    if metadata is not None:
        check_secure_link(report, f"{where}.oauth2MetadataUrl", metadata)


def _check_flows(report: CardReport, where: str, flows: Mapping[str, Any]) -> None:
    named = [name for name in _FLOWS if name in flows]
    if not named:
        report.error(
            where,
            f"`{where}` names no OAuth flow; add one of {', '.join(_FLOWS)}.",
        )
        return
    if len(named) > 1:  # a oneof in the 1.0 proto: a2a-sdk rejects the whole card
        report.error(
            where,
            f"`{where}` declares {len(named)} OAuth flows ({', '.join(named)}), which "
            "a2a-sdk (and so this app) cannot load; keep one flow per scheme.",
        )
    for name in named:
        flow_where = f"{where}.{name}"
        flow = flows[name]
        if not report.typed(flow_where, flow, dict):
            continue
        if report.version == "1.0" and name in _DEPRECATED_FLOWS:
            report.warn(
                flow_where,
                f"The {name} OAuth flow is deprecated in A2A 1.0; use authorizationCode "
                "with PKCE, or deviceCode.",
            )
        for url_field in _FLOWS[name]:
            url = report.required(flow, flow_where, url_field, str, f"give the flow's {url_field}")
            if url is not None:
                check_secure_link(report, f"{flow_where}.{url_field}", url)
        report.optional(flow, flow_where, "scopes", dict)
