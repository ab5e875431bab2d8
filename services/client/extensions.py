"""A2A extensions and tenants on the client side, through a2a-sdk's own mechanisms.

- Extensions a conversation activates go with each of its requests as the SDK's service
  parameters (`with_a2a_extensions`: the `A2A-Extensions` header on the HTTP bindings,
  metadata on gRPC); the agent names those it activated in the response's header.
- An agent's tenant goes on every request of every binding: the card the SDK client is
  built from names it on each interface, so `ClientFactory` wraps the transport in the
  SDK's `TenantTransportDecorator` (JSON-RPC `params.tenant`, HTTP+JSON `/{tenant}/...`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from a2a.client import ClientCallContext
from a2a.client.service_parameters import ServiceParametersFactory, with_a2a_extensions
from a2a.extensions.common import HTTP_EXTENSION_HEADER, get_requested_extensions
from a2a.types.a2a_pb2 import AgentCard

__all__ = [
    "MAX_TENANT_LENGTH",
    "ExtensionInfo",
    "activated_extensions",
    "call_context",
    "card_extensions",
    "missing_required",
    "required_sentence",
    "short_name",
    "with_tenant",
]

MAX_TENANT_LENGTH = 200
_EXTENSIONS_SHOWN = 50  # a card may list many: the app offers the first ones


@dataclass(frozen=True)
class ExtensionInfo:
    """An extension the card declares (`AgentCapabilities.extensions`)."""

    uri: str
    description: str = ""
    required: bool = False


def card_extensions(card: Mapping[str, Any]) -> tuple[ExtensionInfo, ...]:
    """The extensions in a card as the SDK parsed it to JSON (`AgentInfo.card`)."""
    capabilities = card.get("capabilities")
    listed = capabilities.get("extensions") if isinstance(capabilities, Mapping) else None
    found: list[ExtensionInfo] = []
    for item in listed if isinstance(listed, list) else []:
        if isinstance(item, Mapping) and isinstance(uri := item.get("uri"), str) and uri:
            description = item.get("description")
            found.append(
                ExtensionInfo(
                    uri[:2048],
                    description[:1000] if isinstance(description, str) else "",
                    item.get("required") is True,
                )
            )
    return tuple(found[:_EXTENSIONS_SHOWN])


def missing_required(declared: Iterable[ExtensionInfo], activated: Iterable[str]) -> list[str]:
    """The URIs of required extensions not among `activated`."""
    chosen = set(activated)
    return [e.uri for e in declared if e.required and e.uri not in chosen]


def required_sentence(uri: str) -> str:
    return (
        f"This agent requires the extension {uri}: activate it in the conversation's "
        "options (Advanced)."
    )


def call_context(extensions: Sequence[str]) -> ClientCallContext | None:
    """The call context that activates `extensions` (None when there are none)."""
    if not extensions:
        return None
    parameters = ServiceParametersFactory.create([with_a2a_extensions(list(extensions))])
    return ClientCallContext(service_parameters=parameters)


def activated_extensions(headers: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The extensions a response's `A2A-Extensions` header says the agent activated."""
    name = HTTP_EXTENSION_HEADER.lower()
    values = [value for key, value in headers if key.lower() == name]
    return tuple(sorted(get_requested_extensions(values)))[:_EXTENSIONS_SHOWN]


def short_name(uri: str) -> str:
    """`https://example.com/ext/timestamps/v1` -> `timestamps/v1`: for captions."""
    parts = [p for p in uri.split("?")[0].split("/") if p]
    return "/".join(parts[-2:]) if len(parts) > 2 else uri


def with_tenant(card: AgentCard, tenant: str) -> AgentCard:
    """A copy of `card` whose interfaces name `tenant` (the card itself is unchanged)."""
    if not tenant:
        return card
    copy = AgentCard()
    copy.CopyFrom(card)
    for interface in copy.supported_interfaces:
        interface.tenant = tenant
    return copy
