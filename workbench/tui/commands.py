"""A command palette that knows where you are: each screen offers its own commands, each shown
with the key that does the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from workbench.tui.keys import key_for


@dataclass(frozen=True)
class PaletteCommand:
    """One entry of the palette: what it is called, what it does, and its key (if any)."""

    name: str
    help: str
    callback: Callable[[], object]
    key: str = ""

    @classmethod
    def bound(cls, node: object, name: str, help_text: str, action: str) -> PaletteCommand:
        """A command that runs ``node``'s ``action_<action>``, shown with the key bound to it."""
        return cls(name, help_text, getattr(node, f"action_{action}"), key_for(type(node), action))

    def display(self, name: Content | None = None) -> Content:
        shown = name if name is not None else Content(self.name)
        return Content.assemble(shown, ("  " + self.key, "dim")) if self.key else shown


class WorkbenchCommands(Provider):
    """Commands of the current screen, from its ``palette_commands()``."""

    def _commands(self) -> list[PaletteCommand]:
        getter = getattr(self.screen, "palette_commands", None)
        return list(getter()) if getter else []

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.display(), partial(command.callback), text=command.name, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, command.display(matcher.highlight(command.name)), partial(command.callback), text=command.name, help=command.help)
