"""Keys as people read them (``ctrl+r``, ``F1``, ``/``), found from the bindings themselves, so
the help, the command palette and the footer never disagree."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding, BindingType
from textual.keys import format_key

NAMES = {"escape": "esc", "enter": "enter", "space": "space", "tab": "tab", "delete": "del", "backspace": "backspace"}


def key_label(keys: str) -> str:
    """The first of a binding's keys, e.g. ``"f1"`` -> ``F1``, ``"ctrl+r"`` -> ``ctrl+r``,
    ``"slash"`` -> ``/``."""
    key = keys.split(",")[0].strip()
    *modifiers, name = key.split("+")
    if name.startswith("f") and name[1:].isdigit():
        shown = name.upper()
    else:
        shown = NAMES.get(name) or format_key(name)
    return "+".join([*modifiers, shown])


def own_bindings(node: type) -> list[Binding]:
    """The bindings a class declares itself, as Binding objects."""
    declared: Iterable[BindingType] = node.__dict__.get("BINDINGS", [])
    return [item if isinstance(item, Binding) else Binding(*item) for item in declared]


def bindings_of(node: type) -> list[Binding]:
    """The bindings a class declares and inherits, base classes first."""
    return [binding for cls in reversed(node.__mro__) for binding in own_bindings(cls)]


def key_for(node: type, action: str) -> str:
    """The key bound to ``action`` on ``node`` (a screen or widget class), or ``""``."""
    for binding in reversed(bindings_of(node)):
        if binding.action == action:
            return key_label(binding.key)
    return ""
