"""The keys that sign and verify the platform's tokens (EdDSA, Ed25519), rotatable by ``kid``.

Only the registry (the enterprise service, which signs people in) holds a key whose tokens may
name anyone: its ``signer`` is ``registry``. Every other process signs only its own service
identity (``service:<name>``, role ``service``, for the calls its timers and event handlers
make) with a key of its own, whose ``signer`` is that process's name; a verifier refuses any
other token signed with such a key. So a compromised gateway or ticketing pod cannot mint an
admin's token. Every process verifies with the public keys of ``JWT_PUBLIC_KEYS`` (a JWKS:
``{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": ..., "kid": ..., "gridsvc_signer": ...}]}``);
rotating a key is adding the new public key, then switching the signer's private key
(``JWT_PRIVATE_KEY``, ``JWT_KID``), then removing the old public key once its tokens expired
(docs/operations.md, "Credentials and signing keys").

Development mode (``GRIDSVC_ENV=development``) without keys configured uses the key pair
below, committed on purpose like a test fixture: **DEVELOPMENT ONLY**. Outside development its
public key is refused, so a token it signed is refused too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from jwt.algorithms import OKPAlgorithm

ALGORITHM = "EdDSA"
#: the signer whose tokens may name any principal
REGISTRY = "registry"

# --- DEVELOPMENT ONLY: committed so that `make run`, `make token` and the tests work without
# --- a key of their own. Refused outside development (common/config.py).
DEV_KID = "development-only"
DEV_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIFLfZ8h1AS0pMjN9V1I5A2UCUg6sRliq/c8W6Zudtt6g
-----END PRIVATE KEY-----
"""
DEV_PUBLIC_X = "euchfTFaAfw2Y9S0ixd7zzIdCEeLs56C7dEuCUV4EDc"


class KeyConfigurationError(ValueError):
    """A key or key set that cannot be used (configuration error)."""


@dataclass(frozen=True)
class SigningKey:
    """A private key and the ``kid`` its tokens carry."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_pem(cls, kid: str, pem: str) -> SigningKey:
        if not kid or not kid.isprintable():
            raise KeyConfigurationError("a signing key needs a kid (JWT_KID)")
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise KeyConfigurationError(f"JWT_PRIVATE_KEY is not a PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyConfigurationError("JWT_PRIVATE_KEY must be an Ed25519 key (EdDSA)")
        return cls(kid, key)

    def public_jwk(self, signer: str) -> dict[str, str]:
        """The JWKS entry of this key's public half."""
        return public_jwk(self.private_key.public_key(), self.kid, signer)


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    signer: str
    public_key: Ed25519PublicKey

    def may_sign(self, claims: dict[str, Any]) -> bool:
        """The registry's keys sign anyone's tokens; another process's only its own service
        identity."""
        if self.signer == REGISTRY:
            return True
        return claims.get("role") == "service" and claims.get("sub") == f"service:{self.signer}"


class KeyRing:
    """The public keys a process verifies tokens with, by ``kid``. Hashable by identity:
    one per process (the token cache is keyed by it)."""

    def __init__(self, keys: list[VerificationKey]) -> None:
        self._keys = {k.kid: k for k in keys}
        if len(self._keys) != len(keys):
            raise KeyConfigurationError("JWT_PUBLIC_KEYS names a kid twice")

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def get(self, kid: str) -> VerificationKey | None:
        return self._keys.get(kid)

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @classmethod
    def from_jwks(cls, text: str) -> KeyRing:
        try:
            document = json.loads(text)
            entries = document["keys"] if isinstance(document, dict) else None
            if not isinstance(entries, list) or not entries:
                raise ValueError("no keys")
            keys = [_verification_key(entry) for entry in entries]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyConfigurationError(f"JWT_PUBLIC_KEYS is not a usable JWKS: {exc}") from exc
        return cls(keys)


def _verification_key(entry: dict[str, Any]) -> VerificationKey:
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        raise ValueError(f"key {entry.get('kid')!r} is not an Ed25519 (OKP) key")
    kid, signer = entry.get("kid"), entry.get("gridsvc_signer")
    if not isinstance(kid, str) or not kid or not isinstance(signer, str) or not signer:
        raise ValueError("every key needs a kid and a gridsvc_signer")
    public_key = OKPAlgorithm.from_jwk(json.dumps(entry))
    if not isinstance(public_key, Ed25519PublicKey):
        raise ValueError(f"key {kid!r} is not a public Ed25519 key")
    return VerificationKey(kid, signer, public_key)


def public_jwk(public_key: Ed25519PublicKey, kid: str, signer: str) -> dict[str, str]:
    jwk = json.loads(OKPAlgorithm.to_jwk(public_key))
    return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM, "gridsvc_signer": signer}


def dev_signing_key() -> SigningKey:
    return SigningKey.from_pem(DEV_KID, DEV_PRIVATE_KEY_PEM)


def dev_key_ring() -> KeyRing:
    return KeyRing([VerificationKey(DEV_KID, REGISTRY, dev_signing_key().private_key.public_key())])


def generate(kid: str, signer: str) -> tuple[str, dict[str, str]]:
    """A new key pair: the private key's PEM (a Secret) and the public key's JWKS entry."""
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    return pem, public_jwk(private_key.public_key(), kid, signer)
