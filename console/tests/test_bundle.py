"""The console's first load stays small: the JS and CSS that index.html names, gzipped, within the issue's budget."""

from __future__ import annotations

import gzip
import re

from conftest import ROOT

DIST = ROOT / "reference-server" / "src" / "triggers_server" / "console_dist"
BUDGET_BYTES = 250 * 1024


def test_first_load_js_and_css_fit_the_gzipped_budget() -> None:
    index = (DIST / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="/console/(assets/[^"]+\.(?:js|css))"', index)
    assert len(assets) == 2  # one script, one stylesheet: nothing else on the first load
    gzipped = sum(len(gzip.compress((DIST / asset).read_bytes(), compresslevel=6)) for asset in assets)
    print(f"console first load: {gzipped} bytes gzipped")
    assert gzipped <= BUDGET_BYTES
