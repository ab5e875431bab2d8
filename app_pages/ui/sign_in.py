"""Drawing a sign-in: the form from the card's schemes, what to do next (open the
authorization server, or approve a device code), the token's state, and the timeline."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from app_pages.ui.errors import show_error
from services import session
from services.client.oauth import GRANT_TITLES, GRANTS, SignIn, Step
from services.errors import AppError
from services.safe_text import plain

ICONS = {True: ":material/check_circle:", False: ":material/cancel:"}


def render_status(attempt: SignIn | None) -> None:
    token = attempt.token if attempt else None
    if attempt is None or token is None:
        return
    left = token.expires_in()
    expiry = "no expiry given" if left is None else f"expires in {max(left, 0):.0f} s"
    scopes = " ".join(token.scope) or "no scope named"
    with st.container(border=True):
        st.markdown(
            f":green[:material/verified_user:] **Signed in** with "
            f"{plain(GRANT_TITLES[attempt.grant])} as `{plain(attempt.client_id[:80])}` · "
            f"{expiry} · scopes {plain(scopes[:200])} · "
            f"{'refresh token' if token.refresh_token else 'no refresh token'}"
        )
        st.caption("Refreshed automatically before it expires, before the next request.")
        row = st.container(horizontal=True)
        if row.button("Refresh now", icon=":material/refresh:", key="signin_refresh"):
            _act(session.refresh_sign_in)
        if row.button("Sign out", icon=":material/logout:", key="signin_out"):
            session.sign_out()
            st.rerun()


def render_form(card: Mapping[str, Any], schemes: list[str]) -> None:
    client_id, secret_configured = session.oauth_client_defaults()
    with st.form("signin_form", border=True):
        scheme = st.selectbox("Security scheme (from the card)", schemes, key="signin_scheme")
        grant = st.selectbox(
            "Grant", GRANTS, format_func=GRANT_TITLES.__getitem__, key="signin_grant"
        )
        given_id = st.text_input("Client id", value=client_id, key="signin_client_id")
        secret = st.text_input(
            "Client secret",
            type="password",
            key="signin_client_secret",
            placeholder="from secrets" if secret_configured else "none: a public client",
            help="Kept in this session only; never shown, exported or logged.",
        )
        offered = _scopes(card, scheme)
        scopes = st.multiselect(
            "Scopes",
            offered["all"],
            default=offered["required"],
            accept_new_options=True,
            key="signin_scopes",
            help="The card's requirements are chosen to begin with.",
        )
        cannot_keep = session.can_keep_sign_ins()
        keep = st.checkbox(
            "Keep this sign-in in the workspace (encrypted)",
            key="signin_keep",
            disabled=bool(cannot_keep),
            help=cannot_keep or "Sealed with the deployment's key; a new session uses it too.",
        )
        st.caption(f"Redirect URI (register it for the authorization code grant): "
                   f"`{plain(session.redirect_uri())}`")  # fmt: skip
        if st.form_submit_button("Sign in", type="primary", icon=":material/login:"):
            if _act(
                lambda: session.begin_sign_in(scheme, grant, given_id, secret, scopes, keep=keep)
            ):
                st.rerun()  # the status, the next step and the timeline of this sign-in


def render_next_step(attempt: SignIn) -> None:
    """The authorization server's page to open, or the device code to approve, and a
    poll that notices when the sign-in finished."""
    if attempt.token is not None or not attempt.next_url:
        return
    if attempt.grant == "device_code" and attempt.device is not None:
        device = attempt.device
        st.markdown(
            f"Open the device page and enter the code **`{plain(device.user_code[:40])}`**."
        )
        st.link_button("Open the device page", attempt.next_url, icon=":material/open_in_new:")
        _watch_device(device.interval)
    else:
        st.link_button(
            "Continue at the authorization server",
            attempt.next_url,
            type="primary",
            icon=":material/open_in_new:",
        )
        st.caption("It opens in a new tab and comes back to this app signed in.")
        _watch_redirect()


@st.fragment(run_every=1.0)
def _watch_redirect() -> None:
    if session.take_finished_sign_in():
        st.rerun()


def _watch_device(interval: float) -> None:
    @st.fragment(run_every=max(interval, 1.0))
    def poll() -> None:
        try:
            if session.poll_device_sign_in() is not None:
                st.rerun()
        except AppError as error:
            show_error(error)
        st.caption(f"Waiting for approval… (asked at {time.strftime('%H:%M:%S')})")

    poll()


def render_timeline(attempt: SignIn) -> None:
    st.subheader("Timeline", anchor=False)
    for step in attempt.timeline:
        _render_step(step)


def _render_step(step: Step) -> None:
    when = time.strftime("%H:%M:%S", time.localtime(step.at))
    with st.expander(f"{when} · {step.title}", icon=ICONS[step.ok]):
        if step.sentence:
            (st.caption if step.ok else st.warning)(plain(step.sentence))
        # Masked where it was made; masked again by every secret the session knows.
        shown = json.loads(session.redact(json.dumps(dict(step.detail), default=str)))
        st.json(shown, expanded=2)


def _scopes(card: Mapping[str, Any], scheme: str) -> dict[str, list[str]]:
    raw = (card.get("securitySchemes") or {}).get(scheme) or {}
    flows = (raw.get("oauth2SecurityScheme") or {}).get("flows") or {}
    offered: list[str] = []
    for flow in flows.values():
        offered.extend(k for k in (flow.get("scopes") or {}) if k not in offered)
    required: list[str] = []
    for requirement in card.get("securityRequirements") or ():
        entry = (requirement.get("schemes") or {}).get(scheme)
        if isinstance(entry, dict):
            required.extend(v for v in entry.get("list", []) if v not in required)
    if "openIdConnectSecurityScheme" in raw and "openid" not in required:
        required.insert(0, "openid")
    return {"all": [*required, *(s for s in offered if s not in required)], "required": required}


def _act(action: Any) -> bool:
    """Run `action`; False, with its sentence on the page, if it failed."""
    try:
        action()
    except AppError as error:
        show_error(error)
        return False
    return True
