"""The web console (issue 12): the single-page app built from `console/` into `console_dist/`, shipped in the wheel.

`/` and `/console` redirect to `/console/`; `/console/assets/<name>` serves the built, content-hashed files (only
those, so no path ever reaches outside the folder); every other `/console/...` path answers with the app's
`index.html`, whose own router draws the page (reloads and shared links work). Console responses carry a strict
Content-Security-Policy: scripts, styles and API calls from this origin only, nothing inline, no framing.
The app talks to the API under `/v1` with the signed-in key like any other client; these routes need no key.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse

CONSOLE_PATH: Final = "/console"
# Found through the package, not this module's location, so the module can move within the server.
DIST: Final = Path(str(resources.files("triggers_server").joinpath("console_dist")))
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Asset names carry a content hash, so a cached copy is never stale; index.html is revalidated every time.
_ASSET_CACHE: Final = "public, max-age=31536000, immutable"
_INDEX_CACHE: Final = "no-cache"

router = APIRouter(include_in_schema=False)


def _assets() -> dict[str, Path]:
    folder = DIST / "assets"
    return {path.name: path for path in folder.iterdir() if path.is_file()} if folder.is_dir() else {}


_ASSETS: Final = _assets()


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse(f"{CONSOLE_PATH}/", status_code=307)


@router.get(CONSOLE_PATH)
async def console_bare() -> RedirectResponse:
    return RedirectResponse(f"{CONSOLE_PATH}/", status_code=307)


@router.get(CONSOLE_PATH + "/assets/{name:path}")
async def console_asset(name: str) -> FileResponse:
    path = _ASSETS.get(name)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={**_SECURITY_HEADERS, "Cache-Control": _ASSET_CACHE})


@router.get(CONSOLE_PATH + "/{page:path}")
async def console_page(page: str) -> FileResponse:
    """Any console route (`/console/`, `/console/events/evt_1`, ...): the app, which routes in the browser."""
    del page  # the browser's router reads the path
    return FileResponse(
        DIST / "index.html",
        media_type="text/html; charset=utf-8",
        headers={**_SECURITY_HEADERS, "Cache-Control": _INDEX_CACHE},
    )
