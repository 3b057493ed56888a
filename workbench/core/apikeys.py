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

from workbench.core.permissions import (
    DEFAULT_ROLE,
    OPERATION_PERMISSIONS,
    ROLES,
    Permission,
    envvar_change_permissions,
    role_permissions,
)
from workbench.core.requests import ModifyEnvVarsRequest
from workbench.core.results import ApiKeyInfo, CreatedApiKey, Identity, SignedIn
from workbench.core.sizes import MAX_API_KEY_NAME, MAX_USER_ID
from workbench.core.validation import ModelOrDict, check_org, check_storable, parse
from workbench.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from workbench.names import ORG, IdFactory
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
        # Every request of the server authenticates: what it reads is kept while its file is the
        # same, checked by a stat (the key file by its stamp, the keys by the metadata's).
        self._signing: tuple[tuple[int, int, int], bytes] | None = None
        self._keys: tuple[tuple[int, int, int] | None, dict[str, ApiKeyRecord | None]] = (None, {})

    def _signing_key(self) -> bytes:
        try:
            return self._read_signing_key()
        except FileNotFoundError:
            with self.metadata.lock():
                if not self.signing_key_file.exists():
                    atomic_write_bytes(self.signing_key_file, secrets.token_bytes(32), mode=0o600)
            return self._read_signing_key()

    def _read_signing_key(self) -> bytes:
        st = os.stat(self.signing_key_file)
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._signing is None or self._signing[0] != stamp:
            self._signing = (stamp, self.signing_key_file.read_bytes())
        return self._signing[1]

    def create_api_key(self, org_id: str, user_id: str, name: str = "", role: str = DEFAULT_ROLE) -> CreatedApiKey:
        """A new key for ``user_id`` in the org with a role (``core.permissions.ROLES``), and its
        secret. The secret is not stored."""
        check_org(org_id)
        if role not in ROLES:
            raise ValidationFailed(f"unknown role {role!r}; a key's role is one of: {', '.join(ROLES)}")
        if not user_id.strip() or len(user_id) > MAX_USER_ID or len(name) > MAX_API_KEY_NAME:
            raise ValidationFailed(f"an API key needs a user id of 1-{MAX_USER_ID} characters and a name of at most {MAX_API_KEY_NAME}")
        check_storable({"user_id": user_id, "name": name}, "API key")
        key_id, secret = self.ids(), "wbk_" + secrets.token_urlsafe(32)
        record = ApiKeyRecord(id=key_id, org_id=org_id, user_id=user_id, name=name, secret_sha256=_hash(secret), created_at=self.clock(), role=role)
        with self.metadata.write() as view:
            view.api_keys.insert(record)
        return CreatedApiKey(id=key_id, secret=secret)

    def list_api_keys(self, org_id: str) -> list[ApiKeyInfo]:
        """The org's keys with their roles; never a secret or its hash."""
        check_org(org_id)
        with self.metadata.read() as view:
            keys = view.api_keys.of_org(org_id)
        return [ApiKeyInfo(id=k.id, org_id=k.org_id, user_id=k.user_id, name=k.name, created_at=k.created_at, revoked=k.revoked, role=k.role) for k in keys]

    def revoke_api_key(self, org_id: str, key_id: str) -> None:
        check_org(org_id)
        with self.metadata.write() as view:
            if not view.api_keys.revoke(org_id, key_id):
                raise NotFound(f"API key {key_id} does not exist in organization {org_id}")

    def _active_key(self, key_id: str) -> ApiKeyRecord | None:
        stamp = self.metadata.stamp()  # before the read: a commit meanwhile changes it again
        seen, keys = self._keys
        if seen != stamp or stamp is None:
            seen, keys = self._keys = (stamp, {})
        if key_id not in keys:
            with self.metadata.read() as view:
                keys[key_id] = view.api_keys.get(key_id)
        key = keys[key_id]
        return key if key and not key.revoked else None

    def organization_exists(self, org_id: str) -> bool:
        """Whether the org exists here: it has API keys or tools."""
        if not ORG.match(org_id or ""):
            return False
        with self.metadata.read() as view:
            return bool(view.api_keys.of_org(org_id) or view.tools.of_org(org_id))

    def sign_in(self, org_id: str, key_id: str | None, secret: str | None, user_id: str | None) -> SignedIn:
        """A token for a valid key of this org and its user; 404 if the org does not exist,
        401 otherwise."""
        if not self.organization_exists(org_id):
            raise NotFound(f"Specified organization is not found: {org_id!r} has no API keys or tools here (create a key with `workbench apikey create --org {org_id}`)")
        key = self._active_key(key_id or "")
        if not key or key.org_id != org_id or not _same(key.secret_sha256, _hash(secret or "")) or key.user_id != user_id:
            raise Unauthorized("invalid API key: x-api-key, x-api-key-id and x-user-id must name an active key of this organization and its user")
        expires = self.clock() + TOKEN_LIFETIME
        claims = {"org": org_id, "user": user_id, "key": key.id, "exp": int(expires.timestamp()), "n": os.urandom(4).hex()}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        signature = hmac.new(self._signing_key(), body.encode(), hashlib.sha256).hexdigest()
        return SignedIn(token=f"{body}.{signature}", expires_at=expires)

    def authenticate(self, token: str | None, username: str | None = None) -> Identity:
        """Who a token is; 401 if it is missing, forged, malformed, expired or its key is revoked.
        ``username`` is Basic authentication's, which must be ``{org_id}_{user_id}`` of the token."""
        if not token:
            raise Unauthorized(
                "missing credentials: send Authorization: Bearer TOKEN, or Basic with username {org_id}_{user_id} and the token as password "
                "(the token from POST /v1/{organization}/user/signin_with_api_key)"
            )
        body, _, signature = token.partition(".")
        try:
            signing = self._read_signing_key()  # never made here: without one, no token was ever signed
        except FileNotFoundError:
            raise Unauthorized("invalid token: sign in again with an API key") from None
        expected = hmac.new(signing, body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        if not _same(signature, expected):
            raise Unauthorized("invalid token: sign in again with an API key")
        try:
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            org_id, user_id, key_id, expires = str(claims["org"]), str(claims["user"]), str(claims["key"]), float(claims["exp"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise Unauthorized("invalid token: sign in again with an API key") from None
        if expires < self.clock().timestamp():
            raise Unauthorized("the token has expired: sign in again with an API key")
        key = self._active_key(key_id)
        if not key:
            raise Unauthorized("the API key this token was issued for has been revoked")
        if username is not None and username != f"{org_id}_{user_id}":
            raise Unauthorized("Basic authentication's username must be {org_id}_{user_id} of the user the token was issued to")
        return Identity(org_id, user_id, key_id, key.role)

    def authorize(
        self, identity: Identity, org_id: str, header_org: str | None, operation: str | None = None, tool_id: str | None = None, request: ModelOrDict = None
    ) -> None:
        """The token's org must be the path's (403); X-ORG-ID, if sent, must name the token's org
        (401); and the key's role must grant what ``operation`` needs (403 naming what is
        missing). A change of variables that touches a secret also needs ``Tool:ManageSecrets``."""
        if header_org and header_org != identity.org_id:
            raise Unauthorized(f"X-ORG-ID says the token was issued by {header_org!r}, but it was issued by {identity.org_id!r}")
        if org_id != identity.org_id:
            raise Forbidden(f"a token of organization {identity.org_id!r} may not act on organization {org_id!r}")
        if operation is None:
            return
        needed = self._needed(org_id, operation, tool_id, request)
        missing = [p for p in needed if p not in role_permissions(identity.role)]
        if missing:
            raise Forbidden(f"Missing required permissions: {', '.join(missing)} (the API key's role {identity.role!r} does not grant it)", missing=missing)

    def _needed(self, org_id: str, operation: str, tool_id: str | None, request: ModelOrDict) -> tuple[Permission, ...]:
        if operation != "modify-tool-envvars" or request is None:
            return OPERATION_PERMISSIONS[operation]
        req = parse(ModifyEnvVarsRequest, request, "environment variables request")
        changed = {u.name for u in req.updates} | {d.name for d in req.deletes}
        secret_names: set[str] = set()
        if changed and tool_id:
            with self.metadata.read() as view:
                secret_names = {v.name for v in view.envvars.live(org_id, tool_id) if v.is_secret}
        return envvar_change_permissions(any(i.is_secret for i in req.inserts), changed, secret_names)
