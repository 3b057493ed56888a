"""API keys and sign-in: the hosted API's SignInWithAPIKey, locally.

An API key belongs to one org and one user; only a hash of its secret is stored, and the secret is
shown once, when it is created. Signing in with a key gives a token (HMAC-signed with a secret kept
in the data directory, mode 0600) that names its org and user and expires. A revoked key's tokens
stop working at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from workbench.core.results import ApiKeyInfo, CreatedApiKey, Identity, SignedIn
from workbench.core.validation import check_org
from workbench.errors import Forbidden, NotFound, Unauthorized
from workbench.names import IdFactory
from workbench.store.atomic import atomic_write_bytes
from workbench.store.records import ApiKeyRecord
from workbench.store.tables import Metadata

TOKEN_LIFETIME = timedelta(hours=12)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _same(a: str, b: str) -> bool:
    """Constant-time comparison that also takes text a client made up (non-ASCII included)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


class ApiKeys:
    """Create, list and revoke API keys; sign in with one; authenticate and authorize tokens."""

    def __init__(self, metadata: Metadata, signing_key_file: Path, clock: Callable[[], datetime], ids: IdFactory) -> None:
        self.metadata = metadata
        self.signing_key_file = signing_key_file
        self.clock = clock
        self.ids = ids

    def _signing_key(self) -> bytes:
        try:
            return self.signing_key_file.read_bytes()
        except FileNotFoundError:
            with self.metadata.lock():
                if not self.signing_key_file.exists():
                    atomic_write_bytes(self.signing_key_file, secrets.token_bytes(32), mode=0o600)
            return self.signing_key_file.read_bytes()

    def create_api_key(self, org_id: str, user_id: str, name: str = "") -> CreatedApiKey:
        """A new key for ``user_id`` in the org, with its secret. The secret is not stored."""
        check_org(org_id)
        key_id, secret = self.ids(), "wbk_" + secrets.token_urlsafe(32)
        with self.metadata.write() as view:
            view.api_keys.insert(ApiKeyRecord(id=key_id, org_id=org_id, user_id=user_id, name=name, secret_sha256=_hash(secret), created_at=self.clock()))
        return CreatedApiKey(id=key_id, secret=secret)

    def list_api_keys(self, org_id: str) -> list[ApiKeyInfo]:
        check_org(org_id)
        with self.metadata.read() as view:
            keys = view.api_keys.of_org(org_id)
        return [ApiKeyInfo(id=k.id, org_id=k.org_id, user_id=k.user_id, name=k.name, created_at=k.created_at, revoked=k.revoked) for k in keys]

    def revoke_api_key(self, org_id: str, key_id: str) -> None:
        check_org(org_id)
        with self.metadata.write() as view:
            if not view.api_keys.revoke(org_id, key_id):
                raise NotFound(f"API key {key_id} does not exist in organization {org_id}")

    def _active_key(self, key_id: str) -> ApiKeyRecord | None:
        with self.metadata.read() as view:
            key = view.api_keys.get(key_id)
        return key if key and not key.revoked else None

    def sign_in(self, org_id: str, key_id: str | None, secret: str | None, user_id: str | None) -> SignedIn:
        """A token for a valid key of this org and its user; 401 otherwise."""
        key = self._active_key(key_id or "")
        if not key or key.org_id != org_id or not _same(key.secret_sha256, _hash(secret or "")) or key.user_id != user_id:
            raise Unauthorized("invalid API key: x-api-key, x-api-key-id and x-user-id must name an active key of this organization and its user")
        expires = self.clock() + TOKEN_LIFETIME
        claims = {"org": org_id, "user": user_id, "key": key.id, "exp": int(expires.timestamp()), "n": os.urandom(4).hex()}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        signature = hmac.new(self._signing_key(), body.encode(), hashlib.sha256).hexdigest()
        return SignedIn(token=f"{body}.{signature}", expires_at=expires)

    def authenticate(self, token: str | None) -> Identity:
        """Who a bearer token is; 401 if it is missing, forged, malformed, expired or its key is
        revoked."""
        if not token:
            raise Unauthorized("missing credentials: send Authorization: Bearer TOKEN (from POST /v1/{organization}/user/signin_with_api_key)")
        body, _, signature = token.partition(".")
        expected = hmac.new(self._signing_key(), body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        if not _same(signature, expected):
            raise Unauthorized("invalid token: sign in again with an API key")
        try:
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            org_id, user_id, key_id, expires = str(claims["org"]), str(claims["user"]), str(claims["key"]), float(claims["exp"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise Unauthorized("invalid token: sign in again with an API key") from None
        if expires < self.clock().timestamp():
            raise Unauthorized("the token has expired: sign in again with an API key")
        if not self._active_key(key_id):
            raise Unauthorized("the API key this token was issued for has been revoked")
        return Identity(org_id, user_id, key_id)

    def authorize(self, identity: Identity, org_id: str, header_org: str | None) -> None:
        """The token's org must be the path's; X-ORG-ID, if sent, must name the token's org."""
        if header_org and header_org != identity.org_id:
            raise Unauthorized(f"X-ORG-ID says the token was issued by {header_org!r}, but it was issued by {identity.org_id!r}")
        if org_id != identity.org_id:
            raise Forbidden(f"a token of organization {identity.org_id!r} may not act on organization {org_id!r}")
