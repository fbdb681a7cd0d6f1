"""The web console (issue 12): the single-page app built from `console/` into `console_dist/`, shipped in the wheel.

`/` and `/console` redirect to `/console/`; `/console/assets/<name>` serves the built, content-hashed files (only
those, so no path ever reaches outside the folder); every other `/console/...` path answers with the app's
`index.html`, whose own router draws the page (reloads and shared links work). Console responses carry a strict
Content-Security-Policy: scripts, styles and API calls from this origin only, nothing inline, no framing.
The app talks to the API under `/v1` with the signed-in key like any other client; these routes need no key.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from starlette.responses import FileResponse, RedirectResponse

from triggers_server.http.static_bundle import StaticBundle

CONSOLE_PATH: Final = "/console"
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
BUNDLE: Final = StaticBundle("console_dist", content_security_policy=CONTENT_SECURITY_POLICY)

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse(f"{CONSOLE_PATH}/", status_code=307)


@router.get(CONSOLE_PATH)
async def console_bare() -> RedirectResponse:
    return RedirectResponse(f"{CONSOLE_PATH}/", status_code=307)


@router.get(CONSOLE_PATH + "/assets/{name:path}")
async def console_asset(name: str) -> FileResponse:
    return BUNDLE.asset(name)


@router.get(CONSOLE_PATH + "/{page:path}")
async def console_page(page: str) -> FileResponse:
    """Any console route (`/console/`, `/console/events/evt_1`, ...): the app, which routes in the browser."""
    del page  # the browser's router reads the path
    return BUNDLE.page()
