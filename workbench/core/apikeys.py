"""API keys and sign-in: the hosted API's SignInWithAPIKey, locally.

An API key belongs to one org and one user; only a hash of its secret is stored, and the secret is
shown once, when it is created. Signing in with a key gives a token (HMAC-signed with a secret kept
in the data directory, mode 0600) that names its org and user and expires. A revoked key's tokens
stop working at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tinydb import Query

from workbench.core.context import ServiceContext, check_org
from workbench.core.models import new_id
from workbench.errors import NotFound, WorkbenchError
from workbench.store.atomic import atomic_write_bytes

API_KEYS = "api_keys"
TOKEN_LIFETIME = timedelta(hours=12)


class Unauthorized(WorkbenchError):
    """401: no, a bad, an expired or a revoked token or key."""

    status = 401
    code = "unauthorized"


class Forbidden(WorkbenchError):
    """403: a valid token that may not act on this organization."""

    status = 403
    code = "forbidden"


@dataclass(frozen=True)
class Identity:
    org_id: str
    user_id: str
    key_id: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyOperations:
    """Mixed into the service."""

    ctx: ServiceContext

    def _signing_key(self) -> bytes:
        path = self.ctx.paths.home / "server.key"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            with self.ctx.metadata.lock():
                if not path.exists():
                    atomic_write_bytes(path, secrets.token_bytes(32), mode=0o600)
            return path.read_bytes()

    def create_api_key(self, org_id: str, user_id: str, name: str = "") -> tuple[str, str]:
        """A new key for ``user_id`` in the org: (key id, secret). The secret is not stored."""
        check_org(org_id)
        key_id, secret = new_id(), "wbk_" + secrets.token_urlsafe(32)
        with self.ctx.metadata.write() as db:
            db.table(API_KEYS).insert(
                {"id": key_id, "org_id": org_id, "user_id": user_id, "name": name, "secret_sha256": _hash(secret), "created_at": self.ctx.clock().isoformat(), "revoked": False}
            )
        return key_id, secret

    def list_api_keys(self, org_id: str) -> list[dict[str, Any]]:
        check_org(org_id)
        with self.ctx.metadata.read() as db:
            keys = db.table(API_KEYS).search(Query().org_id == org_id)
        return [{k: v for k, v in key.items() if k != "secret_sha256"} for key in keys]

    def revoke_api_key(self, org_id: str, key_id: str) -> None:
        check_org(org_id)
        with self.ctx.metadata.write() as db:
            if not db.table(API_KEYS).update({"revoked": True}, (Query().org_id == org_id) & (Query().id == key_id)):
                raise NotFound(f"API key {key_id} does not exist in organization {org_id}")

    def _active_key(self, key_id: str) -> dict[str, Any] | None:
        with self.ctx.metadata.read() as db:
            key = db.table(API_KEYS).get(Query().id == key_id)
        return key if key and not key["revoked"] else None

    def sign_in(self, org_id: str, key_id: str | None, secret: str | None, user_id: str | None) -> tuple[str, datetime]:
        """(token, expires at) for a valid key of this org and its user; 401 otherwise."""
        key = self._active_key(key_id or "")
        if not key or key["org_id"] != org_id or not hmac.compare_digest(key["secret_sha256"], _hash(secret or "")) or key["user_id"] != user_id:
            raise Unauthorized("invalid API key: x-api-key, x-api-key-id and x-user-id must name an active key of this organization and its user")
        expires = self.ctx.clock() + TOKEN_LIFETIME
        claims = {"org": org_id, "user": user_id, "key": key_id, "exp": int(expires.timestamp()), "n": os.urandom(4).hex()}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        signature = hmac.new(self._signing_key(), body.encode(), hashlib.sha256).hexdigest()
        return f"{body}.{signature}", expires

    def authenticate(self, token: str | None) -> Identity:
        """Who a bearer token is; 401 if it is missing, forged, expired or its key is revoked."""
        if not token:
            raise Unauthorized("missing credentials: send Authorization: Bearer TOKEN (from POST /v1/{organization}/user/signin_with_api_key)")
        body, _, signature = token.partition(".")
        expected = hmac.new(self._signing_key(), body.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            raise Unauthorized("invalid token: sign in again with an API key")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if claims["exp"] < self.ctx.clock().timestamp():
            raise Unauthorized("the token has expired: sign in again with an API key")
        if not self._active_key(claims["key"]):
            raise Unauthorized("the API key this token was issued for has been revoked")
        return Identity(claims["org"], claims["user"], claims["key"])

    def authorize(self, identity: Identity, org_id: str, header_org: str | None) -> None:
        """The token's org must be the path's; X-ORG-ID, if sent, must name the token's org."""
        if header_org and header_org != identity.org_id:
            raise Unauthorized(f"X-ORG-ID says the token was issued by {header_org!r}, but it was issued by {identity.org_id!r}")
        if org_id != identity.org_id:
            raise Forbidden(f"a token of organization {identity.org_id!r} may not act on organization {org_id!r}")
