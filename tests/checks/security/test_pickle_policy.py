"""Every entry of the pickle allowlist and denylist does what its data file says."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from modelsteward.checks.security.pickle._policy import Use, policy
from modelsteward.core import Severity


def _data(name: str) -> Any:
    return yaml.safe_load(resources.files("modelsteward.data").joinpath(name).read_text(encoding="utf-8"))


ALLOW = _data("pickle_allowlist.yaml")
DENY = _data("pickle_denylist.yaml")


def _allowed_pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for entry in ALLOW:
        module = entry["module"].removesuffix(".*") + (".sub" if entry["module"].endswith(".*") else "")
        for name in entry["names"]:
            pairs.append((module, "SomeClass" if name == "*" else name, entry["use"]))
    return pairs


def _denied_pairs() -> list[tuple[str, str, str]]:
    return [
        (module, "anything" if name == "*" else name, family["family"])
        for family in DENY["families"]
        for module, names in family["globals"].items()
        for name in names
    ]


@pytest.mark.parametrize(("module", "name", "use"), _allowed_pairs())
def test_allowlist_entry_is_allowed_for_its_use_and_not_denied(module: str, name: str, use: str) -> None:
    verdict = policy().judge(module, name, protocol=4)
    assert verdict.denied is None
    assert verdict.allowed is not None
    assert verdict.allowed.permits(Use(use))


@pytest.mark.parametrize(("module", "name", "family"), _denied_pairs())
def test_denylist_entry_is_denied_critical(module: str, name: str, family: str) -> None:
    verdict = policy().judge(module, name, protocol=4)
    assert verdict.denied is not None
    assert verdict.denied.severity == Severity.CRITICAL
    # Entries listed under several families report the first; each is denied either way.
    assert verdict.denied.family in {f["family"] for f in DENY["families"]}


@pytest.mark.parametrize(("module", "name", "family"), _denied_pairs())
def test_denylist_entry_is_denied_through_an_innocent_module(module: str, name: str, family: str) -> None:
    # Modules keep what they import as attributes: somepackage.<module>.<name> is the same object.
    verdict = policy().judge("somepackage.helpers", f"{module}.{name}", protocol=4)
    assert verdict.denied is not None


@pytest.mark.parametrize(("alias", "target"), sorted(DENY["module_aliases"].items()))
def test_module_alias_is_canonicalised(alias: str, target: str) -> None:
    verdict = policy().judge(alias, "name", protocol=4)
    assert verdict.name.module == target


@pytest.mark.parametrize(
    ("module", "name", "expected"),
    [
        ("__builtin__", "xrange", "builtins.range"),
        ("copy_reg", "_reconstructor", "copyreg._reconstructor"),
        ("UserDict", "UserDict", "collections.UserDict"),
    ],
)
def test_python_2_names_are_fixed_below_protocol_3(module: str, name: str, expected: str) -> None:
    assert policy().judge(module, name, protocol=2).name.dotted == expected


def test_wildcards_never_match_attribute_paths() -> None:
    verdict = policy().judge("torch.nn.modules.linear", "Linear.forward", protocol=4)
    assert verdict.allowed is None


def test_instantiate_only_entries_do_not_permit_calls() -> None:
    verdict = policy().judge("sklearn.linear_model._logistic", "LogisticRegression", protocol=4)
    assert verdict.allowed is not None
    assert verdict.allowed.permits(Use.INSTANTIATE)
    assert not verdict.allowed.permits(Use.CALL)


def test_dangerous_torch_loader_is_not_allowed() -> None:
    verdict = policy().judge("torch.storage", "_load_from_bytes", protocol=2)
    assert verdict.allowed is None
    assert verdict.denied is not None


def test_unknown_names_are_neither_allowed_nor_denied() -> None:
    verdict = policy().judge("mycompany.models", "Classifier", protocol=4)
    assert (verdict.allowed, verdict.denied, verdict.dunder) == (None, None, False)
