"""A built single-page bundle shipped in the wheel (`console_dist/`, `docs_dist/`): its page and its assets.

Only the files under `assets/` are served (looked up by name, so no path reaches outside the folder); their
names carry a content hash or a version, so they are cached for good, while the page is revalidated every time.
Every response carries the bundle's Content-Security-Policy and headers that keep it from being sniffed,
referred or framed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse

_ASSET_CACHE: Final = "public, max-age=31536000, immutable"
_PAGE_CACHE: Final = "no-cache"


class StaticBundle:
    def __init__(self, folder: str, *, content_security_policy: str) -> None:
        # Found through the package, not a module's location, so the serving modules can move.
        self.root = Path(str(resources.files("triggers_server").joinpath(folder)))
        self.headers = {
            "Content-Security-Policy": content_security_policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        assets = self.root / "assets"
        self._assets = {path.name: path for path in assets.iterdir() if path.is_file()} if assets.is_dir() else {}

    def page(self) -> FileResponse:
        return FileResponse(
            self.root / "index.html",
            media_type="text/html; charset=utf-8",
            headers={**self.headers, "Cache-Control": _PAGE_CACHE},
        )

    def asset(self, name: str) -> FileResponse:
        path = self._assets.get(name)
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, headers={**self.headers, "Cache-Control": _ASSET_CACHE})
