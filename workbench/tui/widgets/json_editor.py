"""The input editor: JSON with syntax highlighting, pre-filled from the input schema's examples
and defaults; where the schema gives no value, a placeholder says what is expected and the editor
will not run until it is replaced."""

from __future__ import annotations

import json
import re
from typing import Any

from textual.binding import Binding
from textual.widgets import TextArea

PLACEHOLDER = re.compile(r"^<(?P<name>[^<>:]+): (?P<expected>.*)>$")
EXAMPLE_IN_TEXT = re.compile(r"\b(?:e\.g\.|for example|example:)\s*(?P<value>[^\s,;)]+?)[.,;)]?(?:\s|$)", re.IGNORECASE)


class JsonEditor(TextArea):
    """A TextArea for JSON: highlighted, indents with tab, ``ctrl+a`` selects all."""

    BINDINGS = [Binding("ctrl+a", "select_all", "Select all", show=False, id="editor.select_all")]

    def __init__(self, text: str = "{}", *, id: str | None = None) -> None:
        super().__init__(text, language="json", id=id, tab_behavior="indent", soft_wrap=False, show_line_numbers=False)


def _type_of(spec: dict[str, Any]) -> str:
    kind = spec.get("type", "string")
    return str(kind[0] if isinstance(kind, list) and kind else kind)


def _matches(spec: dict[str, Any], value: str) -> bool:
    pattern = spec.get("pattern")
    return bool(value) and (pattern is None or re.search(pattern, value) is not None) and len(value) >= int(spec.get("minLength", 0))


def expected(spec: dict[str, Any]) -> str:
    """What a property takes, in a few words: ``text matching ^[A-Z]-\\d{4}$``, ``integer 1-100000``."""
    kind = _type_of(spec)
    if "enum" in spec:
        return "one of " + ", ".join(json.dumps(v) for v in spec["enum"])
    if kind == "string":
        if "pattern" in spec:
            return f"text matching {spec['pattern']}"
        return "non-empty text" if spec.get("minLength", 0) >= 1 else "text"
    if kind in ("integer", "number"):
        low, high = spec.get("minimum", spec.get("exclusiveMinimum")), spec.get("maximum", spec.get("exclusiveMaximum"))
        bounds = f" {low}-{high}" if low is not None and high is not None else f" ≥ {low}" if low is not None else f" ≤ {high}" if high is not None else ""
        return kind + bounds
    return kind


def example_value(name: str, spec: dict[str, Any]) -> tuple[bool, Any]:
    """(found, value) for one property: its example, default, const or first enum value; an
    example given in its description ("e.g. A-1001") if it fits; for numbers the smallest allowed;
    else not found."""
    for key in ("examples",):
        if isinstance(spec.get(key), list) and spec[key]:
            return True, spec[key][0]
    for key in ("default", "const"):
        if key in spec:
            return True, spec[key]
    if spec.get("enum"):
        return True, spec["enum"][0]
    kind = _type_of(spec)
    if kind == "string":
        found = EXAMPLE_IN_TEXT.search(str(spec.get("description", "")))
        if found and _matches(spec, found.group("value")):
            return True, found.group("value")
        return False, None
    if kind in ("integer", "number"):
        low = spec.get("minimum")
        if low is None and "exclusiveMinimum" in spec:
            low = spec["exclusiveMinimum"] + 1
        high = spec.get("maximum")
        value = low if low is not None else (min(0, high) if high is not None else 0)
        return True, int(value) if kind == "integer" else value
    if kind == "boolean":
        return True, False
    return False, None


def example_input(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """An input to start from, and the optional properties left out (with what they take).

    The schema's own example comes first; else each required property gets an example value or a
    ``"<name: what is expected>"`` placeholder, and each optional one that has an example."""
    examples = schema.get("examples")
    if isinstance(examples, list) and examples and isinstance(examples[0], dict):
        return examples[0], []
    required = set(schema.get("required") or [])
    started: dict[str, Any] = {}
    optional: list[str] = []
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        found, value = example_value(name, spec)
        if found:
            started[name] = value
        elif name in required:
            started[name] = f"<{name}: {expected(spec)}>" if _type_of(spec) == "string" else ([] if _type_of(spec) == "array" else {})
        else:
            optional.append(f"{name} ({expected(spec)})")
    return started, optional


def placeholders_left(inputs: list[Any]) -> list[str]:
    """What the editor's placeholders still ask for, e.g. ``input 0: order_id: text matching …``."""
    left = []
    for index, item in enumerate(inputs):
        for key, value in (item.items() if isinstance(item, dict) else []):
            found = PLACEHOLDER.match(value) if isinstance(value, str) else None
            if found and found.group("name") == key:
                left.append(f"input {index}: {key}: replace the placeholder with {found.group('expected')}")
    return left
