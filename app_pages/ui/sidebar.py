"""The sidebar every page shares: agents, the agent's card, credentials, loop status."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import streamlit as st

from app_pages.ui.errors import show_error
from app_pages.ui.extensions import render_card_extensions, render_tenant_input
from services import session
from services.client.agent import AgentInfo
from services.client.auth import Credentials, SchemeHint, describe_security
from services.client.signatures import CardSignature
from services.safe_text import plain
from services.store.workspace import AgentEntry

BINDINGS = {
    "": "Automatic (the card's order)",
    "JSONRPC": "JSON-RPC",
    "HTTP+JSON": "HTTP+JSON (REST)",
    "GRPC": "gRPC",
}
_LOOP_COLORS = {"ok": "green", "rebuilt": "blue", "lagging": "orange", "down": "red"}
_SIGNATURE_COLORS = {"verified": "green", "invalid": "red", "unverifiable": "orange"}
# A card can list thousands of skills or findings: the sidebar draws the first few and
# offers the whole card as a download (drawing 5,000 skills froze a page for 85 s).
SKILLS_SHOWN = 12
EXAMPLES_SHOWN = 5
FINDINGS_SHOWN = 30
TEXT_SHOWN = 300


def render_sidebar() -> None:
    with st.sidebar:
        st.subheader("Agent", anchor=False)
        _render_agent_picker()
        entry = session.current_agent()
        info = session.agent_info()
        if error := session.agent_error():
            show_error(error, icon=":material/link_off:")
        if entry is not None and info is not None:
            _render_card(info)
        if entry is not None:
            _render_settings(entry, info)
        if problem := session.store_problem():
            st.warning(plain(problem), icon=":material/cloud_off:")
        _render_loop_status()


def _render_agent_picker() -> None:
    known = session.agents()
    current = session.current_agent()
    if len(known) > 1 and current is not None:
        labels = {a.url: f"{_short(a.label)} · {urlsplit(a.url).netloc}" for a in known}
        session.preset_widget("sidebar_agent_choice", current.url)
        st.selectbox(
            "Agents",
            list(labels),
            format_func=labels.__getitem__,
            key="sidebar_agent_choice",
            on_change=lambda: session.select_agent(session.widget_value("sidebar_agent_choice")),
        )
    with st.form("sidebar_connect", border=False, enter_to_submit=True):
        st.text_input(
            "Agent URL",
            value=current.url if current else "",
            key="sidebar_agent_url",
            help="The agent's base URL (its card is at /.well-known/agent-card.json) "
            "or the card's full URL. A new URL is added to the list.",
        )
        st.form_submit_button(
            "Connect",
            icon=":material/link:",
            on_click=lambda: _connect(session.widget_value("sidebar_agent_url") or ""),
        )


def _connect(url: str) -> None:
    session.connect(url)


def _short(text: str, limit: int = TEXT_SHOWN) -> str:
    """Card text as plain text, cut to `limit` characters."""
    return plain(text if len(text) <= limit else text[: limit - 1] + "…")


def _render_card(info: AgentInfo) -> None:
    with st.container(border=True):
        st.markdown(f"**{_short(info.name)}**  \nversion {_short(info.version or '?', 40)}")
        if info.description:
            st.caption(_short(info.description))
        streaming = "streaming" if info.streaming else "no streaming (polls)"
        st.caption(f"A2A {_short(info.protocol_version, 20)} · {info.binding} · {streaming}")
    _render_card_checks(info)
    render_card_extensions(info)
    if info.skills:
        st.markdown("**Skills** · click an example to send it")
        for index, skill in enumerate(info.skills[:SKILLS_SHOWN]):
            with st.expander(_short(skill.name, 80)):
                if skill.description:
                    st.caption(_short(skill.description))
                for number, example in enumerate(skill.examples[:EXAMPLES_SHOWN]):
                    st.button(
                        _short(example, 200),
                        key=f"sidebar_example_{index}_{number}",
                        on_click=session.queue_prompt,
                        args=(example,),
                        icon=":material/send:",
                    )
        if len(info.skills) > SKILLS_SHOWN:
            st.caption(f"… and {len(info.skills) - SKILLS_SHOWN:,} more skills.")
            _card_download(info)


def _card_download(info: AgentInfo) -> None:
    st.download_button(
        "Download the whole card (JSON)",
        data=lambda: json.dumps(info.raw_card, ensure_ascii=False, indent=1),
        file_name="agent-card.json",
        mime="application/json",
        icon=":material/download:",
        key="sidebar_card_download",
    )


def _render_signature(signature: CardSignature | None) -> None:
    if signature is None:
        return
    if signature.state == "absent":
        st.caption(":gray[unsigned] Card signature: none", help=plain(signature.sentence))
        return
    mark = f":{_SIGNATURE_COLORS[signature.state]}[{signature.state}]"
    if signature.state == "verified":
        text = f"key {_short(signature.key_id, 24)} from {_short(signature.issuer, 80)}"
        st.caption(f"{mark} Card signature: {text}", help=plain(signature.sentence))
    else:  # what to do is the point: say it in full
        st.caption(f"{mark} Card signature: {_short(signature.sentence)}")


def _render_card_checks(info: AgentInfo) -> None:
    errors = [w for w in info.warnings if w.severity == "error"]
    _render_signature(info.signature)
    if not info.warnings:
        st.caption(":green[:material/check_circle:] Card check: no findings")
    if info.warnings:
        label = f"Card check: {len(errors)} error(s), {len(info.warnings) - len(errors)} warning(s)"
        with st.expander(label, icon=":material/rule:"):
            # The messages quote the card (URLs, modes, names): plain text, never markdown.
            for warning in info.warnings[:FINDINGS_SHOWN]:
                mark = ":red[error]" if warning.severity == "error" else ":orange[warning]"
                st.markdown(f"{mark} {_short(warning.field, 120)}: {_short(warning.message)}")
            if len(info.warnings) > FINDINGS_SHOWN:
                st.caption(f"… and {len(info.warnings) - FINDINGS_SHOWN:,} more findings.")
    if info.extended is not None:
        with st.expander("Extended card", icon=":material/verified_user:"):
            changes = info.extended_changes or ("The same as the public card.",)
            for change in changes[:FINDINGS_SHOWN]:
                st.markdown(f"- {_short(change)}")
            if len(changes) > FINDINGS_SHOWN:
                st.caption(f"… and {len(changes) - FINDINGS_SHOWN:,} more differences.")
    elif info.extended_card:
        st.caption(
            _short(info.extended_error)
            if info.extended_error
            else "This agent offers an extended card to authenticated callers: set credentials."
        )


def _render_settings(entry: AgentEntry, info: AgentInfo | None) -> None:
    hints = describe_security(info.card) if info else []
    expects = " or ".join(h.sentence for h in hints)
    label = "Credentials" + (" · required" if any(h.required for h in hints) else "")
    with st.expander(label, icon=":material/key:"):
        if expects:
            st.caption(f"This agent expects {_short(expects)}.")
        _render_credentials_form(entry, hints)
    with st.expander("Connection", icon=":material/settings_ethernet:"):
        key = f"sidebar_binding_{entry.url}"
        session.preset_widget(key, entry.binding if entry.binding in BINDINGS else "")
        st.selectbox(
            "Protocol binding",
            list(BINDINGS),
            format_func=BINDINGS.__getitem__,
            key=key,
            on_change=lambda: session.set_binding(entry.url, session.widget_value(key)),
        )
        render_tenant_input(entry)
        if len(session.agents()) > 1:
            st.button(
                f"Remove {_short(entry.label, 60)}",
                icon=":material/delete:",
                on_click=session.remove_agent,
                args=(entry.url,),
                key="sidebar_remove_agent",
            )


def _render_credentials_form(entry: AgentEntry, hints: list[SchemeHint]) -> None:
    # Secret values never go back to the browser (a password field hides a value from
    # the eye, not from the page): fields start empty, and an empty field keeps what is
    # set, so an operator's token from secrets stays on the server.
    current = entry.credentials
    kept = "set; leave empty to keep it"
    api_header = next((h.header for h in hints if h.kind == "api-key"), current.api_key_header)
    with st.form(f"sidebar_credentials_{entry.url}", border=False):
        token = st.text_input(
            "Bearer token", type="password", key=f"sidebar_token_{entry.url}",
            placeholder=kept if current.bearer_token else "",
        )  # fmt: skip
        header = st.text_input(
            "API key header", value=api_header or "X-API-Key", key=f"sidebar_header_{entry.url}"
        )
        api_key = st.text_input(
            "API key", type="password", key=f"sidebar_key_{entry.url}",
            placeholder=kept if current.api_key else "",
        )  # fmt: skip
        names = ", ".join(name for name, _ in current.headers)
        extra = st.text_area(
            "Other headers",
            placeholder=f"{names}: {kept}" if names else "X-Tenant: acme",
            help="One `Name: value` per line; empty keeps the headers already set.",
            key=f"sidebar_headers_{entry.url}",
        )
        st.caption(
            "Kept in this session's memory only: never written to disk or sent back to "
            "the browser, masked in the inspector, exports and logs, and sent to this "
            "agent's address only."
        )
        if st.form_submit_button("Save and reconnect", icon=":material/save:"):
            headers = tuple(
                (name.strip(), value.strip())
                for name, _, value in (line.partition(":") for line in extra.splitlines())
                if name.strip() and value.strip()
            )
            session.set_credentials(
                entry.url,
                Credentials(
                    token.strip() or current.bearer_token,
                    api_key.strip() or current.api_key,
                    header.strip(),
                    headers or current.headers,
                ),
            )
    if current:
        st.button(
            "Forget these credentials",
            icon=":material/key_off:",
            on_click=session.set_credentials,
            args=(entry.url, Credentials()),
            key=f"sidebar_forget_{entry.url}",
        )


def _render_loop_status() -> None:
    state, text = session.loop_status()
    st.caption(f":{_LOOP_COLORS[state]}[:material/circle:] {text}", help="See Loop health.")
