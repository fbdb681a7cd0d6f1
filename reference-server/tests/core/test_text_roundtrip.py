"""Strings the contract allows come back exactly as sent on every backend, U+0000 and backslashes included
(PostgreSQL text cannot hold U+0000: its backend stores text escaped), and filters still match them."""

from __future__ import annotations

import pytest
from core_harness import Server, event

pytestmark = pytest.mark.anyio

AWKWARD = ["nul\u0000inside", "back\\slash", "\\0 looks escaped", "both \\\u0000 \u0000\\", "trailing\\"]


async def test_awkward_strings_round_trip_and_filter(server: Server) -> None:
    for index, text in enumerate(AWKWARD):
        body = event(subject=text, correlation_id=text, data={"text": text}, metadata={"k": text})
        body["source"] = f"src{index}\\"
        created = await server.admin.post("/events", json=body)
        assert created.status_code == 201, created.text
        stored = (await server.admin.get(f"/events/{created.json()['id']}")).json()
        assert (stored["subject"], stored["correlation_id"], stored["source"]) == (text, text, f"src{index}\\")
        assert stored["data"] == {"text": text} and stored["metadata"] == {"k": text}
        listed = (await server.admin.get("/events", params={"subject": text})).json()["data"]
        assert [item["id"] for item in listed] == [created.json()["id"]]
        by_source = (await server.admin.get("/events", params={"source": f"src{index}\\"})).json()["data"]
        assert [item["id"] for item in by_source] == [created.json()["id"]]
