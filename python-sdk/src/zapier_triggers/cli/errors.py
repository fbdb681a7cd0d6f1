"""Turning failures into one line on stderr and a distinct exit code."""

from __future__ import annotations

from .._exceptions import APIConnectionError, APIError, APIStatusError, APITimeoutError
from .exit_codes import ExitCode

__all__ = ["CliError", "describe_api_error", "exit_code_for"]


class CliError(Exception):
    """A failure the CLI detected itself (bad input file, missing profile...); printed as-is."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def describe_api_error(error: APIError) -> str:
    """One line: status and title, the problem's detail and field errors, then the request id."""
    if isinstance(error, APIStatusError):
        parts = [f"{error.status_code} {error.title or 'Error'}"]
        if error.detail:
            parts.append(error.detail)
        shown = error.detail or ""
        parts.extend(  # field errors the detail does not already spell out
            f"{item.pointer or '/'}: {item.detail}" for item in error.errors if item.detail not in shown
        )
        text = " — ".join(parts)
    elif isinstance(error, APITimeoutError):
        text = f"timed out waiting for {_target(error)}"
    elif isinstance(error, APIConnectionError):
        reason = error.message.removeprefix("Connection error: ")
        text = f"could not reach {_target(error)}: {reason}"
    else:
        text = error.message
    if error.request_id:
        text += f" (request {error.request_id})"
    return text


def exit_code_for(error: APIError) -> ExitCode:
    return ExitCode.CONNECTION if isinstance(error, APIConnectionError) else ExitCode.API_ERROR


def _target(error: APIError) -> str:
    if error.request is None:
        return "the API"
    url = error.request.url
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
