"""One naming rule (unprefixed = async, ``Sync`` = blocking), its deprecated aliases, and declared helpers."""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from typing import Any

import pytest
import yaml

import zapier_triggers
import zapier_triggers.resources
from zapier_triggers import SyncTriggersClient, TriggersClient

from ..conftest import REPO_ROOT
from .fakes import API_KEY, BASE_URL

RESOURCE_MODULES = sorted(m.name for m in pkgutil.iter_modules(zapier_triggers.resources.__path__))


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@pytest.mark.parametrize("name", RESOURCE_MODULES)
def test_client_resources_follow_the_client_naming_rule(name: str) -> None:
    module = importlib.import_module(f"zapier_triggers.resources.{name}")
    async_client = TriggersClient(api_key=API_KEY, base_url=BASE_URL)
    sync_client = SyncTriggersClient(api_key=API_KEY, base_url=BASE_URL)
    assert type(getattr(async_client, name)) is getattr(module, _pascal(name))
    assert type(getattr(sync_client, name)) is getattr(module, f"Sync{_pascal(name)}")
    assert sorted(module.__all__) == [_pascal(name), f"Sync{_pascal(name)}"]


@pytest.mark.parametrize("name", RESOURCE_MODULES)
def test_old_async_resource_names_warn_and_resolve_to_the_new_ones(name: str) -> None:
    module = importlib.import_module(f"zapier_triggers.resources.{name}")
    for old, new in [
        (f"Async{_pascal(name)}", _pascal(name)),
        (f"Async{_pascal(name)}WithRawResponse", f"{_pascal(name)}WithRawResponse"),
    ]:
        with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated .* use {new}\b"):
            alias = getattr(module, old)
        assert alias is getattr(module, new)


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("zapier_triggers", "AsyncPaginator", "Paginator"),
        ("zapier_triggers", "AsyncMessage", "Message"),
        ("zapier_triggers._pagination", "AsyncPaginator", "Paginator"),
        ("zapier_triggers.lib.inbox", "AsyncMessage", "Message"),
        ("zapier_triggers.lib.inbox", "AsyncInboxHelpers", "InboxHelpers"),
    ],
)
def test_old_public_names_warn_on_import(module: str, old: str, new: str) -> None:
    target = importlib.import_module(module)
    with pytest.warns(
        DeprecationWarning, match=rf"{old} is deprecated and will be removed in 0\.2\.0; use {new}"
    ):
        namespace: dict[str, Any] = {}
        exec(f"from {module} import {old} as alias", namespace)  # the import statement is what users write
    assert namespace["alias"] is getattr(target, new)


def test_new_names_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from zapier_triggers import Message, Paginator, SyncMessage, SyncPaginator  # noqa: F401
        from zapier_triggers.resources.events import Events, SyncEvents  # noqa: F401


def test_unknown_names_still_raise_attribute_error() -> None:
    module = importlib.import_module("zapier_triggers.resources.events")
    with pytest.raises(AttributeError, match="has no attribute 'AsyncNope'"):
        _ = module.AsyncNope


def _declared_helpers() -> dict[str, Any]:
    config = yaml.safe_load((REPO_ROOT / "codegen" / "config" / "python.yaml").read_text())
    helpers: dict[str, Any] = config["helpers"]
    return helpers


@pytest.mark.parametrize("resource", sorted(_declared_helpers()))
def test_declared_helpers_are_mixed_into_both_twins(resource: str) -> None:
    helper = _declared_helpers()[resource]
    generated = importlib.import_module(f"zapier_triggers.resources.{resource}")
    source = importlib.import_module(helper["module"].replace("..", "zapier_triggers.", 1))
    for prefix in ("", "Sync"):
        cls = getattr(generated, f"{prefix}{_pascal(resource)}")
        mixin = getattr(source, f"{prefix}{helper['mixin']}")
        assert cls.__mro__[1] is mixin
        for method in helper["methods"]:
            assert getattr(cls, method) is getattr(mixin, method)
    # The generated module holds only contract operations: every helper body lives in the mixin.
    generated_source = (
        REPO_ROOT / "python-sdk" / "src" / "zapier_triggers" / "resources" / f"{resource}.py"
    ).read_text()
    for method in helper["methods"]:
        assert f"def {method}(" not in generated_source
