"""A client of the Tools API: signs in with an API key, then speaks the API's paths, query
parameters and bodies. It works against ``workbench serve`` and the hosted API alike."""

from __future__ import annotations

from typing import Any

import httpx

from workbench.errors import BadRequest, Conflict, Forbidden, NotFound, RateLimited, ServiceUnavailable, Unauthorized, ValidationFailed, WorkbenchError

ERRORS: dict[int, type[WorkbenchError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: ValidationFailed,
    503: ServiceUnavailable,
}


def _params(query: dict[str, Any]) -> list[tuple[str, Any]]:
    """Query parameters with repeated keys for lists, as the API takes arrays; None is left out."""
    pairs: list[tuple[str, Any]] = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs += [(key, item) for item in value]
        elif isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        else:
            pairs.append((key, value))
    return pairs


class ToolsClient:
    """HTTP calls of the Tools API for one organization, authenticated with an API key."""

    def __init__(self, base_url: str, org: str, key_id: str, key: str, user_id: str, timeout: float = 600) -> None:
        self.org = org
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._credentials = (key_id, key, user_id)
        self._token: str | None = None

    def _sign_in(self) -> None:
        key_id, key, user_id = self._credentials
        response = self.http.post(f"/v1/{self.org}/user/signin_with_api_key", headers={"x-api-key": key, "x-api-key-id": key_id, "x-user-id": user_id})
        self._check(response)
        self._token = response.json()["id_token"]

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            body = response.json()
            detail = body.get("detail", body) if isinstance(body, dict) else body
        except ValueError:
            detail = response.text
        message = detail if isinstance(detail, str) else str(detail)
        if response.status_code == 429:
            raise RateLimited(f"the server's rate limit: {message}", retry_after=int(response.headers.get("Retry-After", "60")))
        raise ERRORS.get(response.status_code, WorkbenchError)(f"{message} (HTTP {response.status_code} from the server)")

    def request(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One API call; signs in first (and again once if the token has expired)."""
        for attempt in range(2):
            if self._token is None:
                self._sign_in()
            response = self.http.request(method, f"/v1/{self.org}{path}", params=_params(query or {}), json=body, headers={"Authorization": f"Bearer {self._token}"})
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            self._check(response)
            return response.json() if response.content else None
        return None

    def close(self) -> None:
        self.http.close()
