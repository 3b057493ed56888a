"""Opening the workbench for a face: the local service over a data directory, or a remote one
over a Tools API server. The faces get a :class:`~workbench.core.api.ToolsApi` and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from workbench.core.api import ServedApi, ToolsApi
from workbench.errors import BadRequest
from workbench.settings import Settings


def open_local(settings: Settings, clock: Callable[[], datetime] | None = None, ids: Callable[[], str] | None = None) -> ServedApi:
    """The local service over the data directory the settings name."""
    from workbench.core.service import ToolService

    from workbench.core.models import utcnow
    from workbench.names import new_id

    return ToolService(settings, clock or utcnow, ids or new_id)


def open_remote(settings: Settings, org: str) -> ToolsApi:
    """A Tools API server's organization, signed in with the configured API key."""
    from workbench.remote.client import ToolsClient
    from workbench.remote.service import RemoteService

    if not (settings.remote and settings.api_key_id and settings.api_key):
        raise BadRequest("remote mode needs a server and an API key: set WORKBENCH_REMOTE, WORKBENCH_API_KEY_ID and WORKBENCH_API_KEY (see `workbench apikey create` on the server's machine)")
    return RemoteService(settings, ToolsClient(settings.remote, org, settings.api_key_id, settings.api_key, settings.user))


def open_api(settings: Settings, org: str | None = None) -> ToolsApi:
    """Remote when the settings name a server, else local."""
    return open_remote(settings, org or settings.org) if settings.remote else open_local(settings)


def create_project(name: str, target: Path, description: str | None = None) -> Path:
    """A complete tool project that passes its own checks; needs no data directory or server."""
    from workbench.repo.scaffold import create_project as scaffold

    return scaffold(name, target, description)
