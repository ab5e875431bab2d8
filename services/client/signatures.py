"""Agent card signatures (A2A 1.0 §8.4 Agent Card Signing): verified, invalid,
unverifiable or absent, with one sentence for the user.

The core, `judge_signatures`, is pure: a card and the key sets (JWKS) already fetched for
it, in; a `CardSignature` out. Two thin wrappers fetch the key sets first: `averify_card`
on the session's async client (so the allow list and per-origin credentials apply) and
`verify_card` on a sync client (the connection doctor). Keys come from each signature's
`jku`, or from a JWKS URL set for the agent, which takes precedence. Fetches are bounded
(http(s) only, 64 KB, 5 s, at most two key sets per card), and nothing here raises on
what an agent publishes: a bad header or key set is a state and a sentence.
"""

from __future__ import annotations

import binascii
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
import httpx
from a2a.types.a2a_pb2 import AgentCard, AgentCardSignature
from a2a.utils.signing import SignatureVerificationError, create_signature_verifier
from jwt import PyJWK
from jwt.utils import base64url_decode

from services.errors import NotAllowed
from services.formats import FileRejected, load_json
from services.urls import shorten

__all__ = [
    "ALGORITHMS",
    "JWKS_MAX_BYTES",
    "JWKS_TIMEOUT",
    "MAX_KEY_SETS",
    "CardSignature",
    "KeySet",
    "averify_card",
    "judge_signatures",
    "key_set_urls",
    "read_key_set",
    "verify_card",
]

log = logging.getLogger(__name__)

# Public-key algorithms only: a shared secret (HS*) proves nothing to a third party, and
# "none" proves nothing at all.
ALGORITHMS = ("ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA")
JWKS_MAX_BYTES = 64 * 1024
JWKS_TIMEOUT = 5.0
MAX_KEY_SETS = 2  # distinct JWKS fetched per card
MAX_SIGNATURES = 8  # signatures looked at per card (several allow key rotation, §8.4.3)
_SHOWN = 64  # characters of a key id or issuer a sentence quotes

State = Literal["verified", "invalid", "unverifiable", "absent"]


@dataclass(frozen=True)
class CardSignature:
    """What a card's signature proves, for the user (plain data)."""

    state: State
    key_id: str = ""
    issuer: str = ""  # the origin that published the key, or the header's `iss`
    sentence: str = ""


@dataclass(frozen=True)
class KeySet:
    """A JWKS as fetched: its keys, or why it cannot be used (a phrase)."""

    keys: tuple[Mapping[str, Any], ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class _Header:
    """One signature's protected header, as far as it could be read."""

    signature: AgentCardSignature
    alg: str = ""
    kid: str = ""
    jku: str = ""
    iss: str = ""
    problem: str = ""  # why it cannot be read at all


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _read_header(signature: AgentCardSignature) -> _Header:
    try:
        decoded = json.loads(base64url_decode(signature.protected.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError, RecursionError):
        decoded = None
    if not isinstance(decoded, dict):
        return _Header(signature, problem="its protected header is not a base64url JSON object")
    return _Header(
        signature,
        alg=_text(decoded.get("alg")),
        kid=_text(decoded.get("kid")),
        jku=_text(decoded.get("jku")),
        iss=_text(decoded.get("iss")),
    )


def _headers(card: AgentCard) -> list[_Header]:
    return [_read_header(s) for s in list(card.signatures)[:MAX_SIGNATURES]]


def key_set_urls(card: AgentCard, *, jwks_url: str = "") -> list[str]:
    """The JWKS URLs to fetch for `card`: `jwks_url` if given, else the signatures' `jku`s
    (readable headers with an accepted algorithm), at most `MAX_KEY_SETS`."""
    if not card.signatures:
        return []
    if jwks_url:
        return [jwks_url]
    urls: list[str] = []
    for header in _headers(card):
        if header.jku and header.alg in ALGORITHMS and header.jku not in urls:
            urls.append(header.jku)
    return urls[:MAX_KEY_SETS]


def read_key_set(body: bytes) -> KeySet:
    """A JWKS body as a `KeySet`; a body that is not one, as its problem."""
    try:
        data = load_json(body, what="key set", max_bytes=JWKS_MAX_BYTES, max_depth=16)
    except FileRejected as error:
        return KeySet(problem=str(error).rstrip(".").replace("The key set ", "it "))
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list):
        return KeySet(problem='it is not a JSON Web Key Set (no "keys" list)')
    return KeySet(keys=tuple(k for k in keys if isinstance(k, dict)))


def _url_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "it is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it is not an http(s) URL"
    return ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _fetch_problem(error: BaseException) -> str:
    if isinstance(error, NotAllowed):
        return "this deployment may not contact it (it is not in allowed_agent_urls)"
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return f"it did not answer within {JWKS_TIMEOUT:g} s"
    if isinstance(error, httpx.ConnectError):
        return "nothing answered there"
    return f"fetching it failed ({type(error).__name__})"


def _status_problem(response: httpx.Response) -> str:
    return "" if response.status_code == 200 else f"it answered HTTP {response.status_code}"


_TOO_BIG = f"it is larger than {JWKS_MAX_BYTES // 1024} KB"


async def _afetch(http: httpx.AsyncClient, url: str) -> KeySet:
    if problem := _url_problem(url):
        return KeySet(problem=problem)
    body = bytearray()
    try:
        with anyio.fail_after(JWKS_TIMEOUT):
            async with http.stream("GET", url, timeout=JWKS_TIMEOUT) as response:
                if problem := _status_problem(response):
                    return KeySet(problem=problem)
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > JWKS_MAX_BYTES:
                        return KeySet(problem=_TOO_BIG)
    except Exception as error:  # noqa: BLE001 - a refused or failed fetch is a state
        return KeySet(problem=_fetch_problem(error))
    return read_key_set(bytes(body))


def _fetch(http: httpx.Client, url: str) -> KeySet:
    if problem := _url_problem(url):
        return KeySet(problem=problem)
    body = bytearray()
    deadline = time.monotonic() + JWKS_TIMEOUT
    try:
        with http.stream("GET", url, timeout=JWKS_TIMEOUT) as response:
            if problem := _status_problem(response):
                return KeySet(problem=problem)
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > JWKS_MAX_BYTES:
                    return KeySet(problem=_TOO_BIG)
                if time.monotonic() > deadline:  # a server dripping bytes
                    raise TimeoutError
    except Exception as error:  # noqa: BLE001 - a refused or failed fetch is a state
        return KeySet(problem=_fetch_problem(error))
    return read_key_set(bytes(body))


def _verifies(card: AgentCard, signature: AgentCardSignature, key: PyJWK) -> bool:
    """Whether `signature` over `card` verifies with `key` (a2a-sdk's verifier)."""
    alone = AgentCard()
    alone.CopyFrom(card)
    del alone.signatures[:]
    alone.signatures.append(signature)
    verify = create_signature_verifier(lambda _kid, _jku: key, list(ALGORITHMS))
    try:
        verify(alone)
    except SignatureVerificationError:
        return False
    except Exception:  # noqa: BLE001 - whatever a published card does, it is not verified
        log.debug("verifying a card signature failed", exc_info=True)
        return False
    return True


def _judge_one(
    card: AgentCard, header: _Header, key_sets: Mapping[str, KeySet], jwks_url: str
) -> CardSignature:
    if header.problem:
        return CardSignature(
            "invalid",
            sentence=f"The card's signature cannot be read ({header.problem}): ask its "
            "publisher to sign it again.",
        )
    kid = header.kid
    named = f"key {_shown(kid)}" if kid else "a key it does not name"
    if header.alg not in ALGORITHMS:
        alg = _shown(header.alg) or "no algorithm"
        return CardSignature(
            "invalid",
            key_id=kid,
            sentence=f"The card is signed with {alg}, which this app does not accept (only "
            f"public-key signatures, such as {', '.join(ALGORITHMS[:3])} or EdDSA, show who "
            "signed a card): ask its publisher to sign it with one.",
        )
    source = jwks_url or header.jku
    if not source:
        return CardSignature(
            "unverifiable",
            key_id=kid,
            sentence=f"The card is signed with {named}, but names no key set (jku) to check "
            "it with: set a JWKS URL for this agent to verify it.",
        )
    issuer = header.iss or ("" if _url_problem(source) else _origin(source))
    key_set = key_sets.get(source)
    where = f"its key set at {shorten(source)}"
    if key_set is None:
        problem = f"at most {MAX_KEY_SETS} key sets are fetched per card"
    else:
        problem = key_set.problem
    if problem:
        return CardSignature(
            "unverifiable",
            key_id=kid,
            issuer=issuer,
            sentence=f"The card is signed with {named}, but {where} could not be used "
            f"({problem}): check that URL, or set a JWKS URL for this agent.",
        )
    assert key_set is not None
    found = [k for k in key_set.keys if k.get("kid") == kid] if kid else list(key_set.keys)
    if not kid and len(found) != 1:
        found = []  # no kid: only a set of one key says which key is meant
    keys = [key for key in map(_public_key_for(header.alg), found) if key is not None]
    if not keys:
        return CardSignature(
            "unverifiable",
            key_id=kid,
            issuer=issuer,
            sentence=f"The card is signed with {named}, but {where} has no usable key by "
            "that id (it may have been rotated out): ask the agent's publisher, or set a "
            "JWKS URL for this agent.",
        )
    by = f"{named} from {_shown(issuer) or 'an unknown issuer'}"
    if any(_verifies(card, header.signature, key) for key in keys):
        sentence = f"The card's signature verifies with {by}."
        return CardSignature("verified", key_id=kid, issuer=issuer, sentence=sentence)
    return CardSignature(
        "invalid",
        key_id=kid,
        issuer=issuer,
        sentence=f"The card's signature does not verify with {by}: the card was changed "
        "after it was signed, or signed with another key. Do not rely on it until its "
        "publisher signs it again.",
    )


def _public_key_for(alg: str) -> Callable[[Mapping[str, Any]], PyJWK | None]:
    def public_key(jwk: Mapping[str, Any]) -> PyJWK | None:
        if jwk.get("kty") not in ("EC", "RSA", "OKP"):  # a symmetric key is no public key
            return None
        # The key's own "alg" wins: a header asking for another algorithm then fails.
        algorithm = _text(jwk.get("alg")) or alg
        try:
            return PyJWK(dict(jwk), algorithm=algorithm)
        except Exception:  # noqa: BLE001 - a malformed key is one that cannot be used
            return None

    return public_key


def judge_signatures(
    card: AgentCard, key_sets: Mapping[str, KeySet], *, jwks_url: str = ""
) -> CardSignature:
    """The card's signature state, given the key sets fetched for it (by URL).

    One signature that verifies is enough; else an invalid one is reported before an
    unverifiable one, since a key was found for it.
    """
    if not card.signatures:
        return CardSignature(
            "absent",
            sentence="The card is not signed, so who published it cannot be checked.",
        )
    try:
        verdicts = [_judge_one(card, h, key_sets, jwks_url) for h in _headers(card)]
    except Exception:  # noqa: BLE001 - never fail a connect over a signature
        log.warning("judging a card signature failed", exc_info=True)
        verdicts = []
    for state in ("verified", "invalid", "unverifiable"):
        if found := next((v for v in verdicts if v.state == state), None):
            return found
    return CardSignature(
        "unverifiable", sentence="The card's signature could not be checked: try again."
    )


async def averify_card(
    http: httpx.AsyncClient, card: AgentCard, *, jwks_url: str = ""
) -> CardSignature:
    """Fetch the card's key sets with `http` (the session's client) and judge its signature.

    Args:
        jwks_url: a JWKS URL set for this agent; used instead of the signatures' `jku`.
    """
    key_sets = {url: await _afetch(http, url) for url in key_set_urls(card, jwks_url=jwks_url)}
    return judge_signatures(card, key_sets, jwks_url=jwks_url)


def verify_card(http: httpx.Client, card: AgentCard, *, jwks_url: str = "") -> CardSignature:
    """`averify_card` on a sync client (the connection doctor)."""
    key_sets = {url: _fetch(http, url) for url in key_set_urls(card, jwks_url=jwks_url)}
    return judge_signatures(card, key_sets, jwks_url=jwks_url)
