"""Extensions and tenants in the sidebar and the conversation's options."""

from __future__ import annotations

import streamlit as st

from services import session
from services.client.agent import AgentInfo
from services.client.extensions import MAX_TENANT_LENGTH, short_name
from services.safe_text import code, plain
from services.store.workspace import AgentEntry


def render_card_extensions(info: AgentInfo) -> None:
    """The card's extensions (uri, description, required flagged), under the card checks."""
    declared = session.agent_extensions(info)
    if not declared:
        return
    required = sum(e.required for e in declared)
    label = f"Extensions: {len(declared)}" + (f", {required} required" if required else "")
    with st.expander(label, icon=":material/extension:"):
        for extension in declared:
            mark = ":red-badge[required]" if extension.required else ":gray-badge[optional]"
            st.markdown(f"{mark} {code(extension.uri[:300])}")
            if extension.description:
                st.caption(plain(extension.description[:300]))
        st.caption("Activate them per conversation: Chat, Advanced.")


def render_tenant_input(entry: AgentEntry) -> None:
    """The agent's tenant, in the Connection expander."""
    key = f"sidebar_tenant_{entry.url}"
    session.preset_widget(key, entry.tenant)
    st.text_input(
        "Tenant",
        key=key,
        max_chars=MAX_TENANT_LENGTH,
        placeholder="none",
        help="Sent on every request to this agent (A2A's tenant: in JSON-RPC's params, "
        "in the HTTP+JSON path as /{tenant}/...). Empty sends none.",
        on_change=lambda: session.set_tenant(entry.url, session.widget_value(key) or ""),
    )


def render_extension_choice(info: AgentInfo | None) -> None:
    """The conversation's activated extensions, in its Advanced options."""
    current = session.conversation()
    declared = {e.uri: e for e in session.agent_extensions(info)}
    options = list(declared) + [u for u in current.extensions if u not in declared]
    if not options:
        return
    chosen = st.multiselect(
        "Extensions",
        options,
        default=current.extensions,
        format_func=lambda uri: (
            short_name(uri) + (" (required)" if uri in declared and declared[uri].required else "")
        ),
        key=f"chat_extensions_{current.id}",
        help="Activated on every request of this conversation (the A2A-Extensions header).",
    )
    session.set_conversation_extensions(chosen)


def extensions_caption(uris: list[str]) -> str:
    """`extensions: timestamps/v1, audit/v1` for a reply the agent activated them on."""
    return "extensions: " + ", ".join(plain(short_name(u)[:80]) for u in uris[:10])
