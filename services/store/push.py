"""Push notifications in the store: the webhook configs a workspace made, and deliveries.

A config is what the app hands an agent so it can post task updates to the app's own port
(`/a2a/push/<id>`): a random id for the URL and a token the agent sends back. The token is
returned once, to whoever makes the config, and only its SHA-256 is kept, so a copy of the
database cannot be used to post into a workspace. The receiver (`services.push`) looks a
config up by its id, checks the token against the hash in constant time, and records what
arrived in the workspace that owns the config, never another.

The SQL lives here as plain functions on a connection; `Store` wraps them in transactions
and turns database failures into `StoreError`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select

from services.store.tables import push_configs, push_deliveries

__all__ = [
    "CONFIG_ID",
    "Delivery",
    "PushConfig",
    "count_configs",
    "delete_config",
    "find_config",
    "forget_workspace",
    "insert_config",
    "insert_delivery",
    "list_configs",
    "list_deliveries",
    "new_config",
    "token_hash",
]

CONFIG_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what secrets.token_urlsafe makes
MAX_TASK_ID = 255  # the column's length: a longer id from a body is cut to it
MAX_TOKEN = 512  # a longer header is not a token this app made: not even hashed


def token_hash(token: str) -> str:
    """The hex SHA-256 of a token: what the store keeps instead of it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class PushConfig:
    """One webhook handed to an agent (its token is not here: only its hash)."""

    id: str
    workspace_id: str
    agent_url: str
    task_id: str
    created_at: float
    jwks_url: str | None = None  # the agent's JWKS, to verify a JWT sent with a delivery
    jwt_audience: str | None = None  # the `aud` that JWT must carry (None: not checked)
    require_jwt: bool = False  # refuse deliveries without a verified JWT
    token_sha256: str = field(default="", repr=False)

    def accepts(self, token: str | None) -> bool:
        """Whether `token` is this config's, compared in constant time on the hashes."""
        if not token or len(token) > MAX_TOKEN or not self.token_sha256:
            return False
        return hmac.compare_digest(token_hash(token), self.token_sha256)


@dataclass(frozen=True)
class Delivery:
    """One notification as it arrived: the body as received, and what was read from it."""

    id: int
    config_id: str
    received_at: float
    task_id: str
    kind: str  # task, message, status-update or artifact-update
    state: str  # the task's state as the spec spells it ("completed"), or ""
    verified: bool  # a JWT came with it and its signature, expiry and audience held
    body: str


def new_config(
    workspace_id: str,
    agent_url: str,
    task_id: str,
    *,
    jwks_url: str | None,
    jwt_audience: str | None,
    require_jwt: bool,
) -> tuple[PushConfig, str]:
    """A fresh config and its token (not yet written)."""
    if require_jwt and not jwks_url:
        raise ValueError("require_jwt needs a jwks_url to verify the JWT with")
    token = secrets.token_urlsafe(32)
    config = PushConfig(
        id=secrets.token_urlsafe(16),
        workspace_id=workspace_id,
        agent_url=agent_url,
        task_id=task_id[:MAX_TASK_ID],
        created_at=time.time(),
        jwks_url=jwks_url or None,
        jwt_audience=jwt_audience or None,
        require_jwt=require_jwt,
        token_sha256=token_hash(token),
    )
    return config, token


def _config_from(row: Any) -> PushConfig:
    return PushConfig(
        id=row.id,
        workspace_id=row.workspace_id,
        agent_url=row.agent_url,
        task_id=row.task_id,
        created_at=row.created_at,
        jwks_url=row.jwks_url,
        jwt_audience=row.jwt_audience,
        require_jwt=bool(row.require_jwt),
        token_sha256=row.token_sha256,
    )


def insert_config(connection: Connection, config: PushConfig) -> None:
    connection.execute(
        push_configs.insert().values(
            id=config.id,
            workspace_id=config.workspace_id,
            token_sha256=config.token_sha256,
            agent_url=config.agent_url,
            task_id=config.task_id,
            created_at=config.created_at,
            jwks_url=config.jwks_url,
            jwt_audience=config.jwt_audience,
            require_jwt=config.require_jwt,
        )
    )


def count_configs(connection: Connection, workspace_id: str) -> int:
    return int(
        connection.execute(
            select(func.count())
            .select_from(push_configs)
            .where(push_configs.c.workspace_id == workspace_id)
        ).scalar_one()
    )


def find_config(connection: Connection, config_id: str) -> PushConfig | None:
    row = connection.execute(select(push_configs).where(push_configs.c.id == config_id)).first()
    return None if row is None else _config_from(row)


def list_configs(
    connection: Connection, workspace_id: str, task_id: str | None
) -> list[PushConfig]:
    query = select(push_configs).where(push_configs.c.workspace_id == workspace_id)
    if task_id is not None:
        query = query.where(push_configs.c.task_id == task_id)
    rows = connection.execute(query.order_by(push_configs.c.created_at, push_configs.c.id))
    return [_config_from(r) for r in rows]


def delete_config(connection: Connection, workspace_id: str, config_id: str) -> bool:
    """Delete a config and what it received (its owner's only); True if it was there."""
    deleted = connection.execute(
        delete(push_configs).where(
            push_configs.c.workspace_id == workspace_id, push_configs.c.id == config_id
        )
    ).rowcount
    if deleted:
        connection.execute(
            delete(push_deliveries).where(
                push_deliveries.c.workspace_id == workspace_id,
                push_deliveries.c.config_id == config_id,
            )
        )
    return bool(deleted)


def forget_workspace(connection: Connection, workspace_id: str) -> None:
    """Delete every config and delivery of `workspace_id`."""
    for table in (push_deliveries, push_configs):
        connection.execute(delete(table).where(table.c.workspace_id == workspace_id))


def insert_delivery(
    connection: Connection,
    config: PushConfig,
    *,
    task_id: str,
    kind: str,
    state: str,
    verified: bool,
    body: str,
    keep: int,
    keep_bytes: int,
) -> int | None:
    """Record a delivery in its config's workspace, then drop that config's oldest beyond
    `keep` deliveries or `keep_bytes` bytes. None if the config was deleted meanwhile."""
    still_there = connection.execute(
        select(push_configs.c.id).where(
            push_configs.c.id == config.id, push_configs.c.workspace_id == config.workspace_id
        )
    ).first()
    if still_there is None:
        return None
    result = connection.execute(
        push_deliveries.insert().values(
            config_id=config.id,
            workspace_id=config.workspace_id,
            received_at=time.time(),
            task_id=task_id[:MAX_TASK_ID],
            kind=kind,
            state=state,
            verified=verified,
            body=body,
            bytes=len(body.encode("utf-8", "surrogatepass")),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    newest_first = push_deliveries.c.id.desc()
    ranked = (
        select(
            push_deliveries.c.id,
            func.row_number().over(order_by=newest_first).label("n"),
            func.sum(push_deliveries.c.bytes).over(order_by=newest_first).label("total"),
        )
        .where(push_deliveries.c.config_id == config.id)
        .subquery()
    )
    # The newest is always kept: one body is at most the receiver's limit.
    doomed = select(ranked.c.id).where(
        ranked.c.n > 1, or_(ranked.c.n > keep, ranked.c.total > keep_bytes)
    )
    connection.execute(delete(push_deliveries).where(push_deliveries.c.id.in_(doomed)))
    return int(key[0])


def list_deliveries(
    connection: Connection,
    workspace_id: str,
    task_id: str | None,
    since: int | None,
    limit: int,
) -> list[Delivery]:
    query = select(push_deliveries).where(push_deliveries.c.workspace_id == workspace_id)
    if task_id is not None:
        query = query.where(push_deliveries.c.task_id == task_id)
    if since is not None:
        query = query.where(push_deliveries.c.id > since)
    rows = connection.execute(query.order_by(push_deliveries.c.id.desc()).limit(limit))
    return [
        Delivery(
            id=int(r.id),
            config_id=r.config_id,
            received_at=r.received_at,
            task_id=r.task_id,
            kind=r.kind,
            state=r.state,
            verified=bool(r.verified),
            body=r.body,
        )
        for r in rows
    ]
