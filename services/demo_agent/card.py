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
    AuthorizationCodeOAuthFlow,
    ClientCredentialsOAuthFlow,
    DeviceCodeOAuthFlow,
    HTTPAuthSecurityScheme,
    OAuth2SecurityScheme,
    OAuthFlows,
    OpenIdConnectSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, TransportProtocol

from services.demo_agent.auth import API_KEY_HEADER, DemoAuth
from services.demo_agent.oauth.config import A2A_SCOPE, SCOPES, DemoOAuth, OAuthEndpoints
from services.demo_agent.scenarios import SCENARIOS
from services.demo_agent.scenarios.files import INPUT_MODES

__all__ = ["build_agent_card", "build_extended_agent_card"]


def build_agent_card(
    base_url: str,
    *,
    auth: DemoAuth | None = None,
    oauth: DemoOAuth | None = None,
    grpc_target: str = "",
) -> AgentCard:
    """The demo agent's card, served at `/.well-known/agent-card.json`.

    With `auth`, it declares the matching security schemes ("bearer", "apiKey"); with
    `oauth`, the authorization server's ("oauth2", "oauth2ClientCredentials",
    "oauth2DeviceCode", "oidc"). Each is enough on its own (one security requirement
    per scheme), an OAuth one with scope `a2a:call`. With `grpc_target` (`host:port`, the
    form a2a-sdk hands its gRPC channel factory) it declares a third, gRPC interface.
    """
    base_url = base_url.rstrip("/")
    oauth_schemes = _oauth_schemes(oauth, base_url) if oauth else {}
    schemes = _security_schemes(auth) | oauth_schemes
    card = AgentCard(
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
        # who authenticate (A2A 1.0 §3.1.11), so it is offered only when auth (or oauth)
        # is set up.
        capabilities=AgentCapabilities(
            streaming=True,
            push_notifications=True,
            extended_agent_card=bool(schemes),
        ),
        security_schemes=schemes,
        security_requirements=[
            SecurityRequirement(
                schemes={name: StringList(list=[A2A_SCOPE] if name in oauth_schemes else [])}
            )
            for name in schemes
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
    if grpc_target:
        card.supported_interfaces.append(
            AgentInterface(
                url=grpc_target,
                protocol_binding=TransportProtocol.GRPC.value,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            )
        )
    return card


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


def _oauth_schemes(oauth: DemoOAuth, base_url: str) -> dict[str, SecurityScheme]:
    """One scheme per OAuth flow (a oneof in the A2A 1.0 proto), and OpenID Connect."""
    endpoints = OAuthEndpoints(base_url)
    refresh_url = endpoints.token if oauth.allow_refresh else ""

    def oauth2(description: str, flows: OAuthFlows) -> SecurityScheme:
        return SecurityScheme(
            oauth2_security_scheme=OAuth2SecurityScheme(
                description=description, flows=flows, oauth2_metadata_url=endpoints.metadata
            )
        )

    return {
        "oauth2": oauth2(
            "Sign in as the demo user (authorization code with PKCE)",
            OAuthFlows(
                authorization_code=AuthorizationCodeOAuthFlow(
                    authorization_url=endpoints.authorization,
                    token_url=endpoints.token,
                    refresh_url=refresh_url,
                    scopes=SCOPES,
                    pkce_required=True,
                )
            ),
        ),
        "oauth2ClientCredentials": oauth2(
            f"The {oauth.client_id} client itself (client credentials)",
            OAuthFlows(
                client_credentials=ClientCredentialsOAuthFlow(
                    token_url=endpoints.token, scopes={A2A_SCOPE: SCOPES[A2A_SCOPE]}
                )
            ),
        ),
        "oauth2DeviceCode": oauth2(
            "Approve this device on another screen (device authorization)",
            OAuthFlows(
                device_code=DeviceCodeOAuthFlow(
                    device_authorization_url=endpoints.device_authorization,
                    token_url=endpoints.token,
                    refresh_url=refresh_url,
                    scopes=SCOPES,
                )
            ),
        ),
        "oidc": SecurityScheme(
            open_id_connect_security_scheme=OpenIdConnectSecurityScheme(
                description="Sign in with OpenID Connect as the demo user",
                open_id_connect_url=endpoints.openid_configuration,
            )
        ),
    }


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
