"""Python SDK for the Triggers API.

Attributes are imported lazily (PEP 562) so ``import zapier_triggers`` stays cheap; the client,
models and errors load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._constants import SDK_VERSION as __version__

if TYPE_CHECKING:
    from ._base_client import RetryPolicy
    from ._client import SyncTriggersClient, TriggersClient
    from ._exceptions import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        IdempotencyInProgressError,
        IdempotencyKeyReusedError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        ProblemDetail,
        RateLimitError,
        SchemaValidationError,
        TriggersError,
        UnprocessableEntityError,
        WebhookVerificationError,
    )
    from ._pagination import Page, Paginator, SyncPaginator
    from ._response import APIResponse
    from ._streaming import EventStream, StreamPolicy, StreamReset, SyncEventStream
    from ._types import NOT_GIVEN, NotGiven
    from .lib.inbox import Message, SyncMessage
    from .webhooks import Webhook

_EXPORTS: dict[str, str] = {
    "TriggersClient": "._client",
    "SyncTriggersClient": "._client",
    "RetryPolicy": "._base_client",
    "APIResponse": "._response",
    "Paginator": "._pagination",
    "SyncPaginator": "._pagination",
    "Page": "._pagination",
    "EventStream": "._streaming",
    "SyncEventStream": "._streaming",
    "StreamPolicy": "._streaming",
    "StreamReset": "._streaming",
    "NOT_GIVEN": "._types",
    "NotGiven": "._types",
    "Message": ".lib.inbox",
    "SyncMessage": ".lib.inbox",
    "Webhook": ".webhooks",
    **{
        name: "._exceptions"
        for name in (
            "APIConnectionError",
            "APIError",
            "APIResponseValidationError",
            "APIStatusError",
            "APITimeoutError",
            "AuthenticationError",
            "BadRequestError",
            "ConflictError",
            "IdempotencyInProgressError",
            "IdempotencyKeyReusedError",
            "InternalServerError",
            "NotFoundError",
            "PermissionDeniedError",
            "ProblemDetail",
            "RateLimitError",
            "SchemaValidationError",
            "TriggersError",
            "UnprocessableEntityError",
            "WebhookVerificationError",
        )
    },
}

__all__ = [
    "__version__",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EventStream",
    "IdempotencyInProgressError",
    "IdempotencyKeyReusedError",
    "InternalServerError",
    "Message",
    "NOT_GIVEN",
    "NotFoundError",
    "NotGiven",
    "Page",
    "Paginator",
    "PermissionDeniedError",
    "ProblemDetail",
    "RateLimitError",
    "RetryPolicy",
    "SchemaValidationError",
    "StreamPolicy",
    "StreamReset",
    "SyncEventStream",
    "SyncMessage",
    "SyncPaginator",
    "SyncTriggersClient",
    "TriggersClient",
    "TriggersError",
    "UnprocessableEntityError",
    "Webhook",
    "WebhookVerificationError",
]


# Names from before the one naming rule (unprefixed = async), kept until _deprecation.REMOVED_IN.
_RENAMED: dict[str, str] = {"AsyncPaginator": "Paginator", "AsyncMessage": "Message"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        from ._deprecation import warn_renamed

        warn_renamed(__name__, name, _RENAMED[name])
        return __getattr__(_RENAMED[name])
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
