"""Who is calling: roles, the principal, and the JWTs that carry it.

Tokens are signed with EdDSA (Ed25519) keys named by ``kid`` (:mod:`common.keys`): only the
registry's key signs people's tokens; every other process's key signs only its own service
identity. The gateway verifies the bearer token of every request with the public keys and
forwards the token itself in the ``nameko.auth_token`` context header; each service verifies
it again and checks scope itself, so a service never trusts a bare claim typed into a header.
Revoked tokens (disabled account, changed password) are refused by the gateway only
(gateway/revocations.py): the services trust it for that, as only the platform's own processes
reach the broker.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt

from common.errors import Forbidden, Unauthenticated
from common.i18n import label
from common.keys import ALGORITHM, KeyRing, SigningKey


class Role(StrEnum):
    ENTERPRISE = "enterprise"  # 企业用户
    GRID_WORKER = "grid_worker"  # 网格员
    GRID_LEADER = "grid_leader"  # 网格长
    LIAISON = "liaison"  # 联络员
    DEPARTMENT_HEAD = "department_head"  # 部门负责人
    COORDINATOR = "coordinator"  # 平台统筹 (经济发展部/科技创新部/党群工作部)
    LEADER = "leader"  # 分管领导 / 领导小组
    ADMIN = "admin"  # 平台管理员
    SERVICE = "service"  # another service of the platform, never a person


STAFF_ROLES = frozenset(Role) - {Role.ENTERPRISE, Role.SERVICE}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. Scope fields are empty when the role has none."""

    user_id: str
    role: Role
    enterprise_id: str | None = None
    grid_ids: tuple[str, ...] = ()
    department_id: str | None = None
    name: str = ""
    token_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def role_label(self) -> dict[str, Any]:
        """The caller's role as an error's parameter: shown as its label (网格员)."""
        return label("role", self.role)

    def require(self, *roles: Role) -> Principal:
        """Raise Forbidden unless the principal has one of ``roles``."""
        if self.role not in roles:
            raise Forbidden("{role} may not do this", code="auth.role_refused",
                            params={"role": label("role", self.role)})
        return self

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.user_id, "role": str(self.role), "jti": self.token_id}
        if self.enterprise_id:
            claims["ent"] = self.enterprise_id
        if self.grid_ids:
            claims["grids"] = list(self.grid_ids)
        if self.department_id:
            claims["dept"] = self.department_id
        if self.name:
            claims["name"] = self.name
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        try:
            role = Role(claims["role"])
            user_id = str(claims["sub"])
        except (KeyError, ValueError) as exc:
            raise Unauthenticated("token has no valid subject or role",
                                  code="auth.token_invalid") from exc
        grids = claims.get("grids") or []
        if not isinstance(grids, list):
            raise Unauthenticated("token grids claim is not a list", code="auth.token_invalid")
        return cls(
            user_id=user_id,
            role=role,
            enterprise_id=claims.get("ent"),
            grid_ids=tuple(str(g) for g in grids),
            department_id=claims.get("dept"),
            name=str(claims.get("name", "")),
            token_id=str(claims.get("jti", "")),
        )


def mint_token(
    principal: Principal, key: SigningKey, ttl_seconds: int, issuer: str = "gridsvc",
    now: float | None = None,
) -> str:
    """A token for ``principal`` signed with ``key`` (its ``kid`` in the header)."""
    # ``iat`` to the microsecond: a token signed in right after a revocation (password change)
    # is later than the revocation even within the same second (gateway/revocations.py)
    issued = round(now if now is not None else time.time(), 6)
    claims = principal.claims() | {"iss": issuer, "iat": issued,
                                   "exp": int(issued) + ttl_seconds}
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


#: how far the clocks of the signer and the checker may disagree (seconds): a token's
#: lifetime may exceed the configured one by this much
CLOCK_SKEW_SECONDS = 60
#: the lifetime a token may have when the checker is not told the configured one (8 h, the
#: default of ``TOKEN_TTL_SECONDS``)
DEFAULT_MAX_LIFETIME_SECONDS = 8 * 3600


def decode_token(token: str, keys: KeyRing, issuer: str = "gridsvc",
                 max_lifetime: float = DEFAULT_MAX_LIFETIME_SECONDS) -> dict[str, Any]:
    """The checked claims of a token; any defect is Unauthenticated with the reason.

    A token's signature is checked once: the same token comes with every request of a
    session and is decoded by the gateway and again by each service it reaches (the HMAC,
    base64 and JSON were a fifth of the gateway's CPU per demand). Its expiry is checked at
    every use; revocation is the callers' check (``tokens_valid_after``). A token whose
    ``exp - iat`` is longer than ``max_lifetime`` (the configured ``TOKEN_TTL_SECONDS``) plus
    :data:`CLOCK_SKEW_SECONDS` is refused (one issued in the future too): a leaked signing key or a
    minting mistake must not give a token that lives until 2100."""
    claims = _verified_claims(token, keys, issuer)
    if claims["exp"] <= time.time():
        raise Unauthenticated("token expired", code="auth.token_expired")
    # PyJWT has checked that both are numbers and that ``iat`` is not in the future
    if claims["exp"] - claims["iat"] > max_lifetime + CLOCK_SKEW_SECONDS:
        raise Unauthenticated("invalid token: it lives longer than {seconds} seconds",
                              code="auth.token_lifetime_too_long",
                              params={"seconds": int(max_lifetime)})
    return dict(claims)


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, keys: KeyRing, issuer: str) -> dict[str, Any]:
    """Only tokens that passed are remembered: a refusal raises, and raising is not cached.
    The ``kid`` picks the public key; a key that is not the registry's signs only its own
    process's service identity."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("invalid token: unknown signing key",
                                  code="auth.unknown_signing_key")
        claims = jwt.decode(
            token, key.public_key, algorithms=[ALGORITHM], issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired", code="auth.token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("invalid token: {reason}", code="auth.token_invalid",
                              params={"reason": str(exc)}) from exc
    if not key.may_sign(claims):
        raise Unauthenticated("invalid token: its key may not sign it",
                              code="auth.key_may_not_sign")
    return claims


def verify_token(token: str, keys: KeyRing, issuer: str = "gridsvc",
                 max_lifetime: float = DEFAULT_MAX_LIFETIME_SECONDS) -> Principal:
    """Decode and check a token; any defect is Unauthenticated with the reason."""
    return Principal.from_claims(decode_token(token, keys, issuer, max_lifetime))


def service_principal(service_name: str) -> Principal:
    """The identity a service uses for calls it makes on its own (timers, event handlers)."""
    return Principal(user_id=f"service:{service_name}", role=Role.SERVICE, name=service_name)
