"""Who is calling and may they: the API's credentials (a Bearer token, or Basic with username
``{org_id}_{user_id}`` and the token as password; X-ORG-ID optional), the permission each
operation needs, and, with strict limits, the per-endpoint rate limits."""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header, Request

from workbench.core.api import ServedApi
from workbench.core.results import Identity
from workbench.errors import RateLimited, Unauthorized
from workbench.server.limits import RateLimiter
from workbench.server.wire import extra_headers

IGNORED = "Accepted for compatibility with the hosted API, and ignored."


def credentials(authorization: str | None) -> tuple[str | None, str | None]:
    """(token, Basic username) from an Authorization header; (None, None) if it has neither."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None, None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        username, colon, token = decoded.partition(":")
        if not colon:
            raise Unauthorized("Basic credentials must be base64 of {org_id}_{user_id}:TOKEN (the token from sign-in-with-api-key)")
        return token or None, username
    return None, None


class Guard:
    """FastAPI dependencies that authenticate, authorize and rate-limit one operation."""

    def __init__(self, service: ServedApi, strict_limits: bool) -> None:
        self.service = service
        self.limiter = RateLimiter() if strict_limits else None

    def _limit(self, caller: str, operation: str, request: Request) -> None:
        if self.limiter is None:
            return
        allowed, limit, remaining, reset = self.limiter.hit(caller, operation)
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(int(time.time() + math.ceil(reset)))}
        if not allowed:
            raise RateLimited(
                f"rate limit exceeded: {limit} requests per minute for {operation}; retry in {math.ceil(reset)} s",
                retry_after=math.ceil(reset),
                headers={**headers, "Retry-After": str(math.ceil(reset))},
            )
        extra_headers(request).update(headers)

    def identify(self, operation: str, organization: str, authorization: str | None, x_org_id: str | None) -> Identity:
        """Who the credentials are, if they may do ``operation`` in the organization (401/403
        otherwise). Cheap: what it reads is kept while its file is unchanged."""
        token, username = credentials(authorization)
        identity = self.service.authenticate(token, username)
        self.service.authorize(identity, organization, x_org_id, operation)
        return identity

    def __call__(self, operation: str) -> Callable[..., Awaitable[Identity]]:
        """The dependency of an operation that needs a token whose key's role grants it. It runs
        on the event loop (it reads nothing that is not kept): a thread for it would cost more."""

        async def dependency(
            request: Request,
            organization: str,
            authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
            x_org_id: Annotated[str | None, Header(include_in_schema=False)] = None,
            x_mongo_cluster_name: Annotated[str | None, Header(description=IGNORED)] = None,
            sec_websocket_protocol: Annotated[list[str], Header(alias="Sec-WebSocket-Protocol", description=IGNORED)] = [],  # noqa: B006 (FastAPI copies it)
        ) -> Identity:
            identity = self.identify(operation, organization, authorization, x_org_id)
            self._limit(identity.key_id, operation, request)
            return identity

        return dependency

    def anonymous(self, operation: str) -> Callable[..., None]:
        """The dependency of sign-in: rate-limited per client address."""

        def dependency(
            request: Request,
            x_mongo_cluster_name: Annotated[str | None, Header(description=IGNORED)] = None,
            sec_websocket_protocol: Annotated[list[str], Header(alias="Sec-WebSocket-Protocol", description=IGNORED)] = [],  # noqa: B006 (FastAPI copies it)
        ) -> None:
            self._limit(request.client.host if request.client else "local", operation, request)

        return dependency
