"""The API reference at `/docs` is served from the package's own `docs_dist/` (what the wheel ships), under a strict
CSP.

The page itself (Scalar drawing the contract, try-it, no foreign requests, accessibility) is tested in a real browser
in `console/tests/test_docs.py` (`nox -s console`); these need no Node and no browser."""

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

DIST = Path(triggers_server.__file__).resolve().parent / "docs_dist"
PACKAGE = Path(__file__).resolve().parents[2]
# Scripts from this origin only and nothing inline; styles may be inline because Scalar injects its own <style>
# elements and style attributes at run time (console/README.md says so).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _root(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(server.app), base_url="http://testserver")


async def test_docs_answers_with_the_packaged_page_under_a_strict_csp(server: Server) -> None:
    async with _root(server) as client:
        response = await client.get("/docs")
    assert response.status_code == 200
    assert response.content == (DIST / "index.html").read_bytes()
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"


async def test_the_page_loads_the_vendored_scalar_bundle_and_its_configuration_from_this_server(server: Server) -> None:
    index = (DIST / "index.html").read_text()
    named = re.findall(r'<script[^>]* src="([^"]+)"', index)
    assert sorted(Path(path).name.startswith("scalar-api-reference-") for path in named) == [False, True]
    assert all(path.startswith("/docs/assets/") for path in named)  # no CDN, no other origin
    assert re.search(r"<script(?![^>]* src=)[^>]*>", index) is None  # nothing inline for the CSP to refuse
    assert "style=" not in index
    styles = re.findall(r'<link rel="stylesheet"[^>]* href="(/docs/assets/[^"]+\.css)"', index)
    assert len(styles) == 1  # the page's contrast fixes over Scalar's palette
    async with _root(server) as client:
        for path in [*named, *styles]:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.content == (DIST / "assets" / Path(path).name).read_bytes()
            assert response.headers["content-type"].startswith("text/css" if path in styles else "text/javascript")
            assert response.headers["content-security-policy"] == CSP
            assert "immutable" in response.headers["cache-control"]
        configuration = (await client.get(next(p for p in named if "scalar-api-reference-" not in p))).text
        assert "/v1/openapi.yaml" in configuration  # the contract this server serves is the source
        assert_problem(await client.get("/docs/assets/missing.js"), 404, "not-found")
        assert_problem(await client.get("/docs/assets/..%2F..%2Fapp.py"), 404, "not-found")


async def test_playground_and_a_trailing_slash_lead_to_docs(server: Server) -> None:
    async with _root(server) as client:
        for path in ("/playground", "/docs/"):
            response = await client.get(path)
            assert response.status_code == 307, path
            assert response.headers["location"] == "/docs"


async def test_the_contract_the_page_draws_is_served_without_a_key(server: Server) -> None:
    async with _root(server) as client:
        response = await client.get("/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.text.startswith("openapi: 3.1")


@pytest.mark.slow
def test_the_wheel_ships_the_docs_page(tmp_path: Path) -> None:
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
            assert archive.read(f"triggers_server/docs_dist/{name}") == path.read_bytes(), name
