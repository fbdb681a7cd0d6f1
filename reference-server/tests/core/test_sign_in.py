"""One-time sign-in codes: the console's printed link signs a browser in once, briefly, without a key in a URL."""

from __future__ import annotations

import pytest
from core_harness import ADMIN_KEY, Server, assert_problem

from triggers_server.cli import browser_host, sign_in_line
from triggers_server.config import Settings
from triggers_server.models._generated import ApiKey

pytestmark = pytest.mark.anyio


async def test_a_code_redeems_once_for_an_admin_key_of_the_bootstrap_account(server: Server) -> None:
    code = server.services.sign_in.issue()
    anonymous = server.client(None)
    redeemed = await anonymous.post("/sign-in-codes/redeem", json={"code": code})
    assert redeemed.status_code == 201, redeemed.text
    key = ApiKey.model_validate(redeemed.json())
    assert key.key is not None and key.scopes[0].value == "admin" and key.name == "console sign-in"
    bootstrap_account = (await server.admin.get("/account")).json()["id"]
    signed_in = server.client(key.key)
    assert (await signed_in.get("/account")).json()["id"] == bootstrap_account
    again = await anonymous.post("/sign-in-codes/redeem", json={"code": code})
    body = assert_problem(again, 401, "unauthenticated")
    assert "already used" in body["detail"]
    assert again.headers["www-authenticate"].startswith("Bearer")


async def test_a_code_expires_after_its_time_to_live(server: Server) -> None:
    code = server.services.sign_in.issue()
    server.clock.advance(server.services.settings.sign_in_code_ttl_seconds)
    expired = await server.client(None).post("/sign-in-codes/redeem", json={"code": code})
    assert_problem(expired, 401, "unauthenticated")


async def test_unknown_and_malformed_codes_are_refused_without_a_key(server: Server) -> None:
    anonymous = server.client(None)
    assert_problem(await anonymous.post("/sign-in-codes/redeem", json={"code": "sic_nope"}), 401, "unauthenticated")
    assert_problem(await anonymous.post("/sign-in-codes/redeem", json={}), 422, "validation")
    assert_problem(await anonymous.post("/sign-in-codes/redeem", json={"code": ""}), 422, "validation")


async def test_the_key_is_not_needed_and_not_accepted_in_place_of_a_code(server: Server) -> None:
    refused = await server.client(None).post("/sign-in-codes/redeem", json={"code": ADMIN_KEY})
    assert_problem(refused, 401, "unauthenticated")


def test_the_link_carries_the_code_in_the_fragment_on_a_browsable_host() -> None:
    line = sign_in_line(Settings(host="0.0.0.0"), 8123, "sic_abc")
    assert line.endswith("http://127.0.0.1:8123/console/#code=sic_abc")
    assert "10 min" in line
    assert browser_host("::1") == "[::1]" and browser_host("example.test") == "example.test"
