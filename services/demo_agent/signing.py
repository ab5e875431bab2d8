"""The demo agent's card signature (A2A 1.0 §8.4 Agent Card Signing), when asked for one.

`CardSigner` makes an EC P-256 key when the app is built (ES256), publishes its public
half as a JWKS at `JWKS_PATH`, and signs cards with a2a-sdk's signer; the protected
header carries `alg`, `kid`, `typ: "JOSE"` and `jku` (that JWKS's URL).

`card_signing="bad"` models a card tampered with after it was signed (by a proxy, say):
the card is signed with the published key, then its description is changed, so a client
finds the key and the signature does not verify.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from a2a.types.a2a_pb2 import AgentCard
from a2a.utils.signing import create_agent_card_signer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from jwt.utils import base64url_encode
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["JWKS_PATH", "TAMPERED_NOTE", "CardSigner", "CardSigning"]

CardSigning = Literal["signed", "bad"]
JWKS_PATH = "/.well-known/jwks.json"
TAMPERED_NOTE = " (This sentence was added after the card was signed.)"


def _thumbprint(jwk: dict[str, str]) -> str:
    """The key's RFC 7638 thumbprint: a key id that names this key and no other."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return base64url_encode(digest.digest()).decode()


class CardSigner:
    """An ES256 key made at start: signs cards, and serves its public key as a JWKS."""

    def __init__(self, base_url: str, signing: CardSigning = "signed") -> None:
        private_key = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
        self.key_id = _thumbprint(public)
        self.jwks_url = base_url.rstrip("/") + JWKS_PATH
        self.jwks = {"keys": [{**public, "kid": self.key_id, "alg": "ES256", "use": "sig"}]}
        self.tamper = signing == "bad"
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._sign = create_agent_card_signer(
            pem, {"alg": "ES256", "kid": self.key_id, "jku": self.jwks_url, "typ": "JOSE"}
        )

    def sign(self, card: AgentCard) -> AgentCard:
        """A signed copy of `card` (for "bad", changed after signing)."""
        signed = AgentCard()
        signed.CopyFrom(card)
        del signed.signatures[:]
        self._sign(signed)
        if self.tamper:
            signed.description += TAMPERED_NOTE
        return signed

    def routes(self) -> list[Route]:
        """`GET /.well-known/jwks.json`: the public key set (public, like the card)."""

        async def jwks(_request: Request) -> JSONResponse:
            return JSONResponse(self.jwks)

        return [Route(JWKS_PATH, jwks, methods=["GET"])]
