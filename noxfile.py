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
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nox

ROOT = Path(__file__).resolve().parent
CONTRACT = ROOT / "openapi.yaml"
ASYNC_CONTRACT = ROOT / "asyncapi.yaml"
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
DOCS_DIST = SERVER / "src" / "triggers_server" / "docs_dist"  # /docs: built by the console's `npm run build` too
CHROMIUM = Path("/usr/bin/chromium")
TOOLS = ROOT / "tools"
SCRATCH = ROOT / "scratch"
CONFORMANCE = ROOT.parent / "shared" / "conformance"
# `go test` through gotestsum: its closing summary lists every skipped test with its reason (plain `go test` hides them).
GO_TEST = ("go", "run", "gotest.tools/gotestsum@v1.13.0", "--format", "pkgname", "--")


def _run_in(session: nox.Session, folder: Path, *args: str, **kwargs: Any) -> Any:
    """session.run with `folder` as the working directory (nox has no cwd= argument)."""
    with session.chdir(folder):
        return session.run(*args, **kwargs)


def _npm_ci(session: nox.Session, folder: Path) -> None:
    """`npm ci` when node_modules is missing or older than the lock file (a pulled dependency change reinstalls)."""
    installed, lock = folder / "node_modules" / ".package-lock.json", folder / "package-lock.json"
    if not installed.exists() or (lock.exists() and lock.stat().st_mtime > installed.stat().st_mtime):
        _run_in(session, folder, "npm", "ci", "--no-audit", "--no-fund", external=True)


def _install_server(session: nox.Session) -> None:
    session.install("-e", f"{SERVER}[dev]")


# ---------------------------------------------------------------- contract & codegen
@nox.session(python=PY)
def lint(session: nox.Session) -> None:
    """Validate the contracts (openapi-spec-validator, redocly recommended ruleset; AsyncAPI parser), ruff, test the noxfile."""
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
    # The streaming contract (AsyncAPI 3.0), parsed with its references into openapi.yaml resolved.
    session.run("node", str(TOOLS / "validate-asyncapi.mjs"), str(ASYNC_CONTRACT), external=True)
    session.run("ruff", "check", "noxfile.py", "codegen", "tests", "bench", "demo", "release", "console/tests")
    session.install("pytest==9.2.0", "nox==2026.10.20")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_noxfile.py")
    session.run(
        "ruff",
        "format",
        "--check",
        "codegen/model.py",
        "codegen/generate.py",
        "codegen/lang",
    )


def _codegen(session: nox.Session, *args: str) -> None:
    session.install("-r", str(CODEGEN_REQUIREMENTS))
    if (TS_SDK / "package-lock.json").exists():
        _npm_ci(session, TS_SDK)
    session.run("python", "codegen/generate.py", *args)


@nox.session(python=PY)
def codegen(session: nox.Session) -> None:
    """Regenerate every SDK's generated layer (`-- --check` fails on drift instead)."""
    _codegen(session, *session.posargs)


@nox.session(python=PY)
def codegen_check(session: nox.Session) -> None:
    """`codegen -- --check`: fail when a generated file differs from what the contract and templates produce."""
    _codegen(session, "--check")


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


@contextlib.contextmanager
def _postgres(session: nox.Session) -> Iterator[str]:
    """A throwaway PostgreSQL (reference-server/tests/pgcluster.py: Debian's initdb/pg_ctl, fsync off) for
    the session; yields its admin URL and stops it at the end."""
    sys.path.insert(0, str(SERVER / "tests"))
    import pgcluster

    try:
        cluster = pgcluster.start()
    except pgcluster.ClusterError as error:
        session.error(f"PostgreSQL: {error}")
    session.log(f"PostgreSQL {cluster.url()} (binaries {cluster.bin})")
    try:
        yield cluster.url()
    finally:
        cluster.stop()


@nox.session(python=PY)
def server_postgres(session: nox.Session) -> None:
    """The whole reference-server suite again, on PostgreSQL: a real cluster started for the session, a fresh
    database per test (SQLite-internals tests are skipped, each with its reason)."""
    _install_server(session)
    with _postgres(session) as url:
        env = {"TRIGGERS_TEST_BACKEND": "postgres", "TRIGGERS_TEST_PG_URL": url}
        _run_in(session, SERVER, "pytest", "-q", *session.posargs, env=env)


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
    """Go SDK: go vet and go test -race (skipped tests listed with their reasons)."""
    _run_in(session, GO_SDK, "go", "vet", "./...", external=True)
    _run_in(session, GO_SDK, *GO_TEST, "-race", "-count=1", "./...", external=True)


@nox.session(python=PY)
def console(session: nox.Session) -> None:
    """Web console and /docs: npm ci, tsc --strict, build into the server package, then browser tests against a live server.

    `-- --check` builds into scratch folders and fails if the committed `console_dist/` or `docs_dist/` differs (the drift check
    CI runs, also as `console_check`); `-- --screenshots` writes a screenshot of every test (failures always get
    one) to console/test-results/; any other argument goes to pytest.
    """
    pytest_args = [arg for arg in session.posargs if arg not in ("--check", "--screenshots")]
    _console(session, check="--check" in session.posargs, screenshots="--screenshots" in session.posargs, args=pytest_args)


@nox.session(python=PY)
def console_check(session: nox.Session) -> None:
    """`console -- --check`: the committed bundle matches its sources, and the browser tests pass."""
    _console(session, check=True, screenshots=False, args=[])


def _console(session: nox.Session, *, check: bool, screenshots: bool, args: list[str]) -> None:
    _npm_ci(session, CONSOLE)
    _run_in(session, CONSOLE, "npm", "run", "typecheck", external=True)
    if check:
        with tempfile.TemporaryDirectory(prefix="console-dist-") as out, tempfile.TemporaryDirectory(prefix="docs-dist-") as docs:
            _run_in(session, CONSOLE, "npm", "run", "build", external=True, env={"CONSOLE_OUT_DIR": out, "DOCS_OUT_DIR": docs})
            stale = [(dist, _tree_differences(Path(built), dist)) for built, dist in ((out, CONSOLE_DIST), (docs, DOCS_DIST))]
        for committed, drift in stale:
            if drift:
                session.error(f"{committed.relative_to(ROOT)} is stale ({', '.join(drift)}): run `nox -s console`")
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
        *args,
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
    """Run every SDK's contract suite against a live reference server on each backend (SQLite, then
    PostgreSQL); print the scenario-by-language-and-backend matrix."""
    _install_server(session)
    session.install("-r", str(PYTHON_SDK / "requirements-dev.txt"), "-e", f"{PYTHON_SDK}[testing]")
    reports = Path(tempfile.mkdtemp(prefix="contract-"))
    languages = ("python", "typescript", "go")

    def run_suites(backend: str, url: str, key: str) -> None:
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
        for language in languages:
            session.log(f"contract suite: {language} on {backend}")
            runs[language](str(reports / f"{language}-{backend}.json"))

    with tempfile.TemporaryDirectory() as tmp:
        with _running_server(session, str(Path(tmp) / "contract.db"), "--retry-schedule", "0,1,2") as (url, key):
            run_suites("sqlite", url, key)
        with (
            _postgres(session) as pg_url,
            _running_server(session, str(Path(tmp) / "unused.db"), "--retry-schedule", "0,1,2", "--database-url", pg_url) as (url, key),
        ):
            run_suites("postgres", url, key)
    ids = _scenario_ids()
    columns = [(language, backend) for backend in ("sqlite", "postgres") for language in languages]
    results: dict[tuple[str, str], dict[str, str]] = {}
    for language, backend in columns:
        path = reports / f"{language}-{backend}.json"
        results[language, backend] = json.loads(path.read_text())["results"] if path.exists() else {}
    width = max(len(i) for i in ids)
    labels = [f"{language}/{backend}" for language, backend in columns]
    cell = max(len(label) for label in labels)
    print(f"{'scenario':<{width}}  " + "  ".join(f"{label:<{cell}}" for label in labels))
    failed = []
    for sid in ids:
        row = [results[column].get(sid, "missing") for column in columns]
        failed += [f"{label}:{sid}={r}" for label, r in zip(labels, row, strict=True) if r != "pass"]
        print(f"{sid:<{width}}  " + "  ".join(f"{r:<{cell}}" for r in row))
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
    """Benchmarks (ratios against same-run baselines; the console's first-load bytes and LCP in headless chromium), written to
    bench/results/*.json and summarised in docs/benchmarks.md."""
    _install_server(session)
    session.install("-r", str(PYTHON_SDK / "requirements-dev.txt"), "-e", str(PYTHON_SDK))
    # bench/console_load.py drives Debian's chromium with the console tests' Playwright (no browser download).
    session.install("-r", str(CONSOLE / "tests" / "requirements.txt"), env={"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"})
    if not CHROMIUM.exists():
        session.error(f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium")
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


# ---------------------------------------------------------------- release artifacts
DIST = ROOT / "dist"
RELEASE = ROOT / "release"
GO_MODULE = re.search(r"^module (\S+)$", (GO_SDK / "go.mod").read_text(), flags=re.MULTILINE).group(1)


def _versions(session: nox.Session) -> dict[str, str]:
    """Each artifact's version; the three SDKs must carry `sdk_version` from codegen/policy.yaml (their constants do)."""
    policy = re.search(r'^sdk_version: "([^"]+)"$', (ROOT / "codegen" / "policy.yaml").read_text(), flags=re.MULTILINE)
    if policy is None:
        session.error("codegen/policy.yaml has no sdk_version")
    versions = {
        "zapier-triggers": tomllib.loads((PYTHON_SDK / "pyproject.toml").read_text())["project"]["version"],
        "triggers-server": tomllib.loads((SERVER / "pyproject.toml").read_text())["project"]["version"],
        "@zapier-triggers/sdk": json.loads((TS_SDK / "package.json").read_text())["version"],
        GO_MODULE: policy.group(1),
    }
    stale = {name: v for name, v in versions.items() if name != "triggers-server" and v != policy.group(1)}
    if stale:
        session.error(f"SDK versions differ from codegen/policy.yaml sdk_version {policy.group(1)}: {stale}")
    return versions


def _python_dists(session: nox.Session) -> None:
    """sdist, then the wheel built from that sdist (as installers do), for the SDK and the server; twine check --strict;
    no direct URL reference in any artifact's metadata (release/check_metadata.py)."""
    for folder in (PYTHON_SDK, SERVER):
        session.run("python", "-m", "build", "--installer", "uv", "--outdir", str(DIST), str(folder))
    artifacts = sorted(DIST.glob("*.whl")) + sorted(DIST.glob("*.tar.gz"))
    session.run("twine", "check", "--strict", *map(str, artifacts))
    session.run("python", str(RELEASE / "check_metadata.py"), *map(str, artifacts))


def _python_install_check(session: nox.Session, label: str, *requirements: str) -> None:
    """Install `requirements` (paths relative to the repository root) into a fresh venv, then run release/smoke.py
    there from outside the repository."""
    with tempfile.TemporaryDirectory(prefix=f"release-{label}-") as tmp:
        venv = Path(tmp) / "venv"
        session.run("uv", "venv", "--quiet", "--python", str(Path(session.bin) / "python"), str(venv), external=True)
        session.run("uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements, external=True)
        _run_in(session, Path(tmp), str(venv / "bin" / "python"), str(RELEASE / "smoke.py"), external=True)


def _go_module(session: nox.Session, version: str) -> Path:
    """`go mod verify`, then the module zip of the committed sdks/go (golang.org/x/mod/zip, release/gomodzip) in a
    GOPROXY folder under dist/; used from a fresh module through that folder and through `go mod edit -replace`."""
    if _run_in(session, ROOT, "git", "status", "--porcelain", "--", str(GO_SDK), silent=True, external=True).strip():
        session.warn("sdks/go has uncommitted changes: the module zip holds HEAD, without them")
    _run_in(session, GO_SDK, "go", "mod", "verify", external=True)
    proxy = DIST / "goproxy"
    _run_in(
        session,
        RELEASE / "gomodzip",
        *("go", "run", ".", "-repo", str(ROOT), "-subdir", GO_SDK.relative_to(ROOT).as_posix(), "-revision", "HEAD"),
        *("-version", f"v{version}", "-out", str(proxy)),
        external=True,
    )
    fallback = str(session.run("go", "env", "GOPROXY", silent=True, external=True)).strip()
    _go_consumer_check(session, ["go", "get", f"{GO_MODULE}@v{version}"], {"GOPROXY": f"file://{proxy},{fallback}"})
    _go_consumer_check(session, ["go", "mod", "edit", f"-require={GO_MODULE}@v{version}", f"-replace={GO_MODULE}={GO_SDK}"], {})
    return proxy


def _go_consumer_check(session: nox.Session, add: list[str], env: dict[str, str]) -> None:
    """A fresh module outside the repository adds the SDK with `add` (as the Go README says), builds and runs."""
    with tempfile.TemporaryDirectory(prefix="release-go-") as tmp:
        consumer = Path(tmp)
        shutil.copy(RELEASE / "go-consumer" / "main.go", consumer / "main.go")
        shutil.copy(GO_SDK / "go.sum", consumer / "go.sum")  # the SDK's dependencies, hashes as the SDK pinned them
        env = {**env, "GONOSUMDB": GO_MODULE, "GOFLAGS": "-mod=mod"}
        _run_in(session, consumer, "go", "mod", "init", "example.test/consumer", external=True, silent=True)
        _run_in(session, consumer, *add, external=True, env=env)
        _run_in(session, consumer, "go", "mod", "tidy", external=True, env=env)
        _run_in(session, consumer, "go", "run", ".", external=True, env=env)


def _release_plan(session: nox.Session, versions: dict[str, str], go_proxy: Path) -> None:
    """dist/RELEASE.md: what was built from which commit, the order to publish in, and the version tags."""
    commit = str(session.run("git", "rev-parse", "HEAD", silent=True, external=True)).strip()
    files = sorted(p.name for p in DIST.iterdir() if p.is_file() and p.name != "RELEASE.md")
    server, sdk, npm, go = (versions[name] for name in ("triggers-server", "zapier-triggers", "@zapier-triggers/sdk", GO_MODULE))
    go_zip = (go_proxy / GO_MODULE / "@v" / f"v{go}.zip").relative_to(DIST).as_posix()
    rows = [
        ("`triggers-server` (PyPI)", server, f"`twine upload dist/triggers_server-{server}*`", f"`reference-server/v{server}`"),
        ("`zapier-triggers` (PyPI)", sdk, f"`twine upload dist/zapier_triggers-{sdk}*`", f"`python-sdk/v{sdk}`"),
        (
            "`@zapier-triggers/sdk` (npm)",
            npm,
            f"`npm publish dist/zapier-triggers-sdk-{npm}.tgz --access public`",
            f"`sdks/typescript/v{npm}`",
        ),
        (f"`{GO_MODULE}` (Go)", f"v{go}", "the tag itself: the module proxy builds the zip from it", f"`sdks/go/v{go}`"),
    ]
    table = "\n".join(f"| {n} | {' | '.join(row)} |" for n, row in enumerate(rows, start=1))
    text = f"""# Release plan

Built by `nox -s release` from commit `{commit}`. Artifacts in `dist/`: {", ".join(f"`{f}`" for f in files)}, `{go_zip}`.

Publish in this order (the SDK's `[testing]` extra needs `triggers-server` on the index first), then tag the commit:

| # | artifact | version | publish | tag |
|---|----------|---------|---------|-----|
{table}

The Go tag: the module proxy serves `<module path>@vX.Y.Z` from the tag `<folder>/vX.Y.Z` of the repository the module
path names. The module lives in `sdks/go/` but its path is `{GO_MODULE}`, which names a repository of its own, so
before tagging either rename the module to `<this repository's path>/sdks/go` (then the tag is `sdks/go/v{go}` here)
or publish `sdks/go/` as that repository's root (then the tag is `v{go}` there). `{go_zip}` is the module as of this
commit; `GOPROXY=file://$PWD/dist/goproxy,$(go env GOPROXY)` serves it until then (sdks/go/README.md).

After publication the registry install lines of the READMEs apply (`pip install zapier-triggers`,
`npm install @zapier-triggers/sdk`, `go get {GO_MODULE}@v{go}`).
"""
    (DIST / "RELEASE.md").write_text(text)
    session.run("git", "check-ignore", "--quiet", str(DIST / "RELEASE.md"), external=True)
    session.log(f"wrote {DIST / 'RELEASE.md'}")


@nox.session(python=PY)
def release(session: nox.Session) -> None:
    """Build every installable artifact into dist/ and check each installs: Python sdists + wheels (twine check),
    the npm tarball (publint, attw, fresh ESM/CJS/TypeScript projects), the Go module zip, and dist/RELEASE.md."""
    session.install("build[uv]==1.6.1", "uv==0.13.9", "twine==7.0.0", "packaging==26.4", "pytest==9.2.0")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", str(RELEASE))
    versions = _versions(session)
    shutil.rmtree(DIST, ignore_errors=True)
    DIST.mkdir()
    _python_dists(session)
    wheel = {name: DIST / f"{name.replace('-', '_')}-{versions[name]}-py3-none-any.whl" for name in ("zapier-triggers", "triggers-server")}
    _python_install_check(session, "dist", str(wheel["triggers-server"]), f"{wheel['zapier-triggers']}[testing]")
    _python_install_check(session, "clone", "./reference-server", "./python-sdk[testing]")
    _npm_ci(session, TS_SDK)
    _run_in(session, TS_SDK, "node", "scripts/check-pack.mjs", "--out", str(DIST), external=True)
    go_proxy = _go_module(session, versions[GO_MODULE])
    _release_plan(session, versions, go_proxy)


# ---------------------------------------------------------------- everything CI runs
# Prerequisites, not notifications: nox runs each of these first, and reports `tests` successful only when all
# of them were (a failed one skips `tests`), so the closing line is the verdict on the whole run.
CI_SESSIONS = [
    "lint",
    "codegen_check",
    "generators_compat",
    "server",
    "server_postgres",
    "python",
    "typescript",
    "go",
    "contract",
    "tour",
    "console_check",
    "release",
]


@nox.session(python=False, requires=CI_SESSIONS)
def tests(session: nox.Session) -> None:
    """Everything CI runs: lint, codegen drift, mainstream generators, every component's tests, the contract matrix,
    the tour, the console (bundle drift and browser tests) and the release artifacts."""
    if not CONFORMANCE.exists():
        session.warn(f"{CONFORMANCE} is absent: conformance-vector checks were skipped")
    session.log(f"all {len(CI_SESSIONS)} sessions passed: {', '.join(CI_SESSIONS)}")
