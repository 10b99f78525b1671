"""Run a Pulumi program offline under mocks and record every resource registration, as the engine would see it.

A registration carries more than the inputs: the parent, the `replace_on_changes` and `ignore_changes` options
(already translated to wire names by the SDK) and the explicit dependencies. The diff needs all of them, so the
recorder sits at the monitor, not in `Mocks.new_resource` (which only sees type, name and inputs).

The mocks behave like a provider that autonames: a resource without an explicit name gets
`<logical name>-<hash of the inputs that force replacement>` as physical name, id and ARN suffix. So when a
resource is replaced, the resources that refer to its name or ARN see a new value and show up as updated, as they
would with `pulumi preview`; an in-place update (a tag, a max capacity) keeps the name.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"  # the documentation account id AWS uses in examples


@dataclass(frozen=True)
class PlannedResource:
    """One resource registration: identity, inputs and the options that change how it is diffed."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    custom: bool = True
    parent_urn: str = ""
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    dependencies: tuple[str, ...] = ()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:7]


def _physical_name(args: Any, replace_on_changes: tuple[str, ...]) -> str:
    inputs = args.inputs
    for key in ("name", "functionName", "dashboardName", "alarmName", "nodeGroupName", "endpointName"):
        if isinstance(inputs.get(key), str) and inputs[key]:
            return inputs[key]
    meta = inputs.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("name"), str) and meta["name"]:
        return meta["name"]
    from llama_infra.diff.compare import flatten
    from llama_infra.diff.replacement import reasons

    identity = {p: v for p, v in flatten(inputs).items() if reasons(args.typ, [p], replace_on_changes)}
    return f"{args.name}-{_digest(identity)}"


def _mock_state(type_token: str, inputs: dict[str, Any], physical: str, region: str) -> dict[str, Any]:
    package, module_path, _ = (type_token.split(":") + ["", ""])[:3]
    service = module_path.split("/")[0]
    state = dict(inputs)
    if package == "pulumi" and type_token == "pulumi:providers:aws":
        return state
    if package.startswith("aws"):
        state.setdefault("name", physical)
        kind = type_token.split(":")[-1].lower()
        state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical}")
    if package == "kubernetes":
        meta = dict(state.get("metadata") or {})
        meta.setdefault("name", physical)
        state["metadata"] = meta
    return state


class RecordingMocks:
    """`pulumi.runtime.Mocks` for offline plans: autonaming provider, fixed account, stack references answered."""

    def __init__(self, region: str = "us-east-1", stack_outputs: Mapping[str, Mapping[str, Any]] | None = None):
        self.region = region
        self.stack_outputs = dict(stack_outputs or {})
        self.replace_on_changes: tuple[str, ...] = ()  # of the registration in progress (set by the monitor)

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            stack_name = args.inputs.get("name") or args.resource_id or args.name
            if stack_name not in self.stack_outputs:
                known = ", ".join(sorted(self.stack_outputs)) or "none"
                raise KeyError(f"no outputs recorded for stack reference {stack_name!r} (known: {known})")
            return stack_name, {"name": stack_name, "outputs": dict(self.stack_outputs[stack_name]),
                                "secretOutputNames": []}
        physical = _physical_name(args, self.replace_on_changes)
        return physical, _mock_state(args.typ, dict(args.inputs), physical, self.region)

    def call(self, args: Any) -> tuple[dict[str, Any], list]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/plan", "userId": "plan",
                    "id": ACCOUNT_ID}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = [f"{self.region}{z}" for z in "abc"]
            return {"names": zones, "zoneIds": zones, "id": self.region}, []
        return dict(args.args), []


@dataclass
class Recording:
    """What a program did: its resource registrations in order, and its stack exports (resolved)."""

    resources: list[PlannedResource] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # URN -> register_outputs(...)


def record(program: Callable[[], Any], *, project: str = "llama-infra", stack: str = "plan", preview: bool = False,
           config: Mapping[str, str] | None = None, mocks: RecordingMocks | None = None) -> list[PlannedResource]:
    """Run `program` in a fresh mocked Pulumi runtime and return its registrations in order."""
    return run_program(program, project=project, stack=stack, preview=preview, config=config, mocks=mocks).resources


def run_program(program: Callable[[], Any], *, project: str = "llama-infra", stack: str = "plan",
                preview: bool = False, config: Mapping[str, str] | None = None,
                mocks: RecordingMocks | None = None) -> Recording:
    """Run `program` (a function, or e.g. `runpy.run_path` of a `__main__.py`) under mocks and record it.

    `config` keys without a namespace get the project's (`networkStack` -> `<project>:networkStack`). Each call
    runs in its own context (Pulumi keeps the root stack, config and settings in context variables), so two
    programs can be recorded one after the other in one process, as `llama-infra diff` does.
    """
    import asyncio

    policy = asyncio.get_event_loop_policy()
    try:
        previous = policy.get_event_loop()
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()  # Pulumi's mocked runtime runs on the current loop; this run owns it
    asyncio.set_event_loop(loop)
    try:
        return contextvars.Context().run(_record, program, project, stack, preview, dict(config or {}),
                                         mocks or RecordingMocks())
    finally:
        # Give the caller back its loop (Pulumi tests in the same process expect one to be current).
        asyncio.set_event_loop(previous if previous is not None and not previous.is_closed()
                               else asyncio.new_event_loop())
        loop.close()


def _record(program: Callable[[], Any], project: str, stack: str, preview: bool, config: dict[str, str],
            mocks: RecordingMocks) -> Recording:
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks

    class _Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):  # type: ignore[override]
            return mocks.new_resource(args)

        def call(self, args: pulumi.runtime.MockCallArgs):  # type: ignore[override]
            return mocks.call(args)

    recording = Recording()
    recorded = recording.resources

    class _Monitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            mocks.replace_on_changes = tuple(request.replaceOnChanges)
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                inputs = _plain_inputs(request.object)
                recorded.append(PlannedResource(
                    urn=response.urn, type=request.type, name=request.name, inputs=inputs,
                    custom=bool(request.custom), parent_urn=request.parent,
                    replace_on_changes=tuple(request.replaceOnChanges),
                    ignore_changes=tuple(request.ignoreChanges),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    dependencies=tuple(request.dependencies)))
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
            recording.component_outputs[request.urn] = _plain_inputs(request.outputs)
            return super().RegisterResourceOutputs(request)

    monitor = _Monitor(_Mocks())
    pulumi.runtime.set_all_config({k if ":" in k else f"{project}:{k}": v for k, v in config.items()})
    pulumi.runtime.set_mocks(_Mocks(), project=project, stack=stack, preview=preview, monitor=monitor)

    @pulumi.runtime.test
    def run() -> Any:
        program()
        root = pulumi.runtime.get_root_resource()
        outputs = dict(getattr(root, "outputs", {}) or {})
        return pulumi.Output.all(**outputs).apply(recording.exports.update) if outputs else None

    run()
    return recording


UNKNOWN = "(known after apply)"


def _asset_digest(value: Any) -> str:
    """Content digest of a Pulumi asset or archive (what decides whether the provider sees a change)."""
    import pulumi

    h = hashlib.sha256()
    if isinstance(value, pulumi.StringAsset):
        h.update(value.text.encode())
    elif isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        path = Path(value.path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
            h.update(f.read_bytes() if f.is_file() else b"(missing)")
    elif isinstance(value, (pulumi.RemoteAsset, pulumi.RemoteArchive)):
        h.update(value.uri.encode())
    elif isinstance(value, pulumi.AssetArchive):
        for name in sorted(value.assets):
            h.update(name.encode())
            h.update(_asset_digest(value.assets[name]).encode())
    return h.hexdigest()[:12]


def _plain_inputs(struct: Any) -> dict[str, Any]:
    """Inputs as plain data: secrets become `[secret <digest>]` (changes show, values do not), assets and archives
    a digest of their content (a Lambda's code), unknowns a marker."""
    import pulumi
    from pulumi.runtime import rpc

    def plain(value: Any) -> Any:
        if isinstance(value, (pulumi.asset.Asset, pulumi.asset.Archive)):
            return f"[{type(value).__name__} sha256:{_asset_digest(value)}]"
        if isinstance(value, dict):
            if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
                return f"[secret {_digest(plain(value.get('value')))}]"
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if value == rpc.UNKNOWN:
            return UNKNOWN
        return value

    return plain(rpc.deserialize_properties(struct, keep_unknowns=True))
