"""The agent card checks (`services.inspector.card_check`): one test per rule, on real card JSON.

Each broken card is a sound card broken in exactly one way, and the test asserts the
exact list of (field, severity) it produces, so a rule that stops firing, fires on the
wrong field or drags other findings along fails its test. The last section pins every
finding on a few whole cards, word for word and in the order users see them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
from a2a.client.card_resolver import parse_agent_card
from a2a.compat.v0_3 import types as v03
from a2a.types import a2a_pb2
from a2a.utils.proto_utils import validate_proto_required_fields
from google.api.field_behavior_pb2 import FieldBehavior, field_behavior
from google.protobuf.json_format import MessageToDict, ParseDict

from services.demo_agent import DemoAuth, build_agent_card, build_extended_agent_card
from services.inspector.card_check import CardWarning, card_differences, check_card

Card = dict[str, Any]

# A full 1.0 card: every optional part the checks look at, all of it sound.
V10: Card = {
    "name": "Recipe Agent",
    "description": "Finds recipes and adapts them to what is in the kitchen.",
    "supportedInterfaces": [
        {
            "url": "https://recipes.example.com/a2a/v1",
            "protocolBinding": "JSONRPC",
            "protocolVersion": "1.0",
        },
        {
            "url": "https://recipes.example.com/a2a/rest",
            "protocolBinding": "HTTP+JSON",
            "protocolVersion": "1.0",
        },
        {
            "url": "grpc.recipes.example.com:443",
            "protocolBinding": "GRPC",
            "protocolVersion": "1.0",
        },
        {
            "url": "https://recipes.example.com/a2a/v1",
            "protocolBinding": "JSONRPC",
            "protocolVersion": "0.3",
        },
    ],
    "provider": {"organization": "Example Foods", "url": "https://foods.example.com"},
    "version": "2.1.0",
    "documentationUrl": "https://docs.example.com/recipes",
    "capabilities": {
        "streaming": True,
        "pushNotifications": False,
        "extendedAgentCard": True,
        "extensions": [
            {
                "uri": "https://example.com/extensions/citations/v1",
                "description": "Cites its sources.",
                "required": False,
            }
        ],
    },
    "securitySchemes": {
        "bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}},
        "key": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
        "oidc": {
            "openIdConnectSecurityScheme": {
                "openIdConnectUrl": "https://accounts.example.com/.well-known/openid-configuration"
            }
        },
        "oauth": {
            "oauth2SecurityScheme": {
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "https://auth.example.com/authorize",
                        "tokenUrl": "https://auth.example.com/token",
                        "scopes": {"recipes:write": "Change saved recipes"},
                        "pkceRequired": True,
                    }
                }
            }
        },
    },
    "securityRequirements": [
        {"schemes": {"bearer": {}}},
        {"schemes": {"key": {}}},
        {"schemes": {"oidc": {"list": ["openid"]}}},
    ],
    "defaultInputModes": ["text/plain", "application/json"],
    "defaultOutputModes": ["text/markdown", "application/json"],
    "skills": [
        {
            "id": "find",
            "name": "Find recipes",
            "description": "Finds recipes by ingredient, cuisine or time.",
            "tags": ["recipes", "search"],
            "examples": ["Something quick with leeks"],
            "inputModes": ["text/plain"],
            "outputModes": ["application/json"],
        },
        {
            "id": "adapt",
            "name": "Adapt a recipe",
            "description": "Scales a saved recipe or swaps ingredients.",
            "tags": ["recipes"],
            "securityRequirements": [{"schemes": {"oauth": {"list": ["recipes:write"]}}}],
        },
    ],
    "signatures": [{"protected": "eyJhbGciOiJFUzI1NiJ9", "signature": "c2lnbmF0dXJl"}],
    "iconUrl": "https://recipes.example.com/icon.png",
}

# The sample card of the A2A 0.3.0 specification (section 5.7), in the 0.3 layout.
V03: Card = {
    "protocolVersion": "0.3.0",
    "name": "GeoSpatial Route Planner Agent",
    "description": "Provides advanced route planning, traffic analysis, and custom map "
    "generation services.",
    "url": "https://georoute-agent.example.com/a2a/v1",
    "preferredTransport": "JSONRPC",
    "additionalInterfaces": [
        {"url": "https://georoute-agent.example.com/a2a/v1", "transport": "JSONRPC"},
        {"url": "https://georoute-agent.example.com/a2a/grpc", "transport": "GRPC"},
        {"url": "https://georoute-agent.example.com/a2a/json", "transport": "HTTP+JSON"},
    ],
    "provider": {
        "organization": "Example Geo Services Inc.",
        "url": "https://www.examplegeoservices.com",
    },
    "iconUrl": "https://georoute-agent.example.com/icon.png",
    "version": "1.2.0",
    "documentationUrl": "https://docs.examplegeoservices.com/georoute-agent/api",
    "capabilities": {"streaming": True, "pushNotifications": True, "stateTransitionHistory": False},
    "securitySchemes": {
        "google": {
            "type": "openIdConnect",
            "openIdConnectUrl": "https://accounts.google.com/.well-known/openid-configuration",
        }
    },
    "security": [{"google": ["openid", "profile", "email"]}],
    "defaultInputModes": ["application/json", "text/plain"],
    "defaultOutputModes": ["application/json", "image/png"],
    "skills": [
        {
            "id": "route-optimizer-traffic",
            "name": "Traffic-Aware Route Optimizer",
            "description": "Calculates the optimal driving route between two or more locations.",
            "tags": ["maps", "routing", "navigation", "directions", "traffic"],
            "examples": ["Plan a route from Mountain View to SFO avoiding tolls."],
            "inputModes": ["application/json", "text/plain"],
            "outputModes": ["application/json", "application/vnd.geo+json", "text/html"],
        },
        {
            "id": "custom-map-generator",
            "name": "Personalized Map Generator",
            "description": "Creates custom map images based on points of interest.",
            "tags": ["maps", "customization", "visualization", "cartography"],
            "examples": ["Generate a map of my upcoming road trip."],
            "inputModes": ["application/json"],
            "outputModes": ["image/png", "image/jpeg", "application/json", "text/html"],
        },
    ],
    "supportsAuthenticatedExtendedCard": True,
    "signatures": [
        {
            "protected": "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpPU0UiLCJraWQiOiJrZXktMSJ9",
            "signature": "QFdkNLNszlGj3z3u0YQGt_T9LixY3qtdQpZmsTdDHDe3fXV9y9-B3m2",
        }
    ],
}


def demo_card(**kwargs: Any) -> Card:
    return MessageToDict(build_agent_card("http://127.0.0.1:9999", **kwargs))


def broken(base: Card, change: Callable[[Card], object]) -> Card:
    card = copy.deepcopy(base)
    change(card)
    return card


def pairs(found: list[CardWarning]) -> list[tuple[str, str]]:
    return [(w.field, w.severity) for w in found]


def only(card: Card, field: str, severity: str, *words: str) -> CardWarning:
    """The card's single finding, which must be on `field`, of `severity`, and say `words`."""
    found = check_card(card)
    assert pairs(found) == [(field, severity)], found
    for word in words:
        assert word in found[0].message, found[0].message
    assert_sentence(found[0])
    return found[0]


def assert_sentence(warning: CardWarning) -> None:
    assert warning.message.endswith("."), warning.message
    assert not re.search(r"\.\s+[A-Z]", warning.message), warning.message  # one sentence


def at(card: Card, path: str) -> Any:
    """The object at a path such as `skills[0]` or `securitySchemes.bearer.x`."""
    node: Any = card
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        node = node[int(index)] if index else node[name]
    return node


# --- sound cards --------------------------------------------------------------------


def test_the_demo_agents_card_is_clean() -> None:
    assert check_card(demo_card()) == []


def test_the_demo_agents_card_with_auth_is_clean() -> None:
    assert check_card(demo_card(auth=DemoAuth(bearer_token="t", api_key="k"))) == []


def test_the_full_10_card_is_clean_and_valid_for_the_proto() -> None:
    card = ParseDict(V10, a2a_pb2.AgentCard())  # strict: no unknown or mistyped field
    validate_proto_required_fields(card)  # the SDK's REQUIRED check
    assert check_card(V10) == []


def test_the_03_spec_sample_card_is_clean_and_valid_for_the_03_schema() -> None:
    v03.AgentCard.model_validate(V03)  # the SDK's 0.3 model of the 0.3 JSON schema
    parse_agent_card(copy.deepcopy(V03))  # and a2a-sdk loads it
    assert check_card(V03) == []


def test_a_hybrid_card_with_legacy_fields_too_is_judged_as_10() -> None:
    hybrid = broken(V10, lambda c: c.update(url="https://recipes.example.com/a2a/v1"))
    hybrid["protocolVersion"] = "0.3.0"
    assert check_card(hybrid) == []


def test_a_card_that_is_not_an_object() -> None:
    found = check_card(["not", "a", "card"])  # type: ignore[arg-type]
    assert pairs(found) == [("card", "error")]
    assert "not a JSON object" in found[0].message


def test_errors_come_first_then_warnings_each_in_field_order() -> None:
    def change(c: Card) -> None:
        c["supportedInterfaces"][0]["url"] = "http://recipes.example.com/a2a/v1"  # warning
        c["defaultInputModes"] = ["text"]  # warning
        del c["skills"][1]["tags"]  # error
        del c["name"]  # error

    assert pairs(check_card(broken(V10, change))) == [
        ("name", "error"),
        ("skills[1].tags", "error"),
        ("supportedInterfaces[0].url", "warning"),
        ("defaultInputModes[0]", "warning"),
    ]


# --- required fields ------------------------------------------------------------------


def proto_required(message: Any) -> list[str]:
    """The JSON names of a proto message's REQUIRED fields."""
    return [
        f.json_name
        for f in message.DESCRIPTOR.fields
        if FieldBehavior.REQUIRED in f.GetOptions().Extensions[field_behavior]
    ]


def test_the_10_required_list_is_the_protos() -> None:
    assert proto_required(a2a_pb2.AgentCard) == [
        "name",
        "description",
        "supportedInterfaces",
        "version",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    ]


# Every REQUIRED field of every card message the proto marks (OAuth `scopes` aside: the
# proto marks the map REQUIRED, but OpenAPI allows an empty one and MessageToDict drops it).
PROTO_REQUIRED = [
    (path, name)
    for path, message in [
        ("", a2a_pb2.AgentCard),
        ("supportedInterfaces[1]", a2a_pb2.AgentInterface),
        ("provider", a2a_pb2.AgentProvider),
        ("skills[0]", a2a_pb2.AgentSkill),
        ("signatures[0]", a2a_pb2.AgentCardSignature),
        ("securitySchemes.bearer.httpAuthSecurityScheme", a2a_pb2.HTTPAuthSecurityScheme),
        ("securitySchemes.key.apiKeySecurityScheme", a2a_pb2.APIKeySecurityScheme),
        ("securitySchemes.oidc.openIdConnectSecurityScheme", a2a_pb2.OpenIdConnectSecurityScheme),
        ("securitySchemes.oauth.oauth2SecurityScheme", a2a_pb2.OAuth2SecurityScheme),
        (
            "securitySchemes.oauth.oauth2SecurityScheme.flows.authorizationCode",
            a2a_pb2.AuthorizationCodeOAuthFlow,
        ),
    ]
    for name in proto_required(message)
    if name != "scopes"
]


@pytest.mark.parametrize(
    ("path", "name"), PROTO_REQUIRED, ids=[f"{p}.{n}" for p, n in PROTO_REQUIRED]
)
def test_a_missing_proto_required_field_is_an_error(path: str, name: str) -> None:
    card = broken(V10, lambda c: at(c, path).pop(name))
    field = f"{path}.{name}" if path else name
    only(card, field, "error", "missing")


@pytest.mark.parametrize(
    ("name", "empty"),
    [
        ("name", ""),
        ("description", "  "),
        ("version", ""),
        ("supportedInterfaces", []),
        ("defaultInputModes", []),
        ("defaultOutputModes", []),
        ("skills", []),
    ],
)
def test_an_empty_required_field_is_an_error(name: str, empty: object) -> None:
    only(broken(V10, lambda c: c.update({name: empty})), name, "error", "is empty")


def test_empty_capabilities_are_fine() -> None:
    card = broken(V10, lambda c: c.update(capabilities={}))
    assert check_card(card) == []


V03_REQUIRED = [
    "protocolVersion",
    "name",
    "description",
    "url",
    "version",
    "capabilities",
    "defaultInputModes",
    "defaultOutputModes",
    "skills",
]


def test_the_03_required_list_is_the_03_schemas() -> None:
    schema = v03.AgentCard.model_json_schema(by_alias=True)
    # pydantic gives protocolVersion a default; the 0.3 JSON schema lists it as required.
    assert sorted([*schema["required"], "protocolVersion"]) == sorted(V03_REQUIRED)


@pytest.mark.parametrize("name", V03_REQUIRED)
def test_a_missing_03_required_field_is_an_error(name: str) -> None:
    only(broken(V03, lambda c: c.pop(name)), name, "error", "missing", "A2A 0.3")


@pytest.mark.parametrize("name", ["id", "name", "description", "tags"])
def test_a_03_skill_without_a_required_field_is_an_error(name: str) -> None:
    only(broken(V03, lambda c: c["skills"][0].pop(name)), f"skills[0].{name}", "error")


def test_a_misspelled_required_field_is_named_in_the_error() -> None:
    card = broken(V10, lambda c: c.update(skils=c.pop("skills")))
    only(card, "skills", "error", "`skils`", "rename it to `skills`")


def test_a_snake_case_optional_field_is_a_warning() -> None:
    card = broken(V10, lambda c: c.update(icon_url=c.pop("iconUrl")))
    only(card, "icon_url", "warning", "rename it to `iconUrl`")


def test_unrelated_extra_fields_are_ignored() -> None:
    card = broken(V10, lambda c: c.update(protocolVersions=["1.0"], metadata={"team": "x"}))
    assert check_card(card) == []


# --- types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "change", "expected"),
    [
        ("name", lambda c: c.update(name=7), "must be a string"),
        ("skills", lambda c: c.update(skills={"find": {}}), "must be a list"),
        ("capabilities", lambda c: c.update(capabilities=[]), "must be an object"),
        (
            "capabilities.streaming",
            lambda c: c["capabilities"].update(streaming="yes"),
            "must be a boolean",
        ),
        ("defaultInputModes[2]", lambda c: c["defaultInputModes"].append(3), "must be a string"),
        ("skills[0].tags[2]", lambda c: c["skills"][0]["tags"].append(None), "is null"),
        ("skills[0].examples", lambda c: c["skills"][0].update(examples="x"), "must be a list"),
        ("supportedInterfaces[0]", lambda c: c["supportedInterfaces"].insert(0, "x"), "object"),
        ("skills[1]", lambda c: c["skills"].insert(1, 3), "must be an object"),
        ("version", lambda c: c.update(version=2), "is a number"),
    ],
)
def test_a_field_of_the_wrong_type_is_an_error(
    field: str, change: Callable[[Card], object], expected: str
) -> None:
    only(broken(V10, change), field, "error", expected)


def test_a_03_boolean_of_the_wrong_type_is_an_error() -> None:
    card = broken(V03, lambda c: c.update(supportsAuthenticatedExtendedCard="true"))
    only(card, "supportsAuthenticatedExtendedCard", "error", "must be a boolean")


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("defaultInputModes[0]", lambda c: c["defaultInputModes"].__setitem__(0, "text")),
        ("defaultOutputModes[1]", lambda c: c["defaultOutputModes"].__setitem__(1, "JSON")),
        ("skills[0].outputModes[0]", lambda c: c["skills"][0]["outputModes"].__setitem__(0, "")),
    ],
)
def test_a_mode_that_is_not_a_media_type_is_a_warning(
    field: str, change: Callable[[Card], object]
) -> None:
    only(broken(V10, change), field, "warning", "not a media type")


def test_media_types_with_parameters_and_wildcards_are_fine() -> None:
    modes = ["text/plain; charset=utf-8", "image/*", "*/*", "application/vnd.geo+json"]
    assert check_card(broken(V10, lambda c: c.update(defaultInputModes=modes))) == []


# --- interfaces ------------------------------------------------------------------------


def interface(c: Card, index: int = 0) -> dict[str, Any]:
    item: dict[str, Any] = c["supportedInterfaces"][index]
    return item


@pytest.mark.parametrize(
    "url", ["/a2a/v1", "recipes.example.com/a2a", "ftp://recipes.example.com/"]
)
def test_an_interface_url_that_is_not_absolute_http_is_an_error(url: str) -> None:
    card = broken(V10, lambda c: interface(c).update(url=url))
    only(card, "supportedInterfaces[0].url", "error", "not an absolute http(s) URL")


def test_a_grpc_interface_may_give_host_and_port() -> None:
    assert interface(V10, 2) == {
        "url": "grpc.recipes.example.com:443",
        "protocolBinding": "GRPC",
        "protocolVersion": "1.0",
    }
    assert check_card(V10) == []
    card = broken(V10, lambda c: interface(c, 2).update(url="not a url"))
    only(card, "supportedInterfaces[2].url", "error")


def test_an_unknown_binding_is_a_custom_binding_warning() -> None:
    def change(c: Card) -> None:
        interface(c, 3).update(url="wss://recipes.example.com/ws", protocolBinding="WEBSOCKET")

    only(broken(V10, change), "supportedInterfaces[3].protocolBinding", "warning", "custom binding")


def test_a_miscased_binding_names_the_right_spelling() -> None:
    card = broken(V10, lambda c: interface(c, 1).update(protocolBinding="http_json"))
    only(card, "supportedInterfaces[1].protocolBinding", "warning", "write HTTP+JSON")


@pytest.mark.parametrize(("version", "words"), [("2.0", "does not speak"), ("one", "not parse")])
def test_an_interface_version_this_app_does_not_speak_is_a_warning(
    version: str, words: str
) -> None:
    card = broken(V10, lambda c: interface(c, 1).update(protocolVersion=version))
    only(card, "supportedInterfaces[1].protocolVersion", "warning", words)


def test_patch_versions_are_fine() -> None:
    card = broken(V10, lambda c: interface(c, 1).update(protocolVersion="1.0.0"))
    assert check_card(card) == []


def test_no_usable_version_on_any_jsonrpc_or_rest_interface_is_an_error() -> None:
    card = broken(
        V10,
        lambda c: c.update(
            supportedInterfaces=[
                {
                    "url": "https://recipes.example.com/a2a/v1",
                    "protocolBinding": "JSONRPC",
                    "protocolVersion": "0.2.5",
                }
            ]
        ),
    )
    assert pairs(check_card(card)) == [
        ("supportedInterfaces", "error"),
        ("supportedInterfaces[0].protocolVersion", "warning"),
    ]


def test_a_duplicate_interface_is_a_warning() -> None:
    card = broken(V10, lambda c: c["supportedInterfaces"].append(dict(interface(c, 1))))
    only(card, "supportedInterfaces[4]", "warning", "repeats `supportedInterfaces[1]`")


def test_the_same_url_for_two_versions_is_not_a_duplicate() -> None:
    assert interface(V10, 0)["url"] == interface(V10, 3)["url"]
    assert check_card(V10) == []


def test_a_grpc_only_card_is_usable() -> None:
    card = broken(V10, lambda c: c.update(supportedInterfaces=[interface(c, 2)]))
    assert check_card(card) == []  # gRPC is the app's third binding


def test_a_card_with_only_custom_bindings_is_an_error() -> None:
    custom = {
        "url": "wss://x.example.com/ws",
        "protocolBinding": "WEBSOCKET",
        "protocolVersion": "1.0",
    }
    card = broken(V10, lambda c: c.update(supportedInterfaces=[custom]))
    assert pairs(check_card(card)) == [
        ("supportedInterfaces", "error"),
        ("supportedInterfaces[0].protocolBinding", "warning"),
    ]
    assert "(WEBSOCKET) is JSON-RPC, HTTP+JSON or gRPC" in check_card(card)[0].message


def test_plain_http_off_loopback_is_a_warning() -> None:
    card = broken(V10, lambda c: interface(c).update(url="http://recipes.example.com/a2a/v1"))
    only(card, "supportedInterfaces[0].url", "warning", "http://", "recipes.example.com")


@pytest.mark.parametrize(
    "host", ["127.0.0.1:9999", "127.8.0.1", "localhost:8000", "[::1]:9999", "agent.localhost"]
)
def test_plain_http_on_loopback_is_fine(host: str) -> None:
    card = broken(V10, lambda c: interface(c).update(url=f"http://{host}/a2a"))
    assert check_card(card) == []


def test_an_unspecified_listening_address_is_a_warning() -> None:
    card = broken(V10, lambda c: interface(c).update(url="https://0.0.0.0:9999/"))
    only(card, "supportedInterfaces[0].url", "warning", "0.0.0.0", "listening address")


# --- the 0.3 layout ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "severity", "words"),
    [
        ("0.2.5", "error", "older than 0.3"),
        ("latest", "error", "does not parse"),
        ("1.0", "warning", "0.3 layout"),
        ("0.4.0", "warning", "does not speak"),
        ("0.3", "", ""),
    ],
)
def test_the_03_protocol_version(version: str, severity: str, words: str) -> None:
    card = broken(V03, lambda c: c.update(protocolVersion=version))
    if severity:
        only(card, "protocolVersion", severity, words)
    else:
        assert check_card(card) == []


def test_a_03_url_that_is_not_absolute_is_an_error() -> None:
    only(broken(V03, lambda c: c.update(url="/a2a/v1")), "url", "error", "absolute")


def test_a_03_grpc_only_card_is_usable() -> None:
    def change(c: Card) -> None:
        c["preferredTransport"] = "GRPC"
        c["url"] = "grpc.georoute-agent.example.com:443"
        del c["additionalInterfaces"]

    assert [f for f in check_card(broken(V03, change)) if f.severity == "error"] == []


def test_a_03_custom_preferred_transport_is_a_warning() -> None:
    card = broken(V03, lambda c: c.update(preferredTransport="jsonrpc"))
    only(card, "preferredTransport", "warning", "write JSONRPC")


def test_a_03_additional_interface_without_transport_is_an_error() -> None:
    card = broken(V03, lambda c: c["additionalInterfaces"][1].pop("transport"))
    only(card, "additionalInterfaces[1].transport", "error", "missing")


def test_a_03_duplicate_additional_interface_is_a_warning() -> None:
    card = broken(V03, lambda c: c["additionalInterfaces"].append(c["additionalInterfaces"][2]))
    only(card, "additionalInterfaces[3]", "warning", "repeats")


def test_plain_http_off_loopback_in_a_03_card_is_a_warning() -> None:
    card = broken(V03, lambda c: c.update(url="http://georoute-agent.example.com/a2a/v1"))
    only(card, "url", "warning", "http://")


def test_a_card_with_neither_layout_is_judged_as_10() -> None:
    card = broken(V10, lambda c: c.pop("supportedInterfaces"))
    only(card, "supportedInterfaces", "error", "A2A 1.0")


# --- skills -------------------------------------------------------------------------------


def test_duplicate_skill_ids_are_an_error() -> None:
    card = broken(V10, lambda c: c["skills"][1].update(id="find"))
    only(card, "skills[1].id", "error", "'find'", "`skills[0]`", "unique")


def test_a_skill_without_tags_entries_is_an_error() -> None:
    only(broken(V10, lambda c: c["skills"][0].update(tags=[])), "skills[0].tags", "error", "empty")


# --- security -----------------------------------------------------------------------------


def test_a_requirement_naming_an_undeclared_scheme_is_an_error() -> None:
    card = broken(V10, lambda c: c["securityRequirements"].append({"schemes": {"basic": {}}}))
    only(card, "securityRequirements[3]", "error", "'basic'", "securitySchemes")


def test_a_skill_requirement_naming_an_undeclared_scheme_is_an_error() -> None:
    card = broken(V10, lambda c: c["securitySchemes"].pop("oauth"))
    only(card, "skills[1].securityRequirements[0]", "error", "'oauth'")


def test_a_03_requirement_naming_an_undeclared_scheme_is_an_error() -> None:
    card = broken(V03, lambda c: c["security"].append({"github": []}))
    only(card, "security[1]", "error", "'github'")


def test_a_03_shaped_requirement_in_a_10_card_is_an_error() -> None:
    card = broken(V10, lambda c: c["securityRequirements"].__setitem__(0, {"bearer": []}))
    only(card, "securityRequirements[0]", "error", '"schemes"', "no authentication")


def test_an_empty_requirement_means_no_auth_is_an_option_and_is_fine() -> None:
    card = broken(V10, lambda c: c["securityRequirements"].append({}))
    assert check_card(card) == []


@pytest.mark.parametrize(
    ("scheme", "field", "words"),
    [
        ({}, "securitySchemes.x", "names no scheme type"),
        (
            {
                "httpAuthSecurityScheme": {"scheme": "Basic"},
                "mtlsSecurityScheme": {},
            },
            "securitySchemes.x",
            "declares 2 scheme types",
        ),
        (
            {"apiKeySecurityScheme": {"location": "body", "name": "k"}},
            "securitySchemes.x.apiKeySecurityScheme.location",
            "query, header or cookie",
        ),
        ({"type": "magic"}, "securitySchemes.x.type", "not a known scheme type"),
        (
            {"oauth2SecurityScheme": {"flows": {}}},
            "securitySchemes.x.oauth2SecurityScheme.flows",
            "names no OAuth flow",
        ),
        (
            {"openIdConnectSecurityScheme": {"openIdConnectUrl": "/.well-known/openid"}},
            "securitySchemes.x.openIdConnectSecurityScheme.openIdConnectUrl",
            "not an absolute",
        ),
    ],
)
def test_a_malformed_security_scheme_is_an_error(scheme: Card, field: str, words: str) -> None:
    card = broken(V10, lambda c: c["securitySchemes"].update(x=scheme))
    only(card, field, "error", words)


def test_a_deprecated_oauth_flow_is_a_warning() -> None:
    flows = {"implicit": {"authorizationUrl": "https://auth.example.com/authorize", "scopes": {}}}
    card = broken(
        V10, lambda c: c["securitySchemes"]["oauth"]["oauth2SecurityScheme"].update(flows=flows)
    )
    only(card, "securitySchemes.oauth.oauth2SecurityScheme.flows.implicit", "warning", "deprecated")


def test_an_oauth_token_url_over_plain_http_is_a_warning() -> None:
    def change(c: Card) -> None:
        flow = c["securitySchemes"]["oauth"]["oauth2SecurityScheme"]["flows"]["authorizationCode"]
        flow["tokenUrl"] = "http://auth.example.com/token"

    field = "securitySchemes.oauth.oauth2SecurityScheme.flows.authorizationCode.tokenUrl"
    only(broken(V10, change), field, "warning", "unencrypted")


def test_several_oauth_flows_which_a2a_sdk_rejects_are_an_error() -> None:
    flows = {
        "clientCredentials": {"tokenUrl": "https://auth.example.com/token", "scopes": {}},
        "authorizationCode": {
            "authorizationUrl": "https://auth.example.com/authorize",
            "tokenUrl": "https://auth.example.com/token",
            "scopes": {},
        },
    }
    scheme = {"type": "oauth2", "flows": flows}
    card = broken(V03, lambda c: c["securitySchemes"].update(oauth=scheme))
    v03.AgentCard.model_validate(card)  # valid 0.3...
    with pytest.raises(Exception, match="oneof"):
        parse_agent_card(copy.deepcopy(card))  # ...but a2a-sdk cannot load it
    only(card, "securitySchemes.oauth.flows", "error", "2 OAuth flows", "a2a-sdk")


def test_a_03_api_key_scheme_needs_its_location() -> None:
    scheme = {"type": "apiKey", "name": "X-API-Key"}
    card = broken(V03, lambda c: c["securitySchemes"].update(key=scheme))
    only(card, "securitySchemes.key.in", "error", "missing")


# --- capabilities, provider, links, signatures ------------------------------------------


def test_an_extended_card_without_security_schemes_is_a_warning() -> None:
    def change(c: Card) -> None:
        for key in ("securitySchemes", "securityRequirements"):
            del c[key]
        del c["skills"][1]["securityRequirements"]

    only(broken(V10, change), "capabilities.extendedAgentCard", "warning", "securitySchemes")


def test_a_03_extended_card_without_security_schemes_is_a_warning() -> None:
    def change(c: Card) -> None:
        del c["securitySchemes"], c["security"]

    only(broken(V03, change), "supportsAuthenticatedExtendedCard", "warning", "securitySchemes")


def test_a_required_extension_is_a_warning() -> None:
    card = broken(V10, lambda c: c["capabilities"]["extensions"][0].update(required=True))
    only(card, "capabilities.extensions[0].required", "warning", "citations/v1", "required")


def test_an_extension_without_uri_is_a_warning_in_10_and_an_error_in_03() -> None:
    card = broken(V10, lambda c: c["capabilities"]["extensions"][0].pop("uri"))
    only(card, "capabilities.extensions[0].uri", "warning", "no uri")
    card = broken(V03, lambda c: c["capabilities"].update(extensions=[{"description": "x"}]))
    only(card, "capabilities.extensions[0].uri", "error", "missing")


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("provider.url", lambda c: c["provider"].update(url="foods.example.com")),
        ("documentationUrl", lambda c: c.update(documentationUrl="docs/recipes")),
        ("iconUrl", lambda c: c.update(iconUrl="icon.png")),
    ],
)
def test_an_informational_url_that_is_not_absolute_is_a_warning(
    field: str, change: Callable[[Card], object]
) -> None:
    only(broken(V10, change), field, "warning", "not an absolute http(s) URL")


def test_a_data_url_icon_is_fine() -> None:
    card = broken(V10, lambda c: c.update(iconUrl="data:image/png;base64,iVBORw0KGgo="))
    assert check_card(card) == []


def test_an_empty_signature_is_an_error() -> None:
    card = broken(V10, lambda c: c["signatures"][0].update(signature=""))
    only(card, "signatures[0].signature", "error", "empty")


# --- card_differences -----------------------------------------------------------------------


def test_the_demo_agents_extended_card_adds_the_admin_skill() -> None:
    card = build_agent_card("http://127.0.0.1:9999", auth=DemoAuth(bearer_token="t"))
    public, extended = MessageToDict(card), MessageToDict(build_extended_agent_card(card))
    differences = card_differences(public, extended)
    assert [d.split(" ")[0] for d in differences] == ["Extends", "Adds"]
    assert differences[0].startswith('Extends the description with "')
    assert differences[1].startswith('Adds the skill "Admin report": ')


def test_identical_cards_have_no_differences() -> None:
    assert card_differences(V10, copy.deepcopy(V10)) == []
    assert card_differences(V03, copy.deepcopy(V03)) == []


def test_card_differences_says_what_the_extended_card_adds_and_changes() -> None:
    def extend(c: Card) -> None:
        c["name"] = "Recipe Agent (Pro)"
        c["description"] = "Finds, adapts and plans recipes."
        c["supportedInterfaces"].append(
            {
                "url": "https://pro.recipes.example.com/a2a",
                "protocolBinding": "HTTP+JSON",
                "protocolVersion": "1.0",
            }
        )
        c["version"] = "2.2.0"
        c["capabilities"].update(streaming=False, pushNotifications=True)
        c["capabilities"]["extensions"].append({"uri": "https://example.com/ext/units/v1"})
        c["securitySchemes"]["mtls"] = {"mtlsSecurityScheme": {}}
        c["defaultInputModes"].append("image/png")
        c["skills"][0]["description"] = "Finds recipes, including your saved ones."
        c["skills"].pop(1)
        c["skills"].append(
            {"id": "plan", "name": "Plan the week", "description": "Plans meals.", "tags": ["x"]}
        )
        c["documentationUrl"] = "https://docs.example.com/recipes/pro"
        del c["iconUrl"]
        c["x-tier"] = "pro"

    assert card_differences(V10, broken(V10, extend)) == [
        'Changes the name from "Recipe Agent" to "Recipe Agent (Pro)".',
        'Changes the description to "Finds, adapts and plans recipes.".',
        "Adds the HTTP+JSON interface at https://pro.recipes.example.com/a2a (A2A 1.0).",
        'Changes the agent version from "2.1.0" to "2.2.0".',
        "Turns off the streaming capability.",
        "Adds the push notifications capability.",
        "Adds the extension https://example.com/ext/units/v1.",
        'Adds the security scheme "mtls".',
        "Accepts more input media types: image/png.",
        'Changes the skill "Find recipes" (description).',
        'Adds the skill "Plan the week": Plans meals.',
        'Leaves out the skill "Adapt a recipe", which the public card lists.',
        'Changes `documentationUrl` from "https://docs.example.com/recipes" to '
        '"https://docs.example.com/recipes/pro".',
        'Adds `x-tier`: "pro".',
        "Drops `iconUrl`.",
    ]


def test_card_differences_compares_a_03_card_with_a_10_card_in_the_10_form() -> None:
    as_10 = MessageToDict(parse_agent_card(copy.deepcopy(V03)))
    as_10["skills"].append(
        {"id": "eta", "name": "Arrival times", "description": "Predicts ETAs.", "tags": ["maps"]}
    )
    assert card_differences(V03, as_10) == ['Adds the skill "Arrival times": Predicts ETAs.']
    # Without the conversion, the layouts alone would differ (url vs supportedInterfaces).
    assert "url" in V03 and "url" not in as_10


# --- the order users see ----------------------------------------------------------------
# Whole cards broken in many ways at once, and every finding they produce, word for word
# and in order (errors first, then warnings, each in the card's field order): the sidebar
# shows them in this order, so a refactor of the checks must not reorder or reword them.


def many_problems_10() -> Card:
    """A 1.0 card with something wrong in every top-level field."""
    card = copy.deepcopy(V10)
    card["name"] = 7
    card["descripton"] = card.pop("description")  # a misspelled required field
    card["supportedInterfaces"] = [
        "x",
        {
            "url": "http://agent.example.com/a2a",
            "protocolBinding": "jsonrpc",
            "protocolVersion": "2.0",
        },
        {"url": "/rest", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
        {"url": "https://0.0.0.0:9999/", "protocolBinding": "WEBSOCKET", "protocolVersion": "one"},
        {
            "url": "http://agent.example.com/a2a",
            "protocolBinding": "jsonrpc",
            "protocolVersion": "2.0",
        },
        {"url": "https://agent.example.com/rest", "protocolBinding": "HTTP+JSON"},
        {
            "url": "https://agent.example.com/old",
            "protocolBinding": "HTTP+JSON",
            "protocolVersion": "0.2",
        },
    ]
    card["supportedInterfaces"][5]["protocolVersion"] = 1  # mistyped: read as 1.0
    card["provider"] = {"organization": "", "url": "example.com"}
    del card["version"]
    card["documentationUrl"] = "docs"
    card["capabilities"] = {
        "streaming": "yes",
        "extendedAgentCard": True,
        "extensions": [{"description": "x"}, {"uri": "urn:x", "required": True}, 5],
    }
    card["securitySchemes"] = {
        "a": {},
        "b": {"apiKeySecurityScheme": {"location": "body"}},
        "c": {
            "oauth2SecurityScheme": {
                "flows": {
                    "implicit": {"authorizationUrl": "http://auth.example.com/a"},
                    "password": {"tokenUrl": "/token", "scopes": []},
                }
            }
        },
        "d": {"type": "magic"},
        "e": "nope",
        "f": {
            "openIdConnectSecurityScheme": {"openIdConnectUrl": "https://0.0.0.0/x"},
            "httpAuthSecurityScheme": {"scheme": "Basic"},
        },
        "g": {"type": "http"},
        "h": {
            "oauth2SecurityScheme": {"flows": {}, "oauth2MetadataUrl": "http://meta.example.com/x"}
        },
    }
    card["securityRequirements"] = [
        {"bearer": []},
        {"schemes": {"b": {"list": ["x", 3]}, "zzz": {}}},
        {},
        {"schemes": []},
        "s",
    ]
    card["security"] = [{"b": "not a list"}, {"nope": []}]
    card["defaultInputModes"] = ["text", 3]
    card["default_output_modes"] = card.pop("defaultOutputModes")
    card["skills"] = [
        {"id": "a", "name": "A", "description": "d", "tags": []},
        {
            "id": "a",
            "name": "",
            "tags": ["x", 2],
            "examples": "x",
            "inputModes": ["bad"],
            "securityRequirements": [{"schemes": {"nope": {}}}],
        },
        3,
    ]
    card["signatures"] = [{"protected": "", "header": []}]
    card["icon_url"] = card.pop("iconUrl")
    return card


def many_problems_03() -> Card:
    """A legacy 0.3 card with something wrong in most top-level fields."""
    card = copy.deepcopy(V03)
    card["protocolVersion"] = "0.4.0"
    card["url"] = "http://georoute-agent.example.com/a2a/v1"
    card["preferredTransport"] = "jsonrpc"
    card["additionalInterfaces"] = [
        {"url": "https://georoute-agent.example.com/a2a/v1", "transport": "JSONRPC"},
        {"url": "grpc.example.com:443", "transport": "GRPC"},
        {"url": "https://georoute-agent.example.com/a2a/x"},
        {"url": "https://georoute-agent.example.com/a2a/v1", "transport": "JSONRPC"},
        {"url": "ftp://georoute-agent.example.com/", "transport": "FTP"},
    ]
    del card["provider"]["organization"]
    del card["securitySchemes"]
    card["security"] = [{"google": ["openid", 3]}]
    card["capabilities"] = {
        "streaming": True,
        "extendedAgentCard": "ignored in 0.3",
        "stateTransitionHistory": "no",
        "extensions": [{"description": "x", "required": True}],
    }
    del card["skills"][0]["tags"]
    card["skills"][1]["security"] = [{"github": []}]
    card["Version"] = card.pop("version")  # a miscased required field
    card["signatures"] = [{"protected": "x"}]
    card["iconUrl"] = "icon.png"
    return card


def no_usable_interface_10() -> Card:
    """A 1.0 card this app cannot call: a too-old JSON-RPC interface and gRPC."""
    card = copy.deepcopy(V10)
    card["supportedInterfaces"] = [
        {
            "url": "https://recipes.example.com/a2a/v1",
            "protocolBinding": "JSONRPC",
            "protocolVersion": "0.2.5",
        },
        {
            "url": "grpc.recipes.example.com:443",
            "protocolBinding": "GRPC",
            "protocolVersion": "0.2",
        },
    ]
    card["documentation_url"] = card.pop("documentationUrl")
    return card


def no_usable_interface_03() -> Card:
    """A 0.3 layout claiming 1.0, offering custom bindings only."""
    card = copy.deepcopy(V03)
    card["protocolVersion"] = "1.0"
    card["url"] = "mqtts://georoute-agent.example.com:8883"
    card["preferredTransport"] = "MQTT"
    card["additionalInterfaces"] = [
        {"url": "wss://georoute-agent.example.com/ws", "transport": "WEBSOCKET"}
    ]
    card["default_input_modes"] = card.pop("defaultInputModes")
    card["documentation_url"] = card.pop("documentationUrl")
    return card


PINNED_CARDS: dict[str, Callable[[], Any]] = {
    "demo agent": demo_card,
    "demo agent with auth": lambda: demo_card(auth=DemoAuth(bearer_token="t", api_key="k")),
    "0.3 spec sample": lambda: copy.deepcopy(V03),
    "legacy 0.3 with many problems": many_problems_03,
    "1.0 with many problems": many_problems_10,
    "1.0 with no usable interface": no_usable_interface_10,
    "0.3 with no usable interface": no_usable_interface_03,
    "empty object": dict,
    "not an object": lambda: ["not", "a", "card"],
}

PINNED_FINDINGS: dict[str, list[tuple[str, str, str]]] = {
    "demo agent": [],
    "demo agent with auth": [],
    "0.3 spec sample": [],
    "legacy 0.3 with many problems": [
        (
            "error",
            "additionalInterfaces[2].transport",
            "`additionalInterfaces[2].transport` is missing, but the A2A 0.3 "
            "spec requires it; set it to JSONRPC, HTTP+JSON or GRPC.",
        ),
        (
            "error",
            "provider.organization",
            "`provider.organization` is missing, but the A2A 0.3 spec requires "
            "it; give the provider's name.",
        ),
        (
            "error",
            "version",
            "`version` is missing but the card has `Version`; rename it to "
            "`version`, the field name the A2A 0.3 spec uses.",
        ),
        (
            "error",
            "capabilities.stateTransitionHistory",
            "`capabilities.stateTransitionHistory` is a string but must be a "
            "boolean; fix its type in the card's JSON.",
        ),
        (
            "error",
            "capabilities.extensions[0].uri",
            "`capabilities.extensions[0].uri` is missing, but the A2A 0.3 spec "
            "requires it; give the extension's URI.",
        ),
        (
            "error",
            "security[0].google[1]",
            "`security[0].google[1]` is a number but must be a string; fix its "
            "type in the card's JSON.",
        ),
        (
            "error",
            "security[0]",
            "`security[0]` names the security scheme 'google', which "
            "securitySchemes does not declare; declare it there or fix the "
            "name.",
        ),
        (
            "error",
            "skills[0].tags",
            "`skills[0].tags` is missing, but the A2A 0.3 spec requires it; "
            "add at least one keyword describing the skill.",
        ),
        (
            "error",
            "skills[1].security[0]",
            "`skills[1].security[0]` names the security scheme 'github', which "
            "securitySchemes does not declare; declare it there or fix the "
            "name.",
        ),
        (
            "error",
            "signatures[0].signature",
            "`signatures[0].signature` is missing, but the A2A 0.3 spec "
            "requires it; give the base64url signature.",
        ),
        (
            "warning",
            "protocolVersion",
            "`protocolVersion` is '0.4.0', which this app does not speak (it "
            'speaks 1.0 and 0.3); publish "0.3.0" if the agent follows the 0.3 '
            "spec.",
        ),
        (
            "warning",
            "url",
            "`url` uses plain http:// on georoute-agent.example.com, so "
            "messages and credentials travel unencrypted; serve it over https "
            "(the spec requires TLS in production).",
        ),
        (
            "warning",
            "preferredTransport",
            "`preferredTransport` is 'jsonrpc', which clients treat as a "
            "custom binding; write JSONRPC (binding names are case-sensitive).",
        ),
        (
            "warning",
            "additionalInterfaces[3]",
            "`additionalInterfaces[3]` repeats `additionalInterfaces[0]` "
            "(JSONRPC at https://georoute-agent.example.com/a2a/v1); remove "
            "the duplicate interface.",
        ),
        (
            "warning",
            "additionalInterfaces[4].transport",
            "`additionalInterfaces[4].transport` is the custom binding 'FTP', "
            "which this app cannot use; document it, and also offer JSONRPC or "
            "HTTP+JSON for standard clients.",
        ),
        (
            "warning",
            "capabilities.extensions[0].required",
            "The agent requires the extension (no uri), which this app does "
            "not implement, so it may reject the app's requests; mark it "
            "required: false if clients without it can still be served.",
        ),
        (
            "warning",
            "supportsAuthenticatedExtendedCard",
            "The card offers an extended agent card but declares no "
            "securitySchemes, and the spec requires that request to be "
            "authenticated; declare the scheme clients must use.",
        ),
        (
            "warning",
            "iconUrl",
            "`iconUrl` is 'icon.png', not an absolute http(s) URL; publish the "
            "full URL so clients can open it.",
        ),
    ],
    "1.0 with many problems": [
        (
            "error",
            "name",
            "`name` is a number but must be a string; fix its type in the card's JSON.",
        ),
        (
            "error",
            "description",
            "`description` is missing but the card has `descripton`; rename it "
            "to `description`, the field name the A2A 1.0 spec uses.",
        ),
        (
            "error",
            "supportedInterfaces[0]",
            "`supportedInterfaces[0]` is a string but must be an object; fix "
            "its type in the card's JSON.",
        ),
        (
            "error",
            "supportedInterfaces[2].url",
            "`supportedInterfaces[2].url` is '/rest', not an absolute http(s) "
            "URL; publish the full URL, such as https://agent.example.com/a2a.",
        ),
        (
            "error",
            "supportedInterfaces[5].protocolVersion",
            "`supportedInterfaces[5].protocolVersion` is a number but must be "
            "a string; fix its type in the card's JSON.",
        ),
        (
            "error",
            "provider.organization",
            "`provider.organization` is empty, but the A2A 1.0 spec requires a "
            "value; give the provider's name.",
        ),
        (
            "error",
            "version",
            "`version` is missing, but the A2A 1.0 spec requires it; add the "
            'agent\'s own version, such as "1.0.0".',
        ),
        (
            "error",
            "capabilities.streaming",
            "`capabilities.streaming` is a string but must be a boolean; fix "
            "its type in the card's JSON.",
        ),
        (
            "error",
            "capabilities.extensions[2]",
            "`capabilities.extensions[2]` is a number but must be an object; "
            "fix its type in the card's JSON.",
        ),
        (
            "error",
            "securitySchemes.a",
            "`securitySchemes.a` names no scheme type; give exactly one of "
            "apiKeySecurityScheme, httpAuthSecurityScheme, "
            "oauth2SecurityScheme, openIdConnectSecurityScheme, "
            "mtlsSecurityScheme.",
        ),
        (
            "error",
            "securitySchemes.b.apiKeySecurityScheme.location",
            "`securitySchemes.b.apiKeySecurityScheme.location` is 'body'; use "
            "query, header or cookie.",
        ),
        (
            "error",
            "securitySchemes.b.apiKeySecurityScheme.name",
            "`securitySchemes.b.apiKeySecurityScheme.name` is missing, but the "
            "A2A 1.0 spec requires it; give the name of the header, query or "
            "cookie parameter that carries the key.",
        ),
        (
            "error",
            "securitySchemes.c.oauth2SecurityScheme.flows",
            "`securitySchemes.c.oauth2SecurityScheme.flows` declares 2 OAuth "
            "flows (implicit, password), which a2a-sdk (and so this app) "
            "cannot load; keep one flow per scheme.",
        ),
        (
            "error",
            "securitySchemes.c.oauth2SecurityScheme.flows.password.tokenUrl",
            "`securitySchemes.c.oauth2SecurityScheme.flows.password.tokenUrl` "
            "is '/token', not an absolute http(s) URL; publish the full URL so "
            "clients can authenticate.",
        ),
        (
            "error",
            "securitySchemes.c.oauth2SecurityScheme.flows.password.scopes",
            "`securitySchemes.c.oauth2SecurityScheme.flows.password.scopes` is "
            "a list but must be an object; fix its type in the card's JSON.",
        ),
        (
            "error",
            "securitySchemes.d.type",
            '`securitySchemes.d.type` is "magic", not a known scheme type; use '
            "one of apiKey, http, oauth2, openIdConnect, mutualTLS.",
        ),
        (
            "error",
            "securitySchemes.e",
            "`securitySchemes.e` is a string but must be an object; fix its "
            "type in the card's JSON.",
        ),
        (
            "error",
            "securitySchemes.f",
            "`securitySchemes.f` declares 2 scheme types "
            "(httpAuthSecurityScheme, openIdConnectSecurityScheme); give "
            "exactly one of apiKeySecurityScheme, httpAuthSecurityScheme, "
            "oauth2SecurityScheme, openIdConnectSecurityScheme, "
            "mtlsSecurityScheme.",
        ),
        (
            "error",
            "securitySchemes.g.scheme",
            "`securitySchemes.g.scheme` is missing, but the A2A 1.0 spec "
            "requires it; give the HTTP authentication scheme, such as "
            '"Bearer".',
        ),
        (
            "error",
            "securitySchemes.h.oauth2SecurityScheme.flows",
            "`securitySchemes.h.oauth2SecurityScheme.flows` names no OAuth "
            "flow; add one of authorizationCode, clientCredentials, "
            "deviceCode, implicit, password.",
        ),
        (
            "error",
            "securityRequirements[0]",
            '`securityRequirements[0]` has no "schemes" object, so a2a-sdk '
            'reads it as "no authentication needed"; write it as {"schemes": '
            '{"<name>": {"list": ["<scope>"]}}}.',
        ),
        (
            "error",
            "securityRequirements[1].schemes.b.list[1]",
            "`securityRequirements[1].schemes.b.list[1]` is a number but must "
            "be a string; fix its type in the card's JSON.",
        ),
        (
            "error",
            "securityRequirements[1]",
            "`securityRequirements[1]` names the security scheme 'zzz', which "
            "securitySchemes does not declare; declare it there or fix the "
            "name.",
        ),
        (
            "error",
            "securityRequirements[3].schemes",
            "`securityRequirements[3].schemes` is a list but must be an "
            "object; fix its type in the card's JSON.",
        ),
        (
            "error",
            "securityRequirements[4]",
            "`securityRequirements[4]` is a string but must be an object; fix "
            "its type in the card's JSON.",
        ),
        (
            "error",
            "security[0].b",
            "`security[0].b` is a string but must be a list; fix its type in the card's JSON.",
        ),
        (
            "error",
            "security[1]",
            "`security[1]` names the security scheme 'nope', which "
            "securitySchemes does not declare; declare it there or fix the "
            "name.",
        ),
        (
            "error",
            "defaultInputModes[1]",
            "`defaultInputModes[1]` is a number but must be a string; fix its "
            "type in the card's JSON.",
        ),
        (
            "error",
            "defaultOutputModes",
            "`defaultOutputModes` is missing but the card has "
            "`default_output_modes`; rename it to `defaultOutputModes`, the "
            "field name the A2A 1.0 spec uses.",
        ),
        (
            "error",
            "skills[0].tags",
            "`skills[0].tags` is empty, but the A2A 1.0 spec requires a value; "
            "add at least one keyword describing the skill.",
        ),
        (
            "error",
            "skills[1].name",
            "`skills[1].name` is empty, but the A2A 1.0 spec requires a value; "
            "give the skill a human-readable name.",
        ),
        (
            "error",
            "skills[1].description",
            "`skills[1].description` is missing, but the A2A 1.0 spec requires "
            "it; say what the skill does.",
        ),
        (
            "error",
            "skills[1].tags[1]",
            "`skills[1].tags[1]` is a number but must be a string; fix its "
            "type in the card's JSON.",
        ),
        (
            "error",
            "skills[1].examples",
            "`skills[1].examples` is a string but must be a list; fix its type in the card's JSON.",
        ),
        (
            "error",
            "skills[1].securityRequirements[0]",
            "`skills[1].securityRequirements[0]` names the security scheme "
            "'nope', which securitySchemes does not declare; declare it there "
            "or fix the name.",
        ),
        (
            "error",
            "skills[1].id",
            "The skill id 'a' is also used by `skills[0]`; give each skill a unique id.",
        ),
        (
            "error",
            "skills[2]",
            "`skills[2]` is a number but must be an object; fix its type in the card's JSON.",
        ),
        (
            "error",
            "signatures[0].protected",
            "`signatures[0].protected` is empty, but the A2A 1.0 spec requires "
            "a value; give the base64url JWS header.",
        ),
        (
            "error",
            "signatures[0].signature",
            "`signatures[0].signature` is missing, but the A2A 1.0 spec "
            "requires it; give the base64url signature.",
        ),
        (
            "error",
            "signatures[0].header",
            "`signatures[0].header` is a list but must be an object; fix its "
            "type in the card's JSON.",
        ),
        (
            "warning",
            "supportedInterfaces[1].url",
            "`supportedInterfaces[1].url` uses plain http:// on "
            "agent.example.com, so messages and credentials travel "
            "unencrypted; serve it over https (the spec requires TLS in "
            "production).",
        ),
        (
            "warning",
            "supportedInterfaces[1].protocolBinding",
            "`supportedInterfaces[1].protocolBinding` is 'jsonrpc', which "
            "clients treat as a custom binding; write JSONRPC (binding names "
            "are case-sensitive).",
        ),
        (
            "warning",
            "supportedInterfaces[1].protocolVersion",
            "`supportedInterfaces[1].protocolVersion` is '2.0', a protocol "
            "version this app does not speak (it speaks 1.0 and 0.3); declare "
            '"1.0" or "0.3" if the interface follows them.',
        ),
        (
            "warning",
            "supportedInterfaces[3].url",
            "`supportedInterfaces[3].url` uses 0.0.0.0, a listening address "
            "clients cannot reliably reach; publish the host name or IP "
            "address clients should use.",
        ),
        (
            "warning",
            "supportedInterfaces[3].protocolBinding",
            "`supportedInterfaces[3].protocolBinding` is the custom binding "
            "'WEBSOCKET', which this app cannot use; document it, and also "
            "offer JSONRPC or HTTP+JSON for standard clients.",
        ),
        (
            "warning",
            "supportedInterfaces[3].protocolVersion",
            "`supportedInterfaces[3].protocolVersion` is 'one', which does not "
            'parse as a version, so a2a-sdk skips this interface; use "1.0" or '
            '"0.3".',
        ),
        (
            "warning",
            "supportedInterfaces[4].url",
            "`supportedInterfaces[4].url` uses plain http:// on "
            "agent.example.com, so messages and credentials travel "
            "unencrypted; serve it over https (the spec requires TLS in "
            "production).",
        ),
        (
            "warning",
            "supportedInterfaces[4].protocolBinding",
            "`supportedInterfaces[4].protocolBinding` is 'jsonrpc', which "
            "clients treat as a custom binding; write JSONRPC (binding names "
            "are case-sensitive).",
        ),
        (
            "warning",
            "supportedInterfaces[4].protocolVersion",
            "`supportedInterfaces[4].protocolVersion` is '2.0', a protocol "
            "version this app does not speak (it speaks 1.0 and 0.3); declare "
            '"1.0" or "0.3" if the interface follows them.',
        ),
        (
            "warning",
            "supportedInterfaces[4]",
            "`supportedInterfaces[4]` repeats `supportedInterfaces[1]` "
            "(jsonrpc at http://agent.example.com/a2a); remove the duplicate "
            "interface.",
        ),
        (
            "warning",
            "supportedInterfaces[6].protocolVersion",
            "`supportedInterfaces[6].protocolVersion` is '0.2', a protocol "
            "version this app does not speak (it speaks 1.0 and 0.3); declare "
            '"1.0" or "0.3" if the interface follows them.',
        ),
        (
            "warning",
            "provider.url",
            "`provider.url` is 'example.com', not an absolute http(s) URL; "
            "publish the full URL so clients can open it.",
        ),
        (
            "warning",
            "documentationUrl",
            "`documentationUrl` is 'docs', not an absolute http(s) URL; "
            "publish the full URL so clients can open it.",
        ),
        (
            "warning",
            "capabilities.extensions[0].uri",
            "`capabilities.extensions[0]` has no uri, so clients cannot tell "
            "which extension it is; give the extension's URI.",
        ),
        (
            "warning",
            "capabilities.extensions[1].required",
            "The agent requires the extension urn:x, which this app does not "
            "implement, so it may reject the app's requests; mark it required: "
            "false if clients without it can still be served.",
        ),
        (
            "warning",
            "securitySchemes.c.oauth2SecurityScheme.flows.implicit",
            "The implicit OAuth flow is deprecated in A2A 1.0; use "
            "authorizationCode with PKCE, or deviceCode.",
        ),
        (
            "warning",
            "securitySchemes.c.oauth2SecurityScheme.flows.implicit.authorizationUrl",
            "`securitySchemes.c.oauth2SecurityScheme.flows.implicit.authorizationUrl` "
            "uses plain http:// on auth.example.com, so messages and "
            "credentials travel unencrypted; serve it over https (the spec "
            "requires TLS in production).",
        ),
        (
            "warning",
            "securitySchemes.c.oauth2SecurityScheme.flows.password",
            "The password OAuth flow is deprecated in A2A 1.0; use "
            "authorizationCode with PKCE, or deviceCode.",
        ),
        (
            "warning",
            "securitySchemes.h.oauth2SecurityScheme.oauth2MetadataUrl",
            "`securitySchemes.h.oauth2SecurityScheme.oauth2MetadataUrl` uses "
            "plain http:// on meta.example.com, so messages and credentials "
            "travel unencrypted; serve it over https (the spec requires TLS in "
            "production).",
        ),
        (
            "warning",
            "defaultInputModes[0]",
            "`defaultInputModes[0]` is 'text', which is not a media type; use "
            "a MIME type such as text/plain or application/json.",
        ),
        (
            "warning",
            "skills[1].inputModes[0]",
            "`skills[1].inputModes[0]` is 'bad', which is not a media type; "
            "use a MIME type such as text/plain or application/json.",
        ),
        (
            "warning",
            "icon_url",
            "`icon_url` is not a field name the A2A 1.0 spec uses, so clients "
            "may ignore it; rename it to `iconUrl` if that is what you meant.",
        ),
    ],
    "1.0 with no usable interface": [
        (
            "error",
            "supportedInterfaces",
            "No JSON-RPC, HTTP+JSON or gRPC interface declares a protocol "
            "version this app can use (0.3 or later), so a2a-sdk will not "
            'connect; declare "1.0" or "0.3".',
        ),
        (
            "warning",
            "supportedInterfaces[0].protocolVersion",
            "`supportedInterfaces[0].protocolVersion` is '0.2.5', a protocol "
            "version this app does not speak (it speaks 1.0 and 0.3); declare "
            '"1.0" or "0.3" if the interface follows them.',
        ),
        (
            "warning",
            "supportedInterfaces[1].protocolVersion",
            "`supportedInterfaces[1].protocolVersion` is '0.2', a protocol "
            "version this app does not speak (it speaks 1.0 and 0.3); declare "
            '"1.0" or "0.3" if the interface follows them.',
        ),
        (
            "warning",
            "documentation_url",
            "`documentation_url` is not a field name the A2A 1.0 spec uses, so "
            "clients may ignore it; rename it to `documentationUrl` if that is "
            "what you meant.",
        ),
    ],
    "0.3 with no usable interface": [
        (
            "error",
            "additionalInterfaces",
            "None of the agent's interfaces (MQTT, WEBSOCKET) is JSON-RPC, "
            "HTTP+JSON or gRPC, which this app needs; add one to the card to use "
            "the agent here.",
        ),
        (
            "error",
            "defaultInputModes",
            "`defaultInputModes` is missing but the card has "
            "`default_input_modes`; rename it to `defaultInputModes`, the "
            "field name the A2A 0.3 spec uses.",
        ),
        (
            "warning",
            "protocolVersion",
            "The card claims protocol 1.0 but uses the 0.3 layout (top-level "
            "url); publish supportedInterfaces for 1.0, or set protocolVersion "
            'to "0.3.0".',
        ),
        (
            "warning",
            "preferredTransport",
            "`preferredTransport` is the custom binding 'MQTT', which this app "
            "cannot use; document it, and also offer JSONRPC or HTTP+JSON for "
            "standard clients.",
        ),
        (
            "warning",
            "additionalInterfaces[0].transport",
            "`additionalInterfaces[0].transport` is the custom binding "
            "'WEBSOCKET', which this app cannot use; document it, and also "
            "offer JSONRPC or HTTP+JSON for standard clients.",
        ),
        (
            "warning",
            "documentation_url",
            "`documentation_url` is not a field name the A2A 0.3 spec uses, so "
            "clients may ignore it; rename it to `documentationUrl` if that is "
            "what you meant.",
        ),
    ],
    "empty object": [
        (
            "error",
            "name",
            "`name` is missing, but the A2A 1.0 spec requires it; add a "
            "human-readable name for the agent.",
        ),
        (
            "error",
            "description",
            "`description` is missing, but the A2A 1.0 spec requires it; add a "
            "sentence on what the agent does.",
        ),
        (
            "error",
            "supportedInterfaces",
            "`supportedInterfaces` is missing, but the A2A 1.0 spec requires "
            "it; list at least one interface with url, protocolBinding and "
            "protocolVersion.",
        ),
        (
            "error",
            "version",
            "`version` is missing, but the A2A 1.0 spec requires it; add the "
            'agent\'s own version, such as "1.0.0".',
        ),
        (
            "error",
            "capabilities",
            "`capabilities` is missing, but the A2A 1.0 spec requires it; add "
            "a capabilities object, even an empty one.",
        ),
        (
            "error",
            "defaultInputModes",
            "`defaultInputModes` is missing, but the A2A 1.0 spec requires it; "
            'list the media types the agent accepts, such as ["text/plain"].',
        ),
        (
            "error",
            "defaultOutputModes",
            "`defaultOutputModes` is missing, but the A2A 1.0 spec requires "
            "it; list the media types the agent produces, such as "
            '["text/plain"].',
        ),
        (
            "error",
            "skills",
            "`skills` is missing, but the A2A 1.0 spec requires it; describe "
            "at least one skill with id, name, description and tags.",
        ),
    ],
    "not an object": [
        (
            "error",
            "card",
            "The card is a list, not a JSON object; serve the agent card as a JSON object.",
        ),
    ],
}


@pytest.mark.parametrize("name", PINNED_CARDS)
def test_every_finding_in_order_on_whole_cards(name: str) -> None:
    found = [(w.severity, w.field, w.message) for w in check_card(PINNED_CARDS[name]())]
    assert found == PINNED_FINDINGS[name]
