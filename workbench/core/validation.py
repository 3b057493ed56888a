"""Checks every operation makes at its door: the organization, ids, and request bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.core.sizes import unstorable_text
from workbench.errors import ValidationFailed, validation_error_from_pydantic
from workbench.names import OBJECT_ID, ORG

M = TypeVar("M", bound=BaseModel)

ModelOrDict = BaseModel | Mapping[str, Any] | None
"""What an operation takes as a request: the typed model, or its JSON body as a mapping."""


def parse(model: type[M], data: ModelOrDict, what: str) -> M:
    """Validate a request body or query; a bad one is a 422 that names each bad field, and so is
    one holding text the workbench will not store (NUL, a lone surrogate, deep nesting)."""
    if isinstance(data, model):
        check_storable(data.model_dump(), what)
        return data
    raw = dict(data or {})
    check_storable(raw, what)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise validation_error_from_pydantic(error, what) from None


def check_org(org_id: str) -> str:
    if not ORG.match(org_id or ""):
        raise ValidationFailed(
            f"invalid organization {org_id!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return org_id


def check_object_id(value: str, what: str) -> str:
    if not OBJECT_ID.match(value or ""):
        raise ValidationFailed(f"invalid {what} {value!r}: it must be 24 lowercase hex characters")
    return value


def check_storable(data: Any, what: str) -> None:
    """422 unless every text in ``data`` can be stored (see :func:`unstorable_text`)."""
    problem = unstorable_text(data)
    if problem:
        raise ValidationFailed(f"invalid {what}: {problem}")
