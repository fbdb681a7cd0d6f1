"""Import cost of the Python SDK vs httpx + pydantic alone, from ``python -X importtime``.

Each figure is the median, over fresh interpreters, of the summed cumulative import time of the
top-level imports the snippet triggers (interpreter start-up imports excluded). Target (issue 4):
``import zapier_triggers`` ≤ 1.5x ``import httpx`` + ``from pydantic import BaseModel``. Also reported:
getting the client class (which imports httpx, pydantic, anyio and the runtime core) and the first
model use (which imports the generated models). Merges into ``bench/results/python-sdk.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "python-sdk.json"

SNIPPETS = {
    "baseline_httpx_pydantic": "import httpx; from pydantic import BaseModel",
    "import_zapier_triggers": "import zapier_triggers",
    "client_class": "from zapier_triggers import TriggersClient",
    "client_and_models": "from zapier_triggers import TriggersClient; from zapier_triggers.types import Event",
}


def _top_level_cumulative_us(code: str) -> int:
    """Sum of cumulative µs of the top-level imports ``code`` triggers beyond interpreter start-up."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], **_RUN)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return sum(us for name, us in _top_level(result.stderr).items() if name not in _STARTUP)


_RUN = {"capture_output": True, "text": True, "check": False}


def _top_level(stderr: str) -> dict[str, int]:
    modules: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, rest = line.partition(":")
        _self, cumulative, name = (part for part in rest.split("|"))
        if not name.startswith(" ") or name.startswith("  "):
            continue  # nested import (indented): already counted in its parent's cumulative
        modules[name.strip()] = int(cumulative)
    return modules


_STARTUP = _top_level(subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], **_RUN).stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    samples: dict[str, list[int]] = {label: [] for label in SNIPPETS}
    for _ in range(args.runs):  # interleaved, so background load affects every snippet alike
        for label, code in SNIPPETS.items():
            samples[label].append(_top_level_cumulative_us(code))
    medians = {label: statistics.median(values) for label, values in samples.items()}
    base = medians["baseline_httpx_pydantic"]
    figures = {
        "target_ratio": 1.5,
        "runs": args.runs,
        **{f"{label}_ms": round(us / 1000, 2) for label, us in medians.items()},
        "ratio_import_zapier_triggers": round(medians["import_zapier_triggers"] / base, 3),
        "ratio_client_class": round(medians["client_class"] / base, 3),
        "ratio_client_and_models": round(medians["client_and_models"] / base, 3),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged["import_cost"] = figures
    RESULTS.write_text(json.dumps(merged, indent=2) + "\n")
    print(json.dumps({"import_cost": figures}, indent=2))


if __name__ == "__main__":
    main()
