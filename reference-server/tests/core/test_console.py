"""The web console is served from the package's own `console_dist/` (what the wheel ships), under a strict CSP.

The browser flows are tested in `console/tests` (`nox -s console`); these need no Node and no browser."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
from core_harness import Server, assert_problem

import triggers_server

pytestmark = pytest.mark.anyio

DIST = Path(triggers_server.__file__).resolve().parent / "console_dist"
PACKAGE = Path(__file__).resolve().parents[2]
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _root(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(server.app), base_url="http://testserver")


async def test_root_and_bare_console_redirect_to_the_console(server: Server) -> None:
    async with _root(server) as client:
        for path in ("/", "/console"):
            response = await client.get(path)
            assert response.status_code == 307
            assert response.headers["location"] == "/console/"


async def test_console_and_its_sub_routes_answer_with_the_app_under_a_strict_csp(server: Server) -> None:
    index = (DIST / "index.html").read_bytes()
    async with _root(server) as client:
        for path in ("/console/", "/console/events", "/console/events/evt_1", "/console/dlq"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.content == index
            assert response.headers["content-type"] == "text/html; charset=utf-8"
            assert response.headers["content-security-policy"] == CSP
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["cache-control"] == "no-cache"


async def test_every_asset_the_page_names_is_served_and_nothing_else(server: Server) -> None:
    index = (DIST / "index.html").read_text()
    named = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', index)
    assert any(name.endswith(".js") for name in named) and any(name.endswith(".css") for name in named)
    assert "<script>" not in index and "style=" not in index  # nothing inline for the CSP to refuse
    async with _root(server) as client:
        for path in named:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.content == (DIST / "assets" / path.rsplit("/", 1)[1]).read_bytes()
            assert response.headers["content-security-policy"] == CSP
            assert "immutable" in response.headers["cache-control"]
        assert_problem(await client.get("/console/assets/missing.js"), 404, "not-found")
        assert_problem(await client.get("/console/assets/..%2F..%2Fapp.py"), 404, "not-found")


async def test_the_api_is_untouched_by_the_console_routes(server: Server) -> None:
    assert (await server.admin.get("/events")).status_code == 200
    async with _root(server) as client:
        response = await client.get("/v1/events")
        assert_problem(response, 401, "unauthenticated")
        assert "content-security-policy" not in response.headers


@pytest.mark.slow
def test_the_wheel_ships_the_built_console(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from hatchling.build import build_wheel; build_wheel(sys.argv[1])",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
        cwd=PACKAGE,
    )
    [wheel] = tmp_path.glob("triggers_server-*.whl")
    built = {path.relative_to(DIST).as_posix(): path for path in DIST.rglob("*") if path.is_file()}
    assert "index.html" in built
    with zipfile.ZipFile(wheel) as archive:
        for name, path in built.items():
            assert archive.read(f"triggers_server/console_dist/{name}") == path.read_bytes(), name
