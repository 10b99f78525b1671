"""Dotted paths of a resource's inputs: the one way the recorder, the replacement rules and the diff name a field.

`flatten({"a": {"b": [1, 2]}})` is `{"a.b[0]": 1, "a.b[1]": 2}`; named list items are keyed by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any


def _key(prefix: str, key: Any) -> str:
    key = str(key)
    if re.fullmatch(r"[A-Za-z_$][\w$-]*", key):
        return f"{prefix}.{key}" if prefix else key
    return f'{prefix}["{key}"]'  # Pulumi's property-path form for keys like nvidia.com/gpu


def _json_document(value: Any) -> Any:
    """A string input that holds a JSON object or array (IAM policies, dashboards, event inputs), parsed."""
    if isinstance(value, str) and value[:1] in "{[" and len(value) > 2:
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        return doc if isinstance(doc, (dict, list)) and doc else None
    return None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": [1, 2]}} -> {"a.b[0]": 1, "a.b[1]": 2}; lists of uniquely named mappings are keyed by name
    (`containers[name=vllm].image`); empty containers are leaves. JSON documents held in
    strings are flattened too (`policy.Statement[0].Resource`), so a changed policy shows the statement that
    changed."""
    doc = _json_document(value)
    if doc is not None:
        value = doc
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, _key(prefix, k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        names = [v.get("name") for v in value] if all(isinstance(v, Mapping) for v in value) else []
        keyed = (
            len(names) == len(value) and all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names)
        )
        for i, v in enumerate(value):
            # Named items (containers, env vars, ports, KEDA triggers) are matched by name, not position: inserting
            # one then shows as one added item, not as every later item changed.
            out.update(flatten(v, f"{prefix}[name={v['name']}]" if keyed else f"{prefix}[{i}]"))
        return out
    return {prefix: value}
