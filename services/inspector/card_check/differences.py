"""`card_differences`: what an extended agent card adds to or changes in the public one,
a sentence each, for the sidebar to show after the extended card is fetched."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from a2a.client.card_resolver import parse_agent_card
from google.protobuf.json_format import MessageToDict, ParseError

from services.inspector.card_check.checker import LEGACY_MARKERS, card_version
from services.inspector.card_check.interfaces import JSONRPC

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
        *LEGACY_MARKERS,
        "supportedInterfaces",
    )
)


def card_differences(public: Mapping[str, Any], extended: Mapping[str, Any]) -> list[str]:
    """What the extended card adds or changes over the public one, a sentence each, in
    field order. Cards of different layouts (0.3 and 1.0) are compared in the 1.0 form."""
    if not isinstance(public, Mapping) or not isinstance(extended, Mapping):
        return []
    if card_version(public) != card_version(extended):
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
    if card_version(card) == "1.0":
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
