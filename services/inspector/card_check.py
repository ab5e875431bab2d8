"""Checks an agent card as fetched, and says what an extended card adds to the public one.

`check_card` works on the raw JSON (not the SDK's parse), so it also judges cards the SDK
rejects or silently repairs. It detects the card's layout: A2A 1.0 (`supportedInterfaces`)
or legacy 0.3 (`url`, `protocolVersion` and `preferredTransport` at the top level), and
applies that version's rules. Sources: the 1.0 proto's REQUIRED markers and comments
(`a2a.types.a2a_pb2`, a2aproject/A2A `specification/a2a.proto`), the 0.3 JSON schema
(a2aproject/A2A `specification/json/a2a.json`), the spec text (`docs/specification.md`),
and what a2a-sdk 1.3.0's card parser and `ClientFactory` accept.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from a2a.client.card_resolver import parse_agent_card
from a2a.utils.constants import TransportProtocol
from google.protobuf.json_format import MessageToDict, ParseError
from packaging.version import InvalidVersion, Version

__all__ = ["CardWarning", "card_differences", "check_card"]

Severity = Literal["error", "warning"]
CardVersion = Literal["1.0", "0.3"]


@dataclass(frozen=True)
class CardWarning:
    """One problem with a card: the field's path (`skills[2].id`), a sentence, a severity."""

    field: str
    message: str
    severity: Severity


JSONRPC = TransportProtocol.JSONRPC.value
HTTP_JSON = TransportProtocol.HTTP_JSON.value
GRPC = TransportProtocol.GRPC.value
KNOWN_BINDINGS = (JSONRPC, HTTP_JSON, GRPC)
APP_BINDINGS = (JSONRPC, HTTP_JSON)  # what services.client.agent asks ClientFactory for
_BINDING_SPELLINGS = {"JSONRPC": JSONRPC, "HTTP+JSON": HTTP_JSON, "REST": HTTP_JSON, "GRPC": GRPC}
_LEGACY_MARKERS = ("url", "protocolVersion", "preferredTransport", "additionalInterfaces")

# Top-level fields in spec order: the 1.0 proto's field numbers, the 0.3 schema's layout.
_ORDER_10 = (
    "name",
    "description",
    "supportedInterfaces",
    "provider",
    "version",
    "documentationUrl",
    "capabilities",
    "securitySchemes",
    "securityRequirements",
    "security",  # legacy; a2a-sdk still maps it onto securityRequirements
    "defaultInputModes",
    "defaultOutputModes",
    "skills",
    "signatures",
    "iconUrl",
)
_ORDER_03 = (
    "protocolVersion",
    "name",
    "description",
    "url",
    "preferredTransport",
    "additionalInterfaces",
    "provider",
    "version",
    "documentationUrl",
    "capabilities",
    "securitySchemes",
    "security",
    "defaultInputModes",
    "defaultOutputModes",
    "skills",
    "supportsAuthenticatedExtendedCard",
    "signatures",
    "iconUrl",
)
_KNOWN_FIELDS = frozenset(_ORDER_10) | frozenset(_ORDER_03)

# REQUIRED top-level fields: 1.0 from the proto's field_behavior, 0.3 from the JSON schema.
_REQUIRED = {
    "1.0": frozenset(
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
    ),
    "0.3": frozenset(
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
    ),
}
_HINTS = {
    "name": "add a human-readable name for the agent",
    "description": "add a sentence on what the agent does",
    "version": 'add the agent\'s own version, such as "1.0.0"',
    "supportedInterfaces": "list at least one interface with url, protocolBinding and "
    "protocolVersion",
    "capabilities": "add a capabilities object, even an empty one",
    "defaultInputModes": 'list the media types the agent accepts, such as ["text/plain"]',
    "defaultOutputModes": 'list the media types the agent produces, such as ["text/plain"]',
    "skills": "describe at least one skill with id, name, description and tags",
    "url": "add the URL of the agent's A2A endpoint",
    "protocolVersion": 'add the A2A version the agent speaks, such as "0.3.0"',
}

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

_CAPABILITY_FLAGS = {
    "1.0": ("streaming", "pushNotifications", "extendedAgentCard"),
    "0.3": ("streaming", "pushNotifications", "stateTransitionHistory"),
}
_EXPECTED = {str: "a string", list: "a list", dict: "an object", bool: "a boolean"}

# type/subtype with optional parameters (RFC 6838 names, plus `*` wildcards).
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9*][\w!#$&^.+*-]*/[A-Za-z0-9*][\w!#$&^.+*-]*(\s*;.*)?")
# gRPC addresses may be `host:port` (spec main after v1.0.1: "hostname:port").
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}")
_UNSPECIFIED_HOSTS = ("0.0.0.0", "::")


# --- check_card ---------------------------------------------------------------------


def check_card(raw: Mapping[str, Any]) -> list[CardWarning]:
    """Every problem with an agent card as fetched: errors first, then warnings, each in
    the card's field order. An empty list means the card is sound."""
    if not isinstance(raw, Mapping):
        return [
            CardWarning(
                "card",
                f"The card is {_typename(raw)}, not a JSON object; serve the agent card "
                "as a JSON object.",
                "error",
            )
        ]
    checker = _Checker(raw, _card_version(raw))
    checker.run()
    return sorted(checker.found, key=lambda w: w.severity != "error")  # stable


def _card_version(card: Mapping[str, Any]) -> CardVersion:
    """1.0 if the card has `supportedInterfaces` (as a2a-sdk decides), 0.3 if it has the
    legacy top-level connection fields, else 1.0."""
    if "supportedInterfaces" in card:
        return "1.0"
    if any(key in card for key in _LEGACY_MARKERS):
        return "0.3"
    return "1.0"


class _Checker:
    def __init__(self, card: Mapping[str, Any], version: CardVersion) -> None:
        self.card = card
        self.version = version
        self.spec = f"A2A {version}"
        self.found: list[CardWarning] = []
        self.aliases = _misspelled_fields(card, version)  # canonical name -> the key the card uses

    # -- reporting and typed access --

    def error(self, where: str, message: str) -> None:
        self.found.append(CardWarning(where, message, "error"))

    def warn(self, where: str, message: str) -> None:
        self.found.append(CardWarning(where, message, "warning"))

    def typed(self, where: str, value: Any, kind: type) -> bool:
        if _is(value, kind):
            return True
        self.error(
            where,
            f"`{where}` is {_typename(value)} but must be {_EXPECTED[kind]}; "
            "fix its type in the card's JSON.",
        )
        return False

    def required(self, obj: Mapping[str, Any], prefix: str, key: str, kind: type, hint: str) -> Any:
        """A REQUIRED field's value, or None after reporting it missing, mistyped or empty
        (spec 5.7: required lists need at least one element)."""
        where = _join(prefix, key)
        if obj.get(key) is None:
            alias = self.aliases.get(key) if not prefix else None
            if alias:
                self.error(
                    where,
                    f"`{key}` is missing but the card has `{alias}`; rename it to `{key}`, "
                    f"the field name the {self.spec} spec uses.",
                )
            else:
                self.error(
                    where, f"`{where}` is missing, but the {self.spec} spec requires it; {hint}."
                )
            return None
        value = obj[key]
        if not self.typed(where, value, kind):
            return None
        if (isinstance(value, str) and not value.strip()) or (
            isinstance(value, list) and not value
        ):
            self.error(
                where, f"`{where}` is empty, but the {self.spec} spec requires a value; {hint}."
            )
            return None
        return value

    def optional(self, obj: Mapping[str, Any], prefix: str, key: str, kind: type) -> Any:
        """An optional field's value, or None if absent or mistyped (reported)."""
        value = obj.get(key)
        if value is None:
            return None
        return value if self.typed(_join(prefix, key), value, kind) else None

    def strings(self, where: str, values: Sequence[Any]) -> list[tuple[int, str]]:
        """The (index, item) strings of a list; reports items that are not strings."""
        out = []
        for i, item in enumerate(values):
            if self.typed(f"{where}[{i}]", item, str):
                out.append((i, item))
        return out

    def objects(self, where: str, values: Sequence[Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for i, item in enumerate(values):
            if self.typed(f"{where}[{i}]", item, dict):
                yield f"{where}[{i}]", item

    # -- the walk, in field order --

    def run(self) -> None:
        order = _ORDER_10 if self.version == "1.0" else _ORDER_03
        for key in order:
            getattr(self, f"check_{key}", self.check_other)(key)
        for canonical, alias in self.aliases.items():
            if canonical not in _REQUIRED[self.version]:
                self.warn(
                    alias,
                    f"`{alias}` is not a field name the {self.spec} spec uses, so clients may "
                    f"ignore it; rename it to `{canonical}` if that is what you meant.",
                )

    def check_other(self, key: str) -> None:
        """Plain strings: name, description, version, and the optional URLs."""
        if key in _REQUIRED[self.version]:
            self.required(self.card, "", key, str, _HINTS[key])
            return
        value = self.optional(self.card, "", key, str)
        if value is not None and key in ("documentationUrl", "iconUrl"):
            self.link(key, value, allow_data=key == "iconUrl")

    def check_protocolVersion(self, key: str) -> None:  # 0.3 only
        value = self.required(self.card, "", key, str, _HINTS[key])
        if value is None:
            return
        mm = _major_minor(value)
        if mm is None or mm < (0, 3):
            shown = "does not parse as a version" if mm is None else "is older than 0.3"
            self.error(
                key,
                f"`protocolVersion` is {value!r}, which {shown}, so a2a-sdk (and this app) "
                'will not talk to the agent; publish "0.3.0" or a 1.0 card.',
            )
        elif mm == (1, 0):
            self.warn(
                key,
                "The card claims protocol 1.0 but uses the 0.3 layout (top-level url); "
                'publish supportedInterfaces for 1.0, or set protocolVersion to "0.3.0".',
            )
        elif mm != (0, 3):
            self.warn(
                key,
                f"`protocolVersion` is {value!r}, which this app does not speak (it speaks "
                '1.0 and 0.3); publish "0.3.0" if the agent follows the 0.3 spec.',
            )

    def check_url(self, key: str) -> None:  # 0.3 only: the preferred endpoint
        value = self.required(self.card, "", key, str, _HINTS[key])
        if value is not None:
            self.endpoint(key, value, self.legacy_binding())

    def legacy_binding(self) -> str:
        binding = self.card.get("preferredTransport")
        return binding if isinstance(binding, str) and binding else JSONRPC

    def check_preferredTransport(self, key: str) -> None:  # 0.3 only
        if self.optional(self.card, "", key, str) is not None:
            self.binding(key, self.card[key])

    def check_additionalInterfaces(self, key: str) -> None:  # 0.3 only
        bindings = [self.legacy_binding()]
        items = self.optional(self.card, "", key, list) or []
        seen: dict[tuple[Any, ...], str] = {}
        for where, item in self.objects(key, items):
            url = self.required(item, where, "url", str, "give the interface's absolute URL")
            binding = self.required(
                item, where, "transport", str, "set it to JSONRPC, HTTP+JSON or GRPC"
            )
            if url is not None:
                self.endpoint(f"{where}.url", url, binding or "")
            if binding is not None:
                self.binding(f"{where}.transport", binding)
                bindings.append(binding)
            self.duplicate(where, (url, binding), seen, f"{binding} at {url}")
        self.usable_bindings(key if items else "preferredTransport", bindings)

    def check_supportedInterfaces(self, key: str) -> None:  # 1.0 only
        items = self.required(self.card, "", key, list, _HINTS[key])
        if items is None:
            return
        seen: dict[tuple[Any, ...], str] = {}
        bindings: list[str] = []
        usable_versions = False
        for where, item in self.objects(key, items):
            raw_binding = item.get("protocolBinding")
            url = self.required(item, where, "url", str, "give the interface's absolute URL")
            if url is not None:
                self.endpoint(
                    f"{where}.url", url, raw_binding if isinstance(raw_binding, str) else ""
                )
            binding = self.required(
                item, where, "protocolBinding", str, "set it to JSONRPC, HTTP+JSON or GRPC"
            )
            if binding is not None:
                self.binding(f"{where}.protocolBinding", binding)
                bindings.append(binding)
            tenant = self.optional(item, where, "tenant", str)
            version = self.required(
                item,
                where,
                "protocolVersion",
                str,
                'set the A2A version this interface speaks, such as "1.0"',
            )
            if version is not None:
                self.interface_version(f"{where}.protocolVersion", version)
            if binding in APP_BINDINGS:
                mm = _major_minor(version) if version is not None else (1, 0)
                usable_versions = usable_versions or (mm is not None and mm >= (0, 3))
            self.duplicate(where, (url, binding, version, tenant), seen, f"{binding} at {url}")
        if self.usable_bindings(key, bindings) and not usable_versions:
            self.error(
                key,
                "No JSON-RPC or HTTP+JSON interface declares a protocol version this app can "
                'use (0.3 or later), so a2a-sdk will not connect; declare "1.0" or "0.3".',
            )

    def usable_bindings(self, where: str, bindings: list[str]) -> bool:
        """Reports a card with no interface this app can call; True if it has one."""
        if not bindings or any(b in APP_BINDINGS for b in bindings):
            return bool(bindings)
        if all(b == GRPC for b in bindings):
            self.error(
                where,
                "The agent offers only gRPC, but this app needs a JSON-RPC or HTTP+JSON "
                "interface; add one to the card to use the agent here.",
            )
        else:
            offered = ", ".join(dict.fromkeys(bindings))
            self.error(
                where,
                f"None of the agent's interfaces ({offered}) is JSON-RPC or HTTP+JSON, which "
                "this app needs; add one to the card to use the agent here.",
            )
        return False

    def binding(self, where: str, binding: str) -> None:
        if binding in KNOWN_BINDINGS:
            return
        meant = _BINDING_SPELLINGS.get(binding.upper().replace("-", "").replace("_", "+"))
        if meant:
            self.warn(
                where,
                f"`{where}` is {binding!r}, which clients treat as a custom binding; write "
                f"{meant} (binding names are case-sensitive).",
            )
        else:
            self.warn(
                where,
                f"`{where}` is the custom binding {binding!r}, which this app cannot use; "
                "document it, and also offer JSONRPC or HTTP+JSON for standard clients.",
            )

    def interface_version(self, where: str, value: str) -> None:
        mm = _major_minor(value)
        if mm is None:
            self.warn(
                where,
                f"`{where}` is {value!r}, which does not parse as a version, so a2a-sdk skips "
                'this interface; use "1.0" or "0.3".',
            )
        elif mm not in ((1, 0), (0, 3)):
            self.warn(
                where,
                f"`{where}` is {value!r}, a protocol version this app does not speak (it "
                'speaks 1.0 and 0.3); declare "1.0" or "0.3" if the interface follows them.',
            )

    def duplicate(
        self, where: str, key: tuple[Any, ...], seen: dict[tuple[Any, ...], str], what: str
    ) -> None:
        if None in key[:2]:
            return
        if key in seen:
            self.warn(
                where,
                f"`{where}` repeats `{seen[key]}` ({what}); remove the duplicate interface.",
            )
        else:
            seen[key] = where

    def endpoint(self, where: str, url: str, binding: str) -> None:
        """An interface's address: absolute http(s) (or gRPC host:port), https off loopback."""
        if binding == GRPC and _HOST_PORT.fullmatch(url):
            return
        scheme, host = _scheme_host(url)
        if binding in KNOWN_BINDINGS and (scheme not in ("http", "https") or not host):
            self.error(
                where,
                f"`{where}` is {url!r}, not an absolute http(s) URL; publish the full URL, "
                "such as https://agent.example.com/a2a.",
            )
        elif not scheme or not host:
            self.error(
                where,
                f"`{where}` is {url!r}, not an absolute URL; publish the full URL of the "
                "interface.",
            )
        else:
            self.cleartext(where, scheme, host)

    def link(self, where: str, url: str, *, allow_data: bool = False) -> None:
        """An informational URL (docs, icon, provider): absolute, no cleartext check."""
        scheme, host = _scheme_host(url)
        if allow_data and scheme == "data":
            return
        if scheme not in ("http", "https") or not host:
            self.warn(
                where,
                f"`{where}` is {url!r}, not an absolute http(s) URL; publish the full URL so "
                "clients can open it.",
            )

    def secure_link(self, where: str, url: str) -> None:
        """A URL credentials travel to (OAuth, OpenID Connect): absolute, https off loopback."""
        scheme, host = _scheme_host(url)
        if scheme not in ("http", "https") or not host:
            self.error(
                where,
                f"`{where}` is {url!r}, not an absolute http(s) URL; publish the full URL so "
                "clients can authenticate.",
            )
        else:
            self.cleartext(where, scheme, host)

    def cleartext(self, where: str, scheme: str, host: str) -> None:
        if host in _UNSPECIFIED_HOSTS:
            self.warn(
                where,
                f"`{where}` uses {host}, a listening address clients cannot reliably reach; "
                "publish the host name or IP address clients should use.",
            )
        elif scheme in ("http", "ws") and not _is_loopback(host):
            self.warn(
                where,
                f"`{where}` uses plain {scheme}:// on {host}, so messages and credentials travel "
                "unencrypted; serve it over https (the spec requires TLS in production).",
            )

    def check_provider(self, key: str) -> None:
        provider = self.optional(self.card, "", key, dict)
        if provider is None:
            return
        url = self.required(provider, key, "url", str, "give the provider's website")
        self.required(provider, key, "organization", str, "give the provider's name")
        if url is not None:
            self.link(f"{key}.url", url)

    def check_capabilities(self, key: str) -> None:
        caps = self.required(self.card, "", key, dict, _HINTS[key])
        if caps is None:
            return
        for flag in _CAPABILITY_FLAGS[self.version]:
            self.optional(caps, key, flag, bool)
        for where, ext in self.objects(
            f"{key}.extensions", self.optional(caps, key, "extensions", list) or []
        ):
            self.extension(where, ext)
        if self.version == "1.0" and caps.get("extendedAgentCard") is True:
            self.extended_card_auth(f"{key}.extendedAgentCard")

    def extension(self, where: str, ext: Mapping[str, Any]) -> None:
        if self.version == "0.3":
            uri = self.required(ext, where, "uri", str, "give the extension's URI")
        else:  # not REQUIRED in the 1.0 proto, but an extension without one means nothing
            uri = self.optional(ext, where, "uri", str)
            if uri is None or not uri.strip():
                self.warn(
                    f"{where}.uri",
                    f"`{where}` has no uri, so clients cannot tell which extension it is; "
                    "give the extension's URI.",
                )
        self.optional(ext, where, "description", str)
        self.optional(ext, where, "params", dict)
        if self.optional(ext, where, "required", bool) is True:
            self.warn(
                f"{where}.required",
                f"The agent requires the extension {uri or '(no uri)'}, which this app does not "
                "implement, so it may reject the app's requests; mark it required: false if "
                "clients without it can still be served.",
            )

    def extended_card_auth(self, where: str) -> None:
        if not isinstance(self.card.get("securitySchemes"), Mapping) or not self.card.get(
            "securitySchemes"
        ):
            self.warn(
                where,
                "The card offers an extended agent card but declares no securitySchemes, and "
                "the spec requires that request to be authenticated; declare the scheme clients "
                "must use.",
            )

    def check_supportsAuthenticatedExtendedCard(self, key: str) -> None:  # 0.3 only
        if self.optional(self.card, "", key, bool) is True:
            self.extended_card_auth(key)

    def check_securitySchemes(self, key: str) -> None:
        schemes = self.optional(self.card, "", key, dict)
        for name, scheme in (schemes or {}).items():
            where = f"{key}.{name}"
            if self.typed(where, scheme, dict):
                self.scheme(where, scheme)

    def scheme(self, where: str, scheme: Mapping[str, Any]) -> None:
        if "type" in scheme or self.version == "0.3":
            kind = scheme.get("type")
            if kind not in _SCHEMES_03:
                self.error(
                    f"{where}.type",
                    f"`{where}.type` is {json.dumps(kind)}, not a known scheme type; use one "
                    f"of {', '.join(_SCHEMES_03)}.",
                )
                return
            self.scheme_body(where, scheme, _SCHEMES_03[kind], location="in")
            return
        kinds = [kind for kind in _SCHEMES_10 if kind in scheme]
        if len(kinds) != 1:
            found = (
                f"declares {len(kinds)} scheme types ({', '.join(kinds)})"
                if kinds
                else ("names no scheme type")
            )
            self.error(
                where,
                f"`{where}` {found}; give exactly one of {', '.join(_SCHEMES_10)}.",
            )
            return
        body = scheme[kinds[0]]
        if self.typed(f"{where}.{kinds[0]}", body, dict):
            self.scheme_body(f"{where}.{kinds[0]}", body, _SCHEMES_10[kinds[0]], "location")

    def scheme_body(
        self, where: str, body: Mapping[str, Any], fields: Sequence[str], location: str
    ) -> None:
        for name in fields:
            kind = dict if name == "flows" else str
            value = self.required(body, where, name, kind, _SCHEME_HINTS[name])
            if value is None:
                continue
            if name == location and value not in _API_KEY_LOCATIONS:
                self.error(
                    f"{where}.{name}",
                    f"`{where}.{name}` is {value!r}; use query, header or cookie.",
                )
            elif name == "openIdConnectUrl":
                self.secure_link(f"{where}.{name}", value)
            elif name == "flows":
                self.flows(f"{where}.flows", value)
        metadata = self.optional(body, where, "oauth2MetadataUrl", str)
        if metadata is not None:
            self.secure_link(f"{where}.oauth2MetadataUrl", metadata)

    def flows(self, where: str, flows: Mapping[str, Any]) -> None:
        named = [name for name in _FLOWS if name in flows]
        if not named:
            self.error(
                where,
                f"`{where}` names no OAuth flow; add one of {', '.join(_FLOWS)}.",
            )
            return
        if len(named) > 1:  # a oneof in the 1.0 proto: a2a-sdk rejects the whole card
            self.error(
                where,
                f"`{where}` declares {len(named)} OAuth flows ({', '.join(named)}), which "
                "a2a-sdk (and so this app) cannot load; keep one flow per scheme.",
            )
        for name in named:
            flow_where = f"{where}.{name}"
            flow = flows[name]
            if not self.typed(flow_where, flow, dict):
                continue
            if self.version == "1.0" and name in _DEPRECATED_FLOWS:
                self.warn(
                    flow_where,
                    f"The {name} OAuth flow is deprecated in A2A 1.0; use authorizationCode "
                    "with PKCE, or deviceCode.",
                )
            for url_field in _FLOWS[name]:
                url = self.required(
                    flow, flow_where, url_field, str, f"give the flow's {url_field}"
                )
                if url is not None:
                    self.secure_link(f"{flow_where}.{url_field}", url)
            self.optional(flow, flow_where, "scopes", dict)

    def check_securityRequirements(self, key: str) -> None:  # 1.0 shape
        self.requirements(key, self.card)

    def check_security(self, key: str) -> None:  # 0.3 shape (legacy in a 1.0 card)
        self.requirements(key, self.card)

    def requirements(self, key: str, owner: Mapping[str, Any], prefix: str = "") -> None:
        """Security requirements name only schemes the card declares (OpenAPI's rule)."""
        where = _join(prefix, key)
        items = self.optional(owner, prefix, key, list)
        declared = self.card.get("securitySchemes")
        declared = declared if isinstance(declared, Mapping) else {}
        for item_where, item in self.objects(where, items or []):
            if key == "securityRequirements":
                if not item:
                    continue  # {}: "no authentication" is one of the alternatives
                if "schemes" not in item:
                    self.error(
                        item_where,
                        f'`{item_where}` has no "schemes" object, so a2a-sdk reads it as "no '
                        'authentication needed"; write it as {"schemes": {"<name>": '
                        '{"list": ["<scope>"]}}}.',
                    )
                    continue
                schemes = item["schemes"]
                if not self.typed(f"{item_where}.schemes", schemes, dict):
                    continue
                for name, scopes in schemes.items():
                    scope_where = f"{item_where}.schemes.{name}"
                    if self.typed(scope_where, scopes, dict):
                        self.strings(
                            f"{scope_where}.list",
                            self.optional(scopes, scope_where, "list", list) or [],
                        )
            else:
                schemes = item
                for name, scopes in schemes.items():
                    if self.typed(f"{item_where}.{name}", scopes, list):
                        self.strings(f"{item_where}.{name}", scopes)
            for name in schemes:
                if name not in declared:
                    self.error(
                        item_where,
                        f"`{item_where}` names the security scheme {name!r}, which securitySchemes "
                        "does not declare; declare it there or fix the name.",
                    )

    def check_defaultInputModes(self, key: str) -> None:
        self.modes(key, self.required(self.card, "", key, list, _HINTS[key]))

    def check_defaultOutputModes(self, key: str) -> None:
        self.modes(key, self.required(self.card, "", key, list, _HINTS[key]))

    def modes(self, where: str, values: Sequence[Any] | None) -> None:
        for i, mode in self.strings(where, values or []):
            if not _MEDIA_TYPE.fullmatch(mode.strip()):
                self.warn(
                    f"{where}[{i}]",
                    f"`{where}[{i}]` is {mode!r}, which is not a media type; use a MIME type "
                    "such as text/plain or application/json.",
                )

    def check_skills(self, key: str) -> None:
        skills = self.required(self.card, "", key, list, _HINTS[key])
        ids: dict[str, str] = {}
        for where, skill in self.objects(key, skills or []):
            skill_id = self.required(skill, where, "id", str, "give the skill a unique id")
            self.required(skill, where, "name", str, "give the skill a human-readable name")
            self.required(skill, where, "description", str, "say what the skill does")
            tags = self.required(
                skill, where, "tags", list, "add at least one keyword describing the skill"
            )
            self.strings(f"{where}.tags", tags or [])
            self.strings(f"{where}.examples", self.optional(skill, where, "examples", list) or [])
            for modes in ("inputModes", "outputModes"):
                self.modes(f"{where}.{modes}", self.optional(skill, where, modes, list))
            security = "securityRequirements" if self.version == "1.0" else "security"
            self.requirements(security, skill, where)
            if skill_id is not None:
                if skill_id in ids:
                    self.error(
                        f"{where}.id",
                        f"The skill id {skill_id!r} is also used by `{ids[skill_id]}`; give "
                        "each skill a unique id.",
                    )
                else:
                    ids[skill_id] = where

    def check_signatures(self, key: str) -> None:
        for where, signature in self.objects(key, self.optional(self.card, "", key, list) or []):
            self.required(signature, where, "protected", str, "give the base64url JWS header")
            self.required(signature, where, "signature", str, "give the base64url signature")
            self.optional(signature, where, "header", dict)


def _misspelled_fields(card: Mapping[str, Any], version: CardVersion) -> dict[str, str]:
    """Unknown top-level keys that look like a field of this version (snake_case, typos)."""
    fields = [f for f in (_ORDER_10 if version == "1.0" else _ORDER_03) if f not in card]
    aliases: dict[str, str] = {}
    for key in card:
        if not isinstance(key, str) or key in _KNOWN_FIELDS:
            continue
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
        if camel in fields:
            aliases.setdefault(camel, key)
            continue
        close = difflib.get_close_matches(key, fields, 1, 0.8)
        if close:
            aliases.setdefault(close[0], key)
    return aliases


# --- small helpers ---------------------------------------------------------------------


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _is(value: Any, kind: type) -> bool:
    if kind is dict:
        return isinstance(value, Mapping)
    if kind is str:
        return isinstance(value, str)
    if kind is list:
        return isinstance(value, list)
    return isinstance(value, bool)


def _typename(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _major_minor(version: str) -> tuple[int, int] | None:
    """`Major.Minor` of a protocol version, as a2a-sdk's ClientFactory reads it."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    return (parsed.major, parsed.minor)


def _scheme_host(url: str) -> tuple[str, str]:
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


# --- card_differences ------------------------------------------------------------------

_CAPABILITY_LABELS = {
    "streaming": "streaming",
    "pushNotifications": "push notifications",
    "extendedAgentCard": "extended agent card",
    "stateTransitionHistory": "state transition history",
}
# Compared by their own rules below; the rest of the top level is compared generically.
_COMPARED = frozenset(
    (
        "name",
        "description",
        "version",
        "capabilities",
        "supportsAuthenticatedExtendedCard",
        "securitySchemes",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
        "signatures",  # re-signed content always differs: not a difference worth showing
        *_LEGACY_MARKERS,
        "supportedInterfaces",
    )
)


def card_differences(public: Mapping[str, Any], extended: Mapping[str, Any]) -> list[str]:
    """What the extended card adds or changes over the public one, a sentence each, in
    field order. Cards of different layouts (0.3 and 1.0) are compared in the 1.0 form."""
    if not isinstance(public, Mapping) or not isinstance(extended, Mapping):
        return []
    if _card_version(public) != _card_version(extended):
        public, extended = _as_v10(public), _as_v10(extended)
    out: list[str] = []
    for key, label in (("name", "the name"), ("description", "the description")):
        out.extend(_changed(label, public.get(key), extended.get(key)))
    out.extend(_interface_differences(public, extended))
    out.extend(_changed("the agent version", public.get("version"), extended.get("version")))
    out.extend(_capability_differences(public, extended))
    out.extend(_scheme_differences(public, extended))
    for key, more, fewer in (
        ("defaultInputModes", "Accepts more input", "No longer accepts input"),
        ("defaultOutputModes", "Produces more output", "No longer produces output"),
    ):
        before, after = _str_list(public.get(key)), _str_list(extended.get(key))
        if added := [m for m in after if m not in before]:
            out.append(f"{more} media types: {', '.join(added)}.")
        if dropped := [m for m in before if m not in after]:
            out.append(f"{fewer} media types: {', '.join(dropped)}.")
    out.extend(_skill_differences(public, extended))
    others = [k for k in (*extended, *public) if isinstance(k, str) and k not in _COMPARED]
    for key in dict.fromkeys(others):
        out.extend(_changed(f"`{key}`", public.get(key), extended.get(key)))
    return out


def _as_v10(card: Mapping[str, Any]) -> Mapping[str, Any]:
    """A 0.3 card in the 1.0 layout, as a2a-sdk converts it; other cards unchanged."""
    if _card_version(card) == "1.0":
        return card
    try:
        return MessageToDict(parse_agent_card(copy.deepcopy(dict(card))))
    except (ParseError, TypeError, ValueError, AttributeError):
        return card


def _changed(label: str, before: Any, after: Any) -> list[str]:
    if before == after:
        return []
    if before is None:
        return [f"Adds {label}: {_show(after)}."]
    if after is None:
        return [f"Drops {label}."]
    if label == "the description" and isinstance(before, str) and isinstance(after, str):
        if after.startswith(before):  # the usual extended card: more text at the end
            return [f"Extends the description with {_show(after[len(before) :].strip(), 200)}."]
        return [f"Changes the description to {_show(after, 200)}."]
    return [f"Changes {label} from {_show(before)} to {_show(after)}."]


def _show(value: Any, limit: int = 100) -> str:
    """A value for a sentence: strings quoted, anything else as JSON, cut at `limit`."""
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= limit else f'"{value[: limit - 1].rstrip()}…"'
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _interfaces(card: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(binding, url, protocol version) of each interface, for either layout."""
    out: list[tuple[str, str, str]] = []
    if "supportedInterfaces" in card:
        items = card["supportedInterfaces"] if isinstance(card["supportedInterfaces"], list) else []
        for item in items:
            if isinstance(item, Mapping):
                out.append(
                    (
                        str(item.get("protocolBinding", "")),
                        str(item.get("url", "")),
                        str(item.get("protocolVersion", "")),
                    )
                )
        return out
    version = str(card.get("protocolVersion", ""))
    if "url" in card:
        out.append((str(card.get("preferredTransport") or JSONRPC), str(card["url"]), version))
    extra = card.get("additionalInterfaces")
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, Mapping):
            entry = (str(item.get("transport", "")), str(item.get("url", "")), version)
            if entry not in out:  # 0.3 cards SHOULD repeat the main interface here
                out.append(entry)
    return out


def _interface_differences(public: Mapping[str, Any], extended: Mapping[str, Any]) -> list[str]:
    before, after = _interfaces(public), _interfaces(extended)
    out = []
    for binding, url, version in after:
        if (binding, url, version) not in before:
            suffix = f" (A2A {version})" if version else ""
            out.append(f"Adds the {binding or 'unnamed'} interface at {url}{suffix}.")
    for binding, url, version in before:
        if (binding, url, version) not in after:
            out.append(f"Drops the {binding or 'unnamed'} interface at {url}.")
    return out


def _capabilities(card: Mapping[str, Any]) -> dict[str, Any]:
    caps = dict(card["capabilities"]) if isinstance(card.get("capabilities"), Mapping) else {}
    if "supportsAuthenticatedExtendedCard" in card:  # 0.3's name for extendedAgentCard
        caps.setdefault("extendedAgentCard", card["supportsAuthenticatedExtendedCard"])
    return caps


def _capability_differences(public: Mapping[str, Any], extended: Mapping[str, Any]) -> list[str]:
    before, after = _capabilities(public), _capabilities(extended)
    out = []
    for key in dict.fromkeys((*after, *before)):
        if key == "extensions":
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, bool | None) and isinstance(new, bool | None):
            label = _CAPABILITY_LABELS.get(key, f"`{key}`")
            if new and not old:
                out.append(f"Adds the {label} capability.")
            elif old and not new:
                out.append(f"Turns off the {label} capability.")
        else:
            out.extend(_changed(f"`capabilities.{key}`", old, new))
    old_ext, new_ext = _extensions(before), _extensions(after)
    for uri, ext in new_ext.items():
        if uri not in old_ext:
            required = " (required)" if ext.get("required") is True else ""
            out.append(f"Adds the extension {uri}{required}.")
        elif ext != old_ext[uri]:
            out.append(f"Changes the settings of the extension {uri}.")
    out.extend(f"Drops the extension {uri}." for uri in old_ext if uri not in new_ext)
    return out


def _extensions(caps: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    items = caps.get("extensions")
    return {
        str(ext.get("uri", "")): ext
        for ext in (items if isinstance(items, list) else [])
        if isinstance(ext, Mapping)
    }


def _scheme_differences(public: Mapping[str, Any], extended: Mapping[str, Any]) -> list[str]:
    def schemes(card: Mapping[str, Any]) -> Mapping[str, Any]:
        value = card.get("securitySchemes")
        return value if isinstance(value, Mapping) else {}

    before, after = schemes(public), schemes(extended)
    out = []
    for name, scheme in after.items():
        if name not in before:
            out.append(f'Adds the security scheme "{name}".')
        elif scheme != before[name]:
            out.append(f'Changes the security scheme "{name}".')
    out.extend(f'Drops the security scheme "{name}".' for name in before if name not in after)
    return out


def _skills(card: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Skills by id (by name when a skill has no id)."""
    items = card.get("skills")
    out: dict[str, Mapping[str, Any]] = {}
    for skill in items if isinstance(items, list) else []:
        if isinstance(skill, Mapping):
            key = skill.get("id") or skill.get("name")
            out.setdefault(str(key), skill)
    return out


def _skill_name(skill: Mapping[str, Any], key: str) -> str:
    name = skill.get("name")
    return name if isinstance(name, str) and name.strip() else key


def _skill_differences(public: Mapping[str, Any], extended: Mapping[str, Any]) -> list[str]:
    before, after = _skills(public), _skills(extended)
    out = []
    for key, skill in after.items():
        name = _skill_name(skill, key)
        if key not in before:
            description = skill.get("description")
            if isinstance(description, str) and description.strip():
                text = description.strip().rstrip(".")
                out.append(f'Adds the skill "{name}": {text}.')
            else:
                out.append(f'Adds the skill "{name}".')
        elif skill != before[key]:
            old = before[key]
            changed = [f for f in dict.fromkeys((*skill, *old)) if skill.get(f) != old.get(f)]
            out.append(f'Changes the skill "{name}" ({", ".join(changed)}).')
    for key, skill in before.items():
        if key not in after:
            out.append(
                f'Leaves out the skill "{_skill_name(skill, key)}", which the public card lists.'
            )
    return out
