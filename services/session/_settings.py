"""The deployment's configuration: one `Settings`, read once per session.

Each setting comes from the first of these that has it: the environment (`A2A_` and its
name in capitals, `A2A_AGENT_URL`), then Streamlit secrets (its name, `agent_url`, in
`.streamlit/secrets.toml` or the Cloud app's settings), then its default. An empty
environment variable counts as unset.

- `agent_url`: the agent to talk to; none starts the embedded demo agent.
- `agent_token`: its bearer token; none.
- `agent_client_cert`, `agent_client_key`: its client certificate and key for mutual TLS,
  each PEM text or a PEM file's path; none. `agent_ca_cert`: the CA that signed its
  server certificate, when not a public one; none.
- `agents` (secrets only): more agents, as `[[agents]]` tables; none.
- `allowed_agent_urls`: the agents this deployment may contact; none allows any.
- `public_url`: where agents reach this app's push webhook (`https://app.example.org`);
  empty: the address the browser used, which agents on the same machine can reach.
- `read_timeout`: seconds a stream may stay silent before it ends; 60.
- `max_upload_mb`: the largest file a user may send; 10.
- `inspector_max_streams`: streams the inspector keeps per session; 20.
- `inspector_max_bytes`: bytes it keeps of one stream; 2,000,000.
- `database_url`: where workspaces are kept; a SQLite file in `data_dir`.
- `token_encryption_key`: a Fernet key; with it a user may keep an agent sign-in in the
  workspace, encrypted with it; without it sign-ins last the session only.
- `data_dir` (environment only): that file's folder; `.a2a-streamlit`.
- `max_conversations`: conversations one workspace keeps; 500.
- `max_workspace_mb`: megabytes one workspace keeps; 200.
- `keep_file_mb`: a larger file is kept as its name, type and size; 2.
- `retention_days`: conversations untouched this long are pruned at start-up; none
  (kept for good).

`[[agents]]` entries take url, name, binding, token, api_key, api_key_header, headers,
client_cert, client_key and ca_cert (as the `agent_` settings above), jwks_url
(where the card's signature keys are, instead of the signature's jku) and tenant (sent
on every request to that agent, A2A's `tenant` field); one without a
url is skipped. `allowed_agent_urls` is comma-separated in the environment,
a list (or a comma-separated string) in secrets.

A number that does not parse keeps its default, as it always did, and one sentence naming
the key goes to the log (once per process), so a typo is not silently ignored.

`Settings.load` is pure: it takes the environment and the secrets as plain mappings, so it
can be tested without Streamlit. `settings()` loads it once per session (the bridge used to
re-read secrets on every call): an edited secret applies to the sessions that start after.
`process_settings()` reads it afresh for code that runs outside a session (a route).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from services.inspector.capture import DEFAULT_MAX_BYTES, DEFAULT_MAX_STREAMS
from services.session import _keys as keys

__all__ = ["Settings", "configured_agent_url", "process_settings", "settings"]

_log = logging.getLogger(__name__)
_SECRET_WORDS = ("token", "key", "secret", "password", "header")


@dataclass(frozen=True)
class Settings:
    """The deployment's settings, as read (the module docstring says from where)."""

    agent_url: str = ""
    # Secret, or may hold one (a token, a password in a URL): kept out of the repr.
    agent_token: str = field(default="", repr=False)
    # PEM text or paths; the key is a secret (`session._resources` masks it everywhere).
    agent_client_cert: str = field(default="", repr=False)
    agent_client_key: str = field(default="", repr=False)
    agent_ca_cert: str = field(default="", repr=False)
    agents: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    allowed_agent_urls: tuple[str, ...] = ()
    public_url: str = ""
    read_timeout: int = 60
    max_upload_mb: int = 10
    inspector_max_streams: int = DEFAULT_MAX_STREAMS
    inspector_max_bytes: int = DEFAULT_MAX_BYTES
    database_url: str = field(default="", repr=False)
    # A Fernet key: with it, a user may keep a sign-in in the workspace, encrypted.
    token_encryption_key: str = field(default="", repr=False)
    data_dir: str = ".a2a-streamlit"
    max_conversations: int = 500
    max_workspace_mb: int = 200
    keep_file_mb: int = 2
    retention_days: float | None = None
    # Values in secrets whose names say they are secret: masked in all the app shows.
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    # One sentence for each value that could not be used (its default was).
    problems: tuple[str, ...] = ()

    @classmethod
    def load(cls, environ: Mapping[str, str], secrets: Mapping[str, Any]) -> Settings:
        """The settings from `environ` first, then `secrets`, then the defaults."""
        reader = _Reader(environ, secrets)
        defaults = cls()
        loaded = cls(
            agent_url=environ.get("A2A_AGENT_URL", "").strip()
            or str(secrets.get("agent_url", "")).strip(),
            agent_token=environ.get("A2A_AGENT_TOKEN", "").strip()
            or str(secrets.get("agent_token", "")).strip(),
            agent_client_cert=reader.text("agent_client_cert"),
            agent_client_key=reader.text("agent_client_key"),
            agent_ca_cert=reader.text("agent_ca_cert"),
            agents=reader.agents(),
            allowed_agent_urls=reader.url_list("allowed_agent_urls"),
            public_url=(environ.get("A2A_PUBLIC_URL") or str(secrets.get("public_url", "")))
            .strip()
            .rstrip("/"),
            read_timeout=reader.whole("read_timeout", defaults.read_timeout),
            max_upload_mb=reader.whole("max_upload_mb", defaults.max_upload_mb),
            inspector_max_streams=reader.whole(
                "inspector_max_streams", defaults.inspector_max_streams
            ),
            inspector_max_bytes=reader.whole("inspector_max_bytes", defaults.inspector_max_bytes),
            database_url=(
                environ.get("A2A_DATABASE_URL") or str(secrets.get("database_url", ""))
            ).strip(),
            token_encryption_key=(
                environ.get("A2A_TOKEN_ENCRYPTION_KEY")
                or str(secrets.get("token_encryption_key", ""))
            ).strip(),
            data_dir=environ.get("A2A_DATA_DIR") or defaults.data_dir,
            max_conversations=reader.whole("max_conversations", defaults.max_conversations),
            max_workspace_mb=reader.whole("max_workspace_mb", defaults.max_workspace_mb),
            keep_file_mb=reader.whole("keep_file_mb", defaults.keep_file_mb),
            retention_days=reader.days("retention_days"),
            secret_values=tuple(_secret_values(secrets)),
        )
        return replace(loaded, problems=tuple(reader.problems))


class _Reader:
    """Reads one setting at a time from the two sources, noting what it could not use."""

    def __init__(self, environ: Mapping[str, str], secrets: Mapping[str, Any]) -> None:
        self.environ, self.secrets = environ, secrets
        self.problems: list[str] = []

    def raw(self, name: str) -> tuple[Any, str]:
        """The value of `name` and where it came from (in words, for a problem)."""
        variable = f"A2A_{name.upper()}"
        if value := self.environ.get(variable):
            return value, f"{variable} in the environment"
        return self.secrets.get(name), f"`{name}` in secrets"

    def text(self, name: str) -> str:
        """A string, stripped; empty when unset."""
        value, _source = self.raw(name)
        return "" if value is None else str(value).strip()

    def whole(self, name: str, default: int) -> int:
        """A whole number; the default when unset or when it does not parse."""
        value, source = self.raw(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            self.problems.append(
                f"{source} is {value!r}, not a whole number: using the default, {default}."
            )
            return default

    def days(self, name: str) -> float | None:
        """A number of days; None (no limit) when unset or when it does not parse."""
        value, source = self.raw(name)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            self.problems.append(f"{source} is {value!r}, not a number of days: no limit is set.")
            return None

    def url_list(self, name: str) -> tuple[str, ...]:
        """Comma-separated URLs in one string, or a list of them."""
        value, source = self.raw(name)
        if value in (None, ""):
            return ()
        if isinstance(value, str):
            return tuple(value.split(","))
        if isinstance(value, list | tuple):
            return tuple(str(u) for u in value)
        self.problems.append(f"{source} is {value!r}, not a list of URLs: any agent is allowed.")
        return ()

    def agents(self) -> tuple[Mapping[str, Any], ...]:
        """`[[agents]]` entries that name a url."""
        entries = self.secrets.get("agents", [])
        if not isinstance(entries, list | tuple):
            self.problems.append(
                "`agents` in secrets is not a list of [[agents]] tables: it is not used."
            )
            return ()
        return tuple(e for e in entries if isinstance(e, Mapping) and str(e.get("url", "")).strip())


def _secret_values(tree: Any) -> list[str]:
    """Values in secrets whose names say they are secret (tokens, keys, passwords)."""
    values: list[str] = []
    items = tree.items() if isinstance(tree, Mapping) else enumerate(tree)
    for name, value in items:
        if isinstance(value, Mapping | list):
            values += _secret_values(value)
        elif any(word in str(name).lower() for word in _SECRET_WORDS):
            values.append(str(value))
    return values


# --- this session's -------------------------------------------------------------------------

_reported: set[str] = set()  # problems already logged: every session reads the same settings


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}  # no secrets file: the environment and the defaults


def _load() -> Settings:
    loaded = Settings.load(os.environ, _secrets())
    for problem in loaded.problems:
        if problem not in _reported:
            _reported.add(problem)
            _log.warning("%s", problem)
    return loaded


def settings() -> Settings:
    """This session's settings, read from the environment and secrets on first use."""
    return keys.SETTINGS.setdefault(_load)


def process_settings() -> Settings:
    """The settings as the environment and secrets say now, read outside any session
    (a route of `app.py` on a server thread, where there is no session state)."""
    return _load()


def configured_agent_url() -> str:
    """The configured agent: `A2A_AGENT_URL` in the environment, else `agent_url` in secrets.

    As configured, unchecked: `workspace()` checks it, and shows a bad one's sentence."""
    return settings().agent_url
