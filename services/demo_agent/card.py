"""The demo agent's cards: the public one, the extended one, and their security schemes.

The skills come from the scenarios (`scenarios.SCENARIOS`), so the card advertises exactly
what the router answers.
"""

from __future__ import annotations

from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    APIKeySecurityScheme,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, TransportProtocol

from services.demo_agent.auth import API_KEY_HEADER, DemoAuth
from services.demo_agent.scenarios import SCENARIOS
from services.demo_agent.scenarios.files import INPUT_MODES

__all__ = ["build_agent_card", "build_extended_agent_card"]


def build_agent_card(base_url: str, *, auth: DemoAuth | None = None) -> AgentCard:
    """The demo agent's card, served at `/.well-known/agent-card.json`.

    With `auth`, it declares the matching security schemes ("bearer", "apiKey"), each
    one enough on its own (one security requirement per scheme).
    """
    base_url = base_url.rstrip("/")
    return AgentCard(
        name="A2A Demo Agent",
        description=(
            "A deterministic agent that exercises the A2A protocol: streaming, status "
            "updates, multi-turn input, cancellation, failures, file/data artifacts and "
            "push notifications."
        ),
        version="1.0.0",
        provider=AgentProvider(organization="a2a-streamlit", url=base_url),
        supported_interfaces=[
            AgentInterface(
                url=f"{base_url}/",
                protocol_binding=TransportProtocol.JSONRPC.value,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            ),
            AgentInterface(
                url=f"{base_url}/rest",
                protocol_binding=TransportProtocol.HTTP_JSON.value,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            ),
        ],
        # Push: a2a-sdk's sender and config store (see `push`); the handler refuses the
        # push config methods unless the card says so. The extended card is for callers
        # who authenticate (A2A 1.0 §3.1.11), so it is offered only when auth is set up.
        capabilities=AgentCapabilities(
            streaming=True,
            push_notifications=True,
            extended_agent_card=bool(_security_schemes(auth)),
        ),
        security_schemes=_security_schemes(auth),
        security_requirements=[
            SecurityRequirement(schemes={name: StringList()}) for name in _security_schemes(auth)
        ],
        default_input_modes=INPUT_MODES,
        default_output_modes=[
            "text/markdown",
            "application/json",
            "text/csv",
            "image/png",
            "text/plain",
        ],
        skills=[scenario.skill for scenario in SCENARIOS if not scenario.extended],
    )


def _security_schemes(auth: DemoAuth | None) -> dict[str, SecurityScheme]:
    schemes: dict[str, SecurityScheme] = {}
    if auth and auth.bearer_token:
        schemes["bearer"] = SecurityScheme(
            http_auth_security_scheme=HTTPAuthSecurityScheme(
                scheme="Bearer", description="Authorization: Bearer <token>"
            )
        )
    if auth and auth.api_key:
        schemes["apiKey"] = SecurityScheme(
            api_key_security_scheme=APIKeySecurityScheme(
                location="header", name=API_KEY_HEADER, description="An API key header"
            )
        )
    return schemes


def build_extended_agent_card(card: AgentCard) -> AgentCard:
    """The card for callers who may call the agent: `card` plus the admin skill.

    Served by `GetExtendedAgentCard` (JSON-RPC) and `GET /rest/extendedAgentCard`.
    """
    extended = AgentCard()
    extended.CopyFrom(card)
    extended.description = (
        f"{card.description} This extended card is for callers who may call the agent: "
        "it adds an admin report of what the agent has handled since it started."
    )
    extended.skills.extend(scenario.skill for scenario in SCENARIOS if scenario.extended)
    return extended
