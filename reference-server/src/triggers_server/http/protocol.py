"""The HTTP/1.1 protocol the server runs: uvicorn's httptools protocol with llhttp's narrow leniency for
header *values* turned on, so the app can answer a malformed header with its own problem+json.

A strict llhttp refuses any control character in a field value before the app sees the request, and uvicorn
answers that with a bare `text/plain` 400: an `Idempotency-Key` holding DEL (0x7f) never reached the
`invalid-idempotency-key` check. RFC 9110 §5.5 lets a recipient keep control characters other than NUL, CR
and LF in a field value; llhttp implements exactly that as `llhttp_set_lenient_header_value_relaxed`, which
httptools 0.9.0 does not expose, so it is switched on here through the parser's own C entry point. Everything
else stays strict (whitespace before a colon, obs-fold, bare CR/LF, NUL, Content-Length/Transfer-Encoding).
The parser object is found through httptools' struct layout and used only if llhttp's back-pointer to the
Python parser confirms it; otherwise the parser stays strict and a warning says so.

llhttp's relaxed state never finishes on a NUL inside a header value, so a chunk holding a NUL is parsed
strictly (a NUL is never valid in a header; in a body the leniency does not apply).
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from typing import Any

import httptools.parser.parser as httptools_parser  # pyright: ignore[reportMissingTypeStubs]
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("triggers_server.http.protocol")

# httptools' HttpParser: PyObject_HEAD (16 bytes) and the Cython vtable pointer, then `llhttp_t* _cparser`.
_CPARSER_OFFSET = 24
# llhttp_t (64-bit): int32 _index, void* _span_pos0, void* _span_cb0, int32 error, char* reason, char* error_pos,
# then `void* data`, which httptools points back at the Python parser object.
_DATA_OFFSET = 48


def _relaxed_setter() -> Callable[[int, bool], None] | None:
    try:
        library = ctypes.CDLL(str(httptools_parser.__file__))
        setter = library.llhttp_set_lenient_header_value_relaxed
    except (OSError, AttributeError):
        return None
    setter.argtypes = [ctypes.c_void_p, ctypes.c_int]
    setter.restype = None

    def apply(cparser: int, enabled: bool) -> None:
        setter(cparser, 1 if enabled else 0)

    return apply


_SET_RELAXED = _relaxed_setter() if ctypes.sizeof(ctypes.c_void_p) == 8 else None


def llhttp_of(parser: Any) -> int | None:
    """The `llhttp_t*` of an httptools parser, or None unless llhttp's back-pointer confirms it."""
    if type(parser).__basicsize__ < _CPARSER_OFFSET + 8:
        return None
    cparser = ctypes.c_void_p.from_address(id(parser) + _CPARSER_OFFSET).value
    if not cparser:
        return None
    back = ctypes.c_void_p.from_address(cparser + _DATA_OFFSET).value
    return cparser if back == id(parser) else None


class RelaxedHeaderValuesProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, keeping non-NUL control characters in header values for the app."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._llhttp = llhttp_of(self.parser) if _SET_RELAXED is not None else None
        if self._llhttp is None:
            log.warning("httptools parser layout not recognised: header values are parsed strictly")
        self._relaxed = False

    def data_received(self, data: bytes) -> None:
        if self._llhttp is not None and _SET_RELAXED is not None and self.parser is not None:
            relaxed = b"\x00" not in data
            if relaxed != self._relaxed:
                _SET_RELAXED(self._llhttp, relaxed)
                self._relaxed = relaxed
        super().data_received(data)
