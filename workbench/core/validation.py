"""Checks every operation makes at its door: the organization, ids, and request bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.errors import ValidationFailed, validation_error_from_pydantic
from workbench.names import OBJECT_ID, ORG

M = TypeVar("M", bound=BaseModel)

ModelOrDict = BaseModel | Mapping[str, Any] | None
"""What an operation takes as a request: the typed model, or its JSON body as a mapping."""


def parse(model: type[M], data: ModelOrDict, what: str) -> M:
    """Validate a request body or query; a bad one is a 422 that names each bad field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(dict(data or {}))
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
