"""Access to the running app's `Services` from a request (read at call time, so tests may swap parts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from fastapi import Request

if TYPE_CHECKING:
    from .app import Services


def services_of(request: Request) -> Services:
    return cast("Services", request.app.state.services)
