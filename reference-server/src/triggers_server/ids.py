"""Identifiers: `<prefix>_<26 chars>` sortable by creation time (48-bit ms timestamp + 80 random bits)."""

from __future__ import annotations

import hashlib
import random
import secrets
import time

_random = random.Random(secrets.randbits(128))  # ids need uniqueness, not secrecy: no syscall per id

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str) -> str:
    value = (int(time.time() * 1000) << 80) | _random.getrandbits(80)
    chars: list[str] = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def new_api_key_secret() -> str:
    """`tk_` + 32 URL-safe characters (192 random bits)."""
    return "tk_" + secrets.token_urlsafe(24)


def hash_key(secret: str) -> str:
    """The only form in which an API key is stored or looked up (SHA-256, hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()
