"""A real server for tests: the API app under uvicorn on a free local port, in a thread, and the
helpers that sign in to it and check its error bodies."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from workbench.core.service import ToolService
from workbench.server.app import create_app

SECRET = "server-secret-VALUE-5"


def spec_input(parameters: dict, mode: str = "regular") -> dict:
    """One input as the API takes it: every field the spec requires."""
    return {"input_parameters": parameters, "invocation_mode": mode, "nonsensitive_user_variables": {}, "sensitive_user_variables": {}}


class Running:
    """``workbench serve`` over ``service`` on 127.0.0.1, until :meth:`stop`."""

    def __init__(self, service: ToolService, strict: bool = False, app: Any = None) -> None:
        """``app``: an application made otherwise (with more routers, say) instead of create_app's."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        app = app if app is not None else create_app(service, strict_limits=strict)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def token(url: str, service: ToolService, org: str = "acme", user: str = "ada", role: str = "admin") -> str:
    """A token from the sign-in endpoint, for a new key of ``role``."""
    created = service.create_api_key(org, user, role=role)
    response = httpx.post(f"{url}/v1/{org}/user/signin_with_api_key", headers={"x-api-key": created.secret, "x-api-key-id": created.id, "x-user-id": user})
    assert response.status_code == 200 and set(response.json()) == {"id_token", "expires_at"}, response.text
    return response.json()["id_token"]


def sign_in(url: str, service: ToolService, org: str = "acme", user: str = "ada", role: str = "admin") -> httpx.Client:
    """A client that sends a Bearer token of a new key of ``role``."""
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token(url, service, org, user, role)}"}, timeout=120)


def error(response: httpx.Response, status: int, fragment: str) -> dict:
    """The response is the one error body with this status, and its detail says ``fragment``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"detail", "code", "details"} and isinstance(body["detail"], str) and body["code"], body
    assert fragment in body["detail"], body["detail"]
    return body
