"""The API reference and playground at `/docs` (issue 12): Scalar's standalone bundle drawing `/v1/openapi.yaml`.

The page is built from `console/api-docs/` into `docs_dist/` (shipped in the wheel, like `console_dist/`):
`index.html`, its configuration module and the vendored Scalar bundle under `assets/`. `/docs/assets/<name>`
serves only those files; `/playground` and `/docs/` lead to `/docs`. Responses carry a strict
Content-Security-Policy: scripts, fonts, images and API calls from this origin only, no inline script, no framing.
Styles alone may be inline: Scalar injects its stylesheet, its theme and its toast styles as `<style>` elements
and sets style attributes at run time (only the first honours a nonce), and draws nothing readable without them.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from starlette.responses import FileResponse, RedirectResponse

from triggers_server.http.static_bundle import StaticBundle

DOCS_PATH: Final = "/docs"
PLAYGROUND_PATH: Final = "/playground"
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
BUNDLE: Final = StaticBundle("docs_dist", content_security_policy=CONTENT_SECURITY_POLICY)

router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH)
async def docs_page() -> FileResponse:
    return BUNDLE.page()


@router.get(DOCS_PATH + "/")
async def docs_slash() -> RedirectResponse:
    return RedirectResponse(DOCS_PATH, status_code=307)


@router.get(PLAYGROUND_PATH)
async def playground() -> RedirectResponse:
    """The playground is the reference's try-it: every operation has a "Test Request" button."""
    return RedirectResponse(DOCS_PATH, status_code=307)


@router.get(DOCS_PATH + "/assets/{name:path}")
async def docs_asset(name: str) -> FileResponse:
    return BUNDLE.asset(name)
