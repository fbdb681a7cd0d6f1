"""One-time sign-in codes: how a local server's printed link signs a browser in without a key in any URL.

The server issues a code at start-up and prints a link carrying it in the URL fragment (never sent in a
request line, so never in an access log). The console redeems it once, within its time to live, for a new
admin key of the bootstrap account, kept in the tab's sessionStorage. Codes live in this process's memory,
hashed: they are meant for the process that printed them."""

from __future__ import annotations

import secrets

from triggers_server.clock import Clock
from triggers_server.domain.errors import Unauthenticated
from triggers_server.ids import hash_key
from triggers_server.storage.ports.accounts import AccountStore, ApiKeyRecord

CODE_PREFIX = "sic_"
KEY_NAME = "console sign-in"
_REFUSED = "The sign-in code is unknown, expired or already used; start the server again for a new link."


class SignInCodes:
    def __init__(self, accounts: AccountStore, clock: Clock, *, ttl_seconds: float, max_deliveries: int) -> None:
        self._accounts = accounts
        self._clock = clock
        self._ttl_seconds = ttl_seconds
        self._max_deliveries = max_deliveries
        self._expiry_by_hash: dict[str, float] = {}

    def issue(self) -> str:
        """A fresh code, valid once for `ttl_seconds`."""
        code = CODE_PREFIX + secrets.token_urlsafe(24)
        self._expiry_by_hash[hash_key(code)] = self._clock.now().timestamp() + self._ttl_seconds
        return code

    async def redeem(self, code: str) -> tuple[ApiKeyRecord, str]:
        """A new admin key of the bootstrap account for a live code; the code is spent either way."""
        expiry = self._expiry_by_hash.pop(hash_key(code), None)
        now = self._clock.now()
        if expiry is None or now.timestamp() >= expiry:
            raise Unauthenticated(_REFUSED)
        account_id = await self._accounts.bootstrap_account_id()
        if account_id is None:
            raise Unauthenticated(_REFUSED)
        return await self._accounts.create_key(
            account_id=account_id,
            new_account=None,
            max_deliveries=self._max_deliveries,
            name=KEY_NAME,
            scopes=("admin",),
            now=now,
        )
