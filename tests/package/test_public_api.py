"""`from llama_infra import ...`: every public name resolves and is documented, and the bare import stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import llama_infra


def test_bare_import_loads_no_heavy_module() -> None:
    code = (
        "import sys, llama_infra; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pydantic', "
        "'pulumi_kubernetes', 'boto3') or m.startswith('llama_infra.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", llama_infra.__all__)
def test_public_name_resolves_to_a_documented_object(name: str) -> None:
    obj = getattr(llama_infra, name)
    assert obj.__module__.startswith("llama_infra."), obj.__module__
    assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
    assert name in dir(llama_infra)


def test_public_names_are_the_defining_modules_objects() -> None:
    import importlib

    for name, module in llama_infra._EXPORTS.items():
        assert getattr(llama_infra, name) is getattr(importlib.import_module(module), name)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'SageMakerEndpointTypo'"):
        llama_infra.SageMakerEndpointTypo  # noqa: B018
    assert not hasattr(llama_infra, "build_sagemaker_typo")


def test_the_lazy_component_names_match_what_the_targets_export():
    """llama_infra.components lists its names again (to stay lazy): each must exist in its target's package, and every
    component class a target's package exports must be listed."""
    import importlib

    import pulumi

    import llama_infra.components as components

    for module_name in sorted(set(components._EXPORTS.values())):
        module = importlib.import_module(module_name)
        listed = {n for n, m in components._EXPORTS.items() if m == module_name}
        assert listed <= set(module.__all__), f"{module_name} does not export {listed - set(module.__all__)}"
        classes = {
            n
            for n in module.__all__
            if isinstance(getattr(module, n), type) and issubclass(getattr(module, n), pulumi.ComponentResource)
        }
        assert classes <= listed, f"llama_infra.components does not re-export {classes - listed} of {module_name}"
