"""The API reference and playground at `/docs` (issue 12): Scalar's standalone bundle drawing `/v1/openapi.yaml`.

The page is built from `console/api-docs/` into `docs_dist/` (shipped in the wheel, like `console_dist/`):
`index.html`, its configuration module and the vendored Scalar bundle under `assets/`. `/docs/assets/<name>`
serves only those files; `/playground` and `/docs/` lead to `/docs`. Responses carry a strict
Content-Security-Policy: scripts, fonts, images and API calls from this origin only, no inline script, no framing.
Styles alone may be inline: Scalar injects its stylesheet, its theme and its toast styles as `<style>` elements
and sets style attributes at run time (only the first honours a nonce), and draws nothing readable without them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse

DOCS_PATH: Final = "/docs"
PLAYGROUND_PATH: Final = "/playground"
# Found through the package, not this module's location, so the module can move within the server.
DIST: Final = Path(str(resources.files("triggers_server").joinpath("docs_dist")))
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The configuration module's name carries a content hash and Scalar's its version, so a cached copy is never
# stale; index.html is revalidated every time.
_ASSET_CACHE: Final = "public, max-age=31536000, immutable"
_INDEX_CACHE: Final = "no-cache"

router = APIRouter(include_in_schema=False)


def _assets() -> dict[str, Path]:
    folder = DIST / "assets"
    return {path.name: path for path in folder.iterdir() if path.is_file()} if folder.is_dir() else {}


_ASSETS: Final = _assets()


@router.get(DOCS_PATH)
async def docs_page() -> FileResponse:
    return FileResponse(
        DIST / "index.html",
        media_type="text/html; charset=utf-8",
        headers={**_SECURITY_HEADERS, "Cache-Control": _INDEX_CACHE},
    )


@router.get(DOCS_PATH + "/")
async def docs_slash() -> RedirectResponse:
    return RedirectResponse(DOCS_PATH, status_code=307)


@router.get(PLAYGROUND_PATH)
async def playground() -> RedirectResponse:
    """The playground is the reference's try-it: every operation has a "Test Request" button."""
    return RedirectResponse(DOCS_PATH, status_code=307)


@router.get(DOCS_PATH + "/assets/{name:path}")
async def docs_asset(name: str) -> FileResponse:
    path = _ASSETS.get(name)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={**_SECURITY_HEADERS, "Cache-Control": _ASSET_CACHE})
