"""Lenient response models: unknown fields are kept and unknown enum values accepted.

A newer server must never break an older SDK (unknown fields and enum values are normal drift).
Clients built with ``strict=True`` call :func:`find_drift` and fail instead, which is what tests want.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, cast

import pydantic

__all__ = ["BaseModel", "OpenStrEnum", "UnknownVariant", "find_drift"]


class BaseModel(pydantic.BaseModel):
    """Base of every generated model: extra fields allowed and round-tripped."""

    model_config = pydantic.ConfigDict(
        extra="allow",
        populate_by_name=True,
        validate_by_name=True,
        protected_namespaces=(),
    )

    def to_dict(self) -> dict[str, Any]:
        """The wire (JSON) form: aliases, without fields the server did not send."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class UnknownVariant(BaseModel):
    """A union member added to the contract after this SDK was generated, kept as sent.

    Generated unions try their known members first (each has a ``Literal`` tag) and fall back to this,
    so e.g. a new replay target ``kind`` decodes instead of failing; its fields are in ``model_extra``.
    """


class OpenStrEnum(str, enum.Enum):
    """A string enum that accepts values added to the contract after this SDK was generated.

    Unknown values become pseudo-members (``member.is_known`` is False) instead of failing decoding.
    """

    @classmethod
    def _missing_(cls, value: object) -> OpenStrEnum | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        return self._name_ in type(self).__members__


def find_drift(value: object, path: str = "$") -> list[str]:
    """Where ``value`` departs from the contract: unknown fields and unknown enum values."""
    found: list[str] = []
    if isinstance(value, OpenStrEnum):
        if not value.is_known:
            found.append(f"{path}: unknown enum value {value.value!r}")
    elif isinstance(value, UnknownVariant):
        found.append(f"{path}: unknown union variant {value.to_dict()!r}")
    elif isinstance(value, pydantic.BaseModel):
        for name in type(value).model_fields:
            found.extend(find_drift(getattr(value, name), f"{path}.{name}"))
        for extra in value.model_extra or {}:
            found.append(f"{path}.{extra}: unknown field")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(cast("Sequence[object]", value)):
            found.extend(find_drift(item, f"{path}[{index}]"))
    return found
