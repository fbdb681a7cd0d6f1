"""Named profiles in a TOML file, resolved with the precedence flags > environment > profile > defaults.

The file lives in the user's config dir (``platformdirs``), or wherever ``TRIGGERS_CONFIG`` points
(tests, CI, several setups side by side). It holds API keys, so it is written with mode 0600.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import platformdirs
import tomli_w

from .._constants import DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL
from .errors import CliError

__all__ = [
    "DEFAULT_SOURCE",
    "ENV_CONFIG",
    "ENV_PROFILE",
    "ENV_SOURCE",
    "ConfigFile",
    "Profile",
    "ResolvedSettings",
    "config_path",
    "load_config",
    "mask_secret",
    "resolve_settings",
    "save_config",
]

ENV_CONFIG = "TRIGGERS_CONFIG"
ENV_PROFILE = "TRIGGERS_PROFILE"
ENV_SOURCE = "TRIGGERS_SOURCE"
DEFAULT_SOURCE = "triggers-cli"
_PROFILE_FIELDS = ("api_key", "base_url", "source")


@dataclass(frozen=True)
class Profile:
    """One environment: where the API is and which key to use."""

    api_key: str | None = None
    base_url: str | None = None
    source: str | None = None

    def to_toml(self) -> dict[str, str]:
        return {name: value for name in _PROFILE_FIELDS if (value := getattr(self, name)) is not None}


@dataclass
class ConfigFile:
    path: Path
    default_profile: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict[str, Profile])


@dataclass(frozen=True)
class ResolvedSettings:
    """What a command runs with, and where each value came from (flag, env, profile or default)."""

    profile: str | None
    api_key: str | None
    base_url: str
    source: str
    origins: Mapping[str, str]

    def require_api_key(self) -> str:
        if not self.api_key:
            raise CliError(
                "No API key: pass --api-key, set TRIGGERS_API_KEY, or run "
                "`triggers config set-profile NAME --api-key KEY`."
            )
        return self.api_key


def config_path(env: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if env is None else env
    override = environ.get(ENV_CONFIG)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path("triggers", appauthor=False) / "config.toml"


def load_config(path: Path) -> ConfigFile:
    """The parsed file; a missing file is an empty config, a malformed one a usage error."""
    try:
        raw = _parse_toml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ConfigFile(path)
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and TOMLDecodeError are ValueErrors
        raise CliError(f"Cannot read config file {path}: {exc}") from exc
    default = raw.get("default_profile")
    profiles_raw = raw.get("profiles", {})
    if not isinstance(profiles_raw, dict) or (default is not None and not isinstance(default, str)):
        raise CliError(f'Config file {path}: expected `default_profile = "NAME"` and [profiles.NAME] tables')
    profiles: dict[str, Profile] = {}
    for name, table in cast("dict[str, Any]", profiles_raw).items():
        profiles[name] = _profile(path, name, table)
    return ConfigFile(path, default, profiles)


def _parse_toml(text: str) -> dict[str, Any]:
    """``tomllib`` on Python 3.11+, its backport ``tomli`` (same API) on 3.10.

    Imported by name so type checkers configured for 3.10 need not have the backport installed.
    """
    module = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    return cast("dict[str, Any]", module.loads(text))


def _profile(path: Path, name: str, table: Any) -> Profile:
    if not isinstance(table, dict):
        raise CliError(f"Config file {path}: [profiles.{name}] must be a table")
    entries = cast("dict[str, Any]", table)
    values: dict[str, str] = {}
    for key in _PROFILE_FIELDS:
        value = entries.get(key)
        if value is not None and not isinstance(value, str):
            raise CliError(f"Config file {path}: profiles.{name}.{key} must be a string")
        if value is not None:
            values[key] = value
    return Profile(**values)


def save_config(config: ConfigFile) -> None:
    """Write atomically with owner-only permissions (the file holds API keys)."""
    document: dict[str, Any] = {}
    if config.default_profile is not None:
        document["default_profile"] = config.default_profile
    document["profiles"] = {name: profile.to_toml() for name, profile in sorted(config.profiles.items())}
    config.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = config.path.with_name(config.path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        tomli_w.dump(document, handle)
    os.replace(temporary, config.path)


def resolve_settings(
    config: ConfigFile,
    *,
    profile: str | None,
    api_key: str | None,
    base_url: str | None,
    source: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ResolvedSettings:
    """Apply flags > environment > profile > defaults, field by field."""
    environ = os.environ if env is None else env
    name, chosen = _choose_profile(config, profile, environ)
    origins: dict[str, str] = {}

    def pick(field_name: str, flag: str | None, env_name: str, default: str | None) -> str | None:
        candidates = (
            ("flag", flag),
            (f"env {env_name}", environ.get(env_name) or None),
            (f"profile {name}", getattr(chosen, field_name) if chosen else None),
            ("default", default),
        )
        for origin, value in candidates:
            if value is not None:
                origins[field_name] = origin
                return value
        origins[field_name] = "unset"
        return None

    resolved_key = pick("api_key", api_key, ENV_API_KEY, None)
    resolved_url = pick("base_url", base_url, ENV_BASE_URL, DEFAULT_BASE_URL)
    resolved_source = pick("source", source, ENV_SOURCE, DEFAULT_SOURCE)
    assert resolved_url is not None and resolved_source is not None  # both have defaults
    parsed = urlsplit(resolved_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CliError(
            f"Base URL {resolved_url!r} (from {origins['base_url']}) must be an http(s) URL "
            "like http://127.0.0.1:8080/v1"
        )
    return ResolvedSettings(name, resolved_key, resolved_url, resolved_source, origins)


def _choose_profile(
    config: ConfigFile, flag: str | None, environ: Mapping[str, str]
) -> tuple[str | None, Profile | None]:
    explicit = flag or environ.get(ENV_PROFILE) or None
    if explicit is not None:
        if explicit not in config.profiles:
            known = ", ".join(sorted(config.profiles)) or "none"
            raise CliError(
                f"Profile {explicit!r} is not in {config.path} (profiles: {known}); "
                f"create it with `triggers config set-profile {explicit} --api-key KEY`."
            )
        return explicit, config.profiles[explicit]
    if config.default_profile is not None and config.default_profile in config.profiles:
        return config.default_profile, config.profiles[config.default_profile]
    return None, None


def mask_secret(secret: str | None) -> str:
    """Enough to recognise a key (its prefix and last 4 characters), never enough to use it."""
    if not secret:
        return "-"
    prefix = secret.split("_", 1)[0] + "_" if "_" in secret[:8] else ""
    if len(secret) < 12:
        return prefix + "…"
    return f"{prefix}…{secret[-4:]}"
