"""Typed access to the workbench from any widget: the API and the organization it shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.api import ToolsApi

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


class UsesApi:
    """Mixed into widgets and screens that call the workbench, so each call is type-checked
    against :class:`~workbench.core.api.ToolsApi`."""

    @property
    def workbench(self) -> WorkbenchApp:
        return self.app  # type: ignore[attr-defined,no-any-return]

    @property
    def api(self) -> ToolsApi:
        return self.workbench.service

    @property
    def org(self) -> str:
        return self.workbench.org
