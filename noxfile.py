"""Every task of the Triggers SDK suite: `nox -l` lists them.

`nox -s tests` is what CI runs (through `.ci/run`); `nox -s demo` runs the reference server on SQLite
and walks through the Python SDK against it.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nox

ROOT = Path(__file__).resolve().parent
CONTRACT = ROOT / "openapi.yaml"
PY = "3.11"

nox.options.default_venv_backend = "uv|venv"
nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = True

CODEGEN_REQUIREMENTS = ROOT / "codegen" / "requirements.txt"
SERVER = ROOT / "reference-server"
PYTHON_SDK = ROOT / "python-sdk"
TS_SDK = ROOT / "sdks" / "typescript"
GO_SDK = ROOT / "sdks" / "go"
CONSOLE = ROOT / "console"
CONSOLE_DIST = SERVER / "src" / "triggers_server" / "console_dist"
CHROMIUM = Path("/usr/bin/chromium")
TOOLS = ROOT / "tools"
SCRATCH = ROOT / "scratch"
CONFORMANCE = ROOT.parent / "shared" / "conformance"


def _run_in(session: nox.Session, folder: Path, *args: str, **kwargs: Any) -> Any:
    """session.run with `folder` as the working directory (nox has no cwd= argument)."""
    with session.chdir(folder):
        return session.run(*args, **kwargs)


def _npm_ci(session: nox.Session, folder: Path) -> None:
    if not (folder / "node_modules" / ".package-lock.json").exists():
        _run_in(session, folder, "npm", "ci", "--no-audit", "--no-fund", external=True)


def _install_server(session: nox.Session) -> None:
    session.install("-e", f"{SERVER}[dev]")


# ---------------------------------------------------------------- contract & codegen
@nox.session(python=PY)
def lint(session: nox.Session) -> None:
    """Validate the contract (openapi-spec-validator, redocly recommended ruleset) and ruff the Python code."""
    session.install("-r", str(CODEGEN_REQUIREMENTS))
    session.run("openapi-spec-validator", str(CONTRACT))
    _npm_ci(session, TOOLS)
    session.run(
        str(TOOLS / "node_modules" / ".bin" / "redocly"),
        "lint",
        "--format",
        "stylish",
        str(CONTRACT),
        external=True,
    )
    session.run("ruff", "check", "noxfile.py", "codegen", "tests", "bench", "demo", "console/tests")
    session.run(
        "ruff",
        "format",
        "--check",
        "codegen/model.py",
        "codegen/generate.py",
        "codegen/lang",
    )


@nox.session(python=PY)
def codegen(session: nox.Session) -> None:
    """Regenerate every SDK's generated layer (`-- --check` fails on drift instead)."""
    session.install("-r", str(CODEGEN_REQUIREMENTS))
    if (TS_SDK / "package-lock.json").exists():
        _npm_ci(session, TS_SDK)
    session.run("python", "codegen/generate.py", *session.posargs)


@nox.session(python=PY)
def generators_compat(session: nox.Session) -> None:
    """The contract stays consumable by mainstream generators: openapi-python-client (+ mypy --strict) and hey-api (+ tsc --strict).

    openapi-python-client 0.29.1 has two generator bugs our contract trips over, so it gets a copy without them:
    it buffers `text/event-stream` and calls `Event.from_dict` on a str (the stream operation is dropped), and for a
    request body with several media types of which one is an array it emits `isinstance(body, list[CloudEvent])`,
    a TypeError at run time (only the `application/json` body is kept). hey-api gets the contract unchanged.
    """
    session.install("-r", str(CODEGEN_REQUIREMENTS))
    session.install("openapi-python-client==0.29.1", "mypy==2.4.1", "httpx==0.28.1", "attrs==26.1.0", "python-dateutil==2.9.0.post0")
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir()
    compat_contract = SCRATCH / "openapi-python-client.yaml"
    session.run("python", "-c", _OPC_FILTER, str(CONTRACT), str(compat_contract))
    py_out = SCRATCH / "triggers_api_client"
    session.run("openapi-python-client", "generate", "--path", str(compat_contract), "--output-path", str(py_out), "--meta", "none")
    session.run("mypy", "--strict", str(py_out))
    _npm_ci(session, TOOLS)
    ts_out = SCRATCH / "hey-api"
    session.run(str(TOOLS / "node_modules" / ".bin" / "openapi-ts"), "-i", str(CONTRACT), "-o", str(ts_out / "client"), external=True)
    tsconfig = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "ES2022",
            "module": "NodeNext",
            "moduleResolution": "NodeNext",
            "lib": ["ES2022", "DOM", "DOM.Iterable"],
        },
        "include": ["client/**/*.ts"],
    }
    (ts_out / "tsconfig.json").write_text(json.dumps(tsconfig))
    session.run(str(TOOLS / "node_modules" / ".bin" / "tsc"), "-p", str(ts_out / "tsconfig.json"), external=True)


_OPC_FILTER = """
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
del doc["paths"]["/events/stream"]
for item in doc["paths"].values():
    for op in item.values():
        content = op.get("requestBody", {}).get("content", {})
        for media in [m for m in content if m != "application/json" and "application/json" in content]:
            del content[media]
yaml.safe_dump(doc, open(sys.argv[2], "w"), sort_keys=False)
"""


# ---------------------------------------------------------------- per component
@nox.session(python=PY)
def server(session: nox.Session) -> None:
    """Reference server: semantic, conformance, schemathesis and reliability tests; mypy --strict and pyright strict."""
    _install_server(session)
    _run_in(session, SERVER, "ruff", "check", "src", "tests")
    _run_in(session, SERVER, "ruff", "format", "--check", "src", "tests")
    _run_in(session, SERVER, "mypy", "--strict", "src")
    _run_in(session, SERVER, "pyright")
    _run_in(session, SERVER, "lint-imports", "--no-cache")
    _run_in(session, SERVER, "pytest", "-q", *session.posargs)


@nox.session(python=PY)
def python(session: nox.Session) -> None:
    """Python SDK: unit tests (asyncio + trio), mypy --strict and pyright on the package and examples."""
    session.install("-r", str(PYTHON_SDK / "requirements-dev.txt"))
    session.install("-e", f"{PYTHON_SDK}[testing,cli]", "-e", str(SERVER))
    _run_in(
        session,
        PYTHON_SDK,
        "python",
        "-m",
        "pytest",
        "-q",
        "--ignore=tests/contract",
        *session.posargs,
    )
    _run_in(session, PYTHON_SDK, "ruff", "check", "src", "tests", "examples")
    _run_in(session, PYTHON_SDK, "ruff", "format", "--check", "src", "tests", "examples")
    _run_in(session, PYTHON_SDK, "mypy", "--strict", "src", "examples")
    _run_in(session, PYTHON_SDK, "pyright", "src", "examples")


@nox.session(python=False)
def typescript(session: nox.Session) -> None:
    """TypeScript SDK: npm ci && npm test (unit tests, tsc --strict on the package and examples, npm pack check)."""
    _npm_ci(session, TS_SDK)
    _run_in(session, TS_SDK, "npm", "test", external=True)


@nox.session(python=False)
def go(session: nox.Session) -> None:
    """Go SDK: go vet and go test -race."""
    _run_in(session, GO_SDK, "go", "vet", "./...", external=True)
    _run_in(session, GO_SDK, "go", "test", "-race", "-count=1", "./...", external=True)


@nox.session(python=PY)
def console(session: nox.Session) -> None:
    """Web console: npm ci, tsc --strict, build into the server package, then browser tests against a live server.

    `-- --check` builds into a scratch folder and fails if the committed `console_dist/` differs (the drift check
    CI runs); `-- --screenshots` writes a screenshot of every test (failures always get one) to
    console/test-results/; any other argument goes to pytest.
    """
    check = "--check" in session.posargs
    screenshots = "--screenshots" in session.posargs
    pytest_args = [arg for arg in session.posargs if arg not in ("--check", "--screenshots")]
    _npm_ci(session, CONSOLE)
    _run_in(session, CONSOLE, "npm", "run", "typecheck", external=True)
    if check:
        with tempfile.TemporaryDirectory(prefix="console-dist-") as out:
            _run_in(session, CONSOLE, "npm", "run", "build", external=True, env={"CONSOLE_OUT_DIR": out})
            drift = _tree_differences(Path(out), CONSOLE_DIST)
        if drift:
            session.error(f"{CONSOLE_DIST.relative_to(ROOT)} is stale ({', '.join(drift)}): run `nox -s console`")
    else:
        _run_in(session, CONSOLE, "npm", "run", "build", external=True)
    if not CHROMIUM.exists():
        session.error(f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium")
    _install_server(session)
    session.install("-r", str(CONSOLE / "tests" / "requirements.txt"), env={"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"})
    session.install("-e", str(PYTHON_SDK))  # the tests run the page's copy-as-Python snippet
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(CONSOLE / "tests"),
        *pytest_args,
        env={
            "TRIGGERS_SERVER": str(Path(session.bin) / "triggers-server"),
            "CHROMIUM": str(CHROMIUM),
            "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
            "CONSOLE_ARTIFACTS": str(CONSOLE / "test-results"),
            "CONSOLE_SCREENSHOTS": "1" if screenshots else "0",
        },
    )


def _tree_differences(built: Path, committed: Path) -> list[str]:
    """Relative paths that are missing, extra or different between two folders."""

    def files(folder: Path) -> dict[str, bytes]:
        if not folder.is_dir():
            return {}
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    want, have = files(built), files(committed)
    return sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))


# ---------------------------------------------------------------- live server helpers
@contextlib.contextmanager
def _running_server(session: nox.Session, db: str, *extra: str) -> Iterator[tuple[str, str]]:
    """Start the session venv's `triggers-server` on a free port (bench/_server.py); yield (base_url, admin_key)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from _server import running_server

    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(
                running_server(*extra, executable=str(Path(session.bin) / "triggers-server"), db_path=Path(db), log_level="info")
            )
        except RuntimeError as error:  # the server did not start: fail the session with the reason, not a traceback
            session.error(str(error))
        yield server.base_url, server.admin_key


# ---------------------------------------------------------------- cross-SDK contract
def _scenario_ids() -> list[str]:
    """Scenario ids in catalogue order (read without a YAML parser: nox's own environment has none)."""
    text = (ROOT / "tests" / "contract" / "scenarios.yaml").read_text()
    return re.findall(r"^  - id: ([a-z0-9-]+)$", text, flags=re.MULTILINE)


@nox.session(python=PY)
def contract(session: nox.Session) -> None:
    """Run every SDK's contract suite against one live reference server; print the scenario-by-language matrix."""
    _install_server(session)
    session.install("-r", str(PYTHON_SDK / "requirements-dev.txt"), "-e", f"{PYTHON_SDK}[testing]")
    reports = Path(tempfile.mkdtemp(prefix="contract-"))
    with (
        tempfile.TemporaryDirectory() as tmp,
        _running_server(session, str(Path(tmp) / "contract.db"), "--retry-schedule", "0,1,2") as (url, key),
    ):
        env = {"TRIGGERS_BASE_URL": url, "TRIGGERS_API_KEY": key}
        runs = {
            "python": lambda report: _run_in(
                session,
                PYTHON_SDK,
                "python",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/contract",
                env={**env, "TRIGGERS_CONTRACT_REPORT": report},
                success_codes=[0, 1],
            ),
            "typescript": lambda report: (
                _npm_ci(session, TS_SDK),
                _run_in(
                    session,
                    TS_SDK,
                    "npm",
                    "run",
                    "test:contract",
                    external=True,
                    env={**env, "TRIGGERS_CONTRACT_REPORT": report},
                    success_codes=[0, 1],
                ),
            ),
            "go": lambda report: _run_in(
                session,
                GO_SDK,
                "go",
                "test",
                "-count=1",
                "-run",
                "TestContract",
                "./...",
                external=True,
                env={**env, "TRIGGERS_CONTRACT_REPORT": report},
                success_codes=[0, 1],
            ),
        }
        for language, run in runs.items():
            run(str(reports / f"{language}.json"))
    ids = _scenario_ids()
    results: dict[str, dict[str, str]] = {}
    for language in runs:
        path = reports / f"{language}.json"
        results[language] = json.loads(path.read_text())["results"] if path.exists() else {}
    width = max(len(i) for i in ids)
    print(f"{'scenario':<{width}}  " + "  ".join(f"{lang:<10}" for lang in runs))
    failed = []
    for sid in ids:
        row = [results[lang].get(sid, "missing") for lang in runs]
        failed += [f"{lang}:{sid}={r}" for lang, r in zip(runs, row, strict=True) if r != "pass"]
        print(f"{sid:<{width}}  " + "  ".join(f"{r:<10}" for r in row))
    if failed:
        session.error(f"{len(failed)} scenario results are not 'pass': {', '.join(failed)}")


# ---------------------------------------------------------------- demo & bench
@nox.session(python=PY)
def demo(session: nox.Session) -> None:
    """The product tour: start the reference server on SQLite (.demo/), run the brief's demo flow, keep serving."""
    _install_server(session)
    session.install("-e", f"{PYTHON_SDK}[cli]")
    session.run("python", str(ROOT / "demo" / "tour.py"), "--server", str(Path(session.bin) / "triggers-server"), *session.posargs)


@nox.session(python=PY)
def tour(session: nox.Session) -> None:
    """The product tour's test: `demo/tour.py --no-wait` on a fresh data folder and again over it, every step checked."""
    _install_server(session)
    session.install("-e", f"{PYTHON_SDK}[cli]", "pytest==9.2.0")
    session.run("pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "demo" / "test_tour.py"), *session.posargs)


@nox.session(python=PY)
def bench(session: nox.Session) -> None:
    """Benchmarks (ratios against same-run baselines), written to bench/results/*.json and summarised in docs/benchmarks.md."""
    _install_server(session)
    session.install("-r", str(PYTHON_SDK / "requirements-dev.txt"), "-e", str(PYTHON_SDK))
    for script in sorted((ROOT / "bench").glob("*.py")):
        if script.name != "summarise.py" and not script.name.startswith("_"):
            session.run("python", str(script), *session.posargs)
    _npm_ci(session, TS_SDK)
    _run_in(session, TS_SDK, "npm", "run", "bench", external=True)
    _run_in(
        session,
        GO_SDK,
        "go",
        "test",
        "-run",
        "^$",
        "-bench",
        ".",
        "-benchtime",
        "2000x",
        "./...",
        external=True,
    )
    session.run("python", str(ROOT / "bench" / "summarise.py"))


# ---------------------------------------------------------------- everything CI runs
@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Everything CI runs: lint, codegen drift, mainstream generators, every component's tests, the contract matrix,
    the tour and the console (bundle drift and browser tests)."""
    session.notify("lint")
    session.notify("codegen", posargs=["--check"])
    session.notify("generators_compat")
    session.notify("server")
    session.notify("python")
    session.notify("typescript")
    session.notify("go")
    session.notify("contract")
    session.notify("tour")
    session.notify("console", posargs=["--check"])
    if not CONFORMANCE.exists():
        session.warn(f"{CONFORMANCE} is absent: conformance-vector checks will skip")
