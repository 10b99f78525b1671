"""The offline Pulumi recorder: run a program in this process under mocks and record every resource registration,
as the engine would see it. `llama-infra plan`, `llama-infra diff` and the policy pack all read these records.

A registration carries more than the inputs: the parent, the `replace_on_changes` and `ignore_changes` options
(already translated to wire names by the SDK) and the explicit dependencies, so the recorder sits at the monitor,
not in `Mocks.new_resource` (which only sees type, name and inputs). It also keeps each component's registered
outputs, the stack's exports (resolved) and the invokes the program made.

Each run is repeatable in one process: Pulumi keeps its runtime in context variables (root stack, config,
settings) and runs on the current event loop, so a run gets a fresh `contextvars.Context` and a fresh event loop,
and gives the caller back its own loop afterwards (a later `@pulumi.runtime.test` in the same process needs one).

`RecordingMocks` answers like an AWS provider, offline: deterministic names, ids and ARNs, so programs that format
outputs (dashboard URLs, policy documents) run to the end. With `autoname` (the diff's default) a resource without
an explicit name gets `<logical name>-<hash of the inputs that force replacement>`: when a resource is replaced,
whatever refers to its name or ARN sees a new value and shows up as updated, as with `pulumi preview`.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_infra.contracts.placeholders import COMPUTED, UNKNOWN
from llama_infra.iam import dns_suffix, partition

ACCOUNT_ID = "123456789012"  # the documentation account id AWS uses in examples
# Resource types whose ARN path differs from the lower-cased resource name (fixed-name answers).
_ARN_RESOURCE = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoint-config",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "alarm:",
    "aws:appautoscaling/target:Target": "scalable-target/",
    "aws:lambda/function:Function": "function:",  # arn:<partition>:lambda:<region>:<account>:function:<name>
    "aws:ssm/parameter:Parameter": "parameter/",
    "aws:cloudwatch/logGroup:LogGroup": "log-group:",  # arn:<partition>:logs:<region>:<account>:log-group:<name>
}
# ... and whose ARN names another service than the Pulumi module.
_ARN_SERVICE = {"aws:cloudwatch/logGroup:LogGroup": "logs"}
_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
_NAME_INPUTS = ("name", "functionName", "dashboardName", "alarmName", "nodeGroupName", "endpointName")


@dataclass
class RecordedResource:
    """One resource registration: identity, inputs, the options that change how it is diffed, and its state."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool = True
    parent_urn: str = ""
    replace_on_changes: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    depends_on: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_inputs: list[str] = field(default_factory=list)  # top-level inputs that hold a Pulumi secret


@dataclass
class Recording:
    """What a program did: its registrations in order, its stack exports, components' outputs, invokes."""

    resources: list[RecordedResource] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # URN -> register_outputs(...)
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]


# --- the provider's answers -----------------------------------------------------------------------------------


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:7]


def _autoname(args: Any, replace_on_changes: list[str]) -> str:
    inputs = args.inputs
    from llama_infra.contracts import autonaming

    rule = autonaming.AUTONAMED.get(args.typ)
    if rule is not None and isinstance(inputs.get(rule.property), str) and inputs[rule.property]:
        return inputs[rule.property]
    for key in _NAME_INPUTS:
        if isinstance(inputs.get(key), str) and inputs[key]:
            return inputs[key]
    meta = inputs.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("name"), str) and meta["name"]:
        return meta["name"]
    from llama_infra.contracts.input_paths import flatten
    from llama_infra.contracts.replacement import reasons

    identity = {p: v for p, v in flatten(inputs).items() if reasons(args.typ, [p], replace_on_changes)}
    return f"{args.name}-{_digest(identity)}"


def _autonamed_state(type_token: str, inputs: dict[str, Any], physical: str, region: str) -> dict[str, Any]:
    from llama_infra.contracts import autonaming

    package, module_path, _ = (type_token.split(":") + ["", ""])[:3]
    state = dict(inputs)
    if type_token == "pulumi:providers:aws":
        return state
    rule = autonaming.AUTONAMED.get(type_token)
    if rule is not None:
        state.setdefault(rule.property, physical)
    if package.startswith("aws"):
        state.setdefault("name", physical)
        kind = type_token.split(":")[-1].lower()
        service = module_path.split("/")[0]
        state.setdefault("arn", f"arn:{partition(region)}:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical}")
        if type_token == _NODE_GROUP:
            state.setdefault("nodeGroupName", physical)
    if package == "kubernetes":
        meta = dict(state.get("metadata") or {})
        meta.setdefault("name", physical)
        state["metadata"] = meta
    return state


def _fixed_arn(type_: str, name: str, region: str) -> str:
    _, module_path, _ = (type_.split(":") + ["", ""])[:3]
    service = _ARN_SERVICE.get(type_, module_path.split("/")[0])
    resource = _ARN_RESOURCE.get(type_, type_.rsplit(":", 1)[-1].lower() + "/")
    if type_ == "aws:ssm/parameter:Parameter":
        name = name.lstrip("/")  # a hierarchical name's ARN has one slash after `parameter` (AWS SSM docs)
    resource = f"{resource}{name}" if resource.endswith(("/", ":")) else f"{resource}/{name}"
    return f"arn:{partition(region)}:{service}:{'' if service == 'iam' else region}:{ACCOUNT_ID}:{resource}"


class RecordingMocks:
    """`pulumi.runtime.Mocks` answers for offline runs: fixed account, stack references and invokes answered.

    `autoname=False` names a resource by its `name`/`dashboardName` input or its logical name, with ids
    `<name>-id` (what `llama-infra plan` shows); `autoname=True` autonames by replacement-forcing inputs.

    Strict (the default): every registration is held against the cloud contracts (`llama_infra.contracts`) — the
    provider's autonaming limits, botocore's API shapes, IAM's policy grammar, the Kubernetes schemas — and each
    violation is kept in `violations`; `run_program` raises `ContractError` with all of them after the run.
    """

    def __init__(
        self,
        region: str = "us-east-1",
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        autoname: bool = True,
        strict: bool = True,
    ):
        self.region = region
        self.stack_outputs = dict(stack_outputs or {})
        self.autoname = autoname
        self.strict = strict
        self.violations: list[Any] = []  # llama_infra.contracts.Violation
        self.replace_on_changes: list[str] = []  # of the registration in progress (set by the monitor)
        # (type, logical name) -> inputs that depend on other resources' outputs (set by the monitor; keyed, not
        # "the registration in progress", because the SDK registers from several threads)
        self.computed_inputs: dict[tuple[str, str], set[str]] = {}
        self._physical_names: dict[tuple[str, str, str, str], str] = {}  # (type, region, group, name) -> logical

    def _check(self, args: Any, inputs: dict[str, Any]) -> None:
        from llama_infra.contracts import check_resource

        if not self.strict or args.typ.startswith("pulumi:"):
            return
        values, found = check_resource(
            args.typ, args.name, inputs, computed=self.computed_inputs.get((args.typ, args.name), set())
        )
        self.violations += found
        self.violations += self._duplicate(args.typ, args.name, values)

    def begin_run(self) -> None:
        """Forget the previous run's violations and names (one mocks object may record several runs)."""
        self.violations, self._physical_names = [], {}

    def _duplicate(self, type_token: str, logical_name: str, values: dict[str, Any]) -> list[Any]:
        """Two resources of one type with one physical name: the second create fails (AlreadyExists)."""
        from llama_infra.contracts import Violation, autonaming, shown

        rule = autonaming.AUTONAMED.get(type_token)
        physical = values.get(rule.property) if rule else None
        if rule is None or not isinstance(physical, str) or not physical:
            return []
        key = (type_token, values.get("region") or self.region, values.get("groupName") or "", physical)
        first = self._physical_names.setdefault(key, logical_name)
        if first == logical_name:
            return []
        return [
            Violation(
                type_token,
                logical_name,
                rule.property,
                f"the same physical name as '{first}'",
                shown(physical),
                "AWS: names are unique per type, account and region",
                fix="make the names differ where they are shortened or built",
            )
        ]

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        self._check(args, inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            stack_name = inputs.get("name") or args.resource_id or args.name
            if stack_name not in self.stack_outputs:
                known = ", ".join(sorted(self.stack_outputs)) or "none"
                raise KeyError(f"no outputs recorded for stack reference {stack_name!r} (known: {known})")
            return stack_name, {
                "name": stack_name,
                "outputs": dict(self.stack_outputs[stack_name]),
                "secretOutputNames": [],
            }
        if self.autoname:
            physical = _autoname(args, self.replace_on_changes)
            return physical, _autonamed_state(args.typ, inputs, physical, self.region)
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", inputs
        name = inputs.get("name") or inputs.get("dashboardName") or args.name
        state = {
            **inputs,
            "name": name,
            "arn": _fixed_arn(args.typ, name, inputs.get("region") or self.region),
            "id": f"{name}-id",
        }
        if args.typ == "aws:appautoscaling/target:Target":
            state["id"] = inputs.get("resourceId", name)
        if args.typ == _NODE_GROUP:  # its own name property, read by the node-group schedule's input
            state.setdefault("nodeGroupName", name)
        return state["id"], state

    def call(self, args: Any) -> tuple[dict[str, Any], list]:
        token, region = args.token, self.region
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:{partition(region)}:iam::{ACCOUNT_ID}:user/plan",
                "userId": "plan",
                "id": ACCOUNT_ID,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}, []
        if token == "aws:index/getPartition:getPartition":
            p = partition(region)
            return {"partition": p, "dnsSuffix": dns_suffix(region), "id": p}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = [f"{region}{z}" for z in "abc"]
            return {"names": zones, "zoneIds": zones, "id": region}, []
        if token == "aws:eks/getCluster:getCluster":
            # Attaching to an existing cluster reads its subnets. Offline there is no cluster: answer with
            # placeholders in two zones, as every EKS cluster has (EKS requires subnets in ≥ 2 zones), so that the
            # plan and the policy pack see the node groups spread as they will be, not an empty list.
            cluster = args.args.get("name", "cluster")
            subnets = [f"subnet-offline-{cluster}-{z}" for z in "ab"]
            return {
                "name": cluster,
                "id": cluster,
                "version": args.args.get("version", ""),
                "arn": f"arn:{partition(region)}:eks:{region}:{ACCOUNT_ID}:cluster/{cluster}",
                "vpcConfig": {"subnetIds": subnets, "vpcId": f"vpc-offline-{cluster}"},
            }, []
        if token == "aws:secretsmanager/getSecretVersion:getSecretVersion" and not self.autoname:
            # Offline there is no secret to read: a placeholder that names the secret, never a token. (Autonaming
            # runs echo the request, as the diff always has: its `[secret <digest>]` values stay the same.)
            secret = args.args.get("secretId", "")
            return {
                "secretString": f"<secret {secret}>",
                "arn": secret,
                "id": secret,
                "secretId": secret,
                "versionId": "plan",
                "versionStages": ["AWSCURRENT"],
            }, []
        return dict(args.args), []


# --- the recorder ---------------------------------------------------------------------------------------------


def run_program(
    program: Callable[[], Any],
    *,
    project: str = "llama-infra",
    stack: str = "plan",
    preview: bool = False,
    config: Mapping[str, str] | None = None,
    mocks: Any = None,
    masked: bool = True,
) -> Recording:
    """Run `program` (a function, or e.g. `runpy.run_path` of a `__main__.py`) under mocks and record it.

    `mocks` answer registrations and invokes (default: `RecordingMocks()`); if it records the calls it gets
    (`calls`), so does the recording. `config` keys without a namespace get the project's (`networkStack` ->
    `<project>:networkStack`). `masked` inputs (for comparing runs) show a secret as `[secret <digest>]`, an
    asset or archive as a digest of its content and an unknown as `UNKNOWN`: a change shows, a value does not.
    Unmasked inputs (for reading one run) show secrets' values (offline: placeholders) and name them in
    `secret_inputs`; unknowns are None, other wire-only values `COMPUTED`.
    """
    policy = asyncio.get_event_loop_policy()
    try:
        previous = policy.get_event_loop()
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()  # Pulumi's mocked runtime runs on the current loop; this run owns it
    asyncio.set_event_loop(loop)
    mocks = RecordingMocks() if mocks is None else mocks
    if isinstance(mocks, RecordingMocks):
        mocks.begin_run()
    try:
        recording = contextvars.Context().run(
            _record, program, project, stack, preview, dict(config or {}), mocks, masked
        )
    finally:
        # Give the caller back its loop (Pulumi tests in the same process expect one to be current).
        asyncio.set_event_loop(
            previous if previous is not None and not previous.is_closed() else asyncio.new_event_loop()
        )
        loop.close()
    violations = getattr(mocks, "violations", None)
    if violations:
        from llama_infra.contracts import ContractError

        raise ContractError(_unique(violations), where=f"stack {stack}")
    return recording


def _unique(violations: list[Any]) -> list[Any]:
    seen, out = set(), []
    for v in violations:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def run_plan(program: Callable[[], Any], *, region: str = "us-east-1", **kwargs: Any) -> Recording:
    """`run_program` as `llama-infra plan` runs it: resources named as written, inputs unmasked."""
    return run_program(program, mocks=RecordingMocks(region, autoname=False), masked=False, **kwargs)


def record(program: Callable[[], Any], **kwargs: Any) -> list[RecordedResource]:
    """`run_program(program, **kwargs).resources`: the registrations in order."""
    return run_program(program, **kwargs).resources


def _record(
    program: Callable[[], Any],
    project: str,
    stack: str,
    preview: bool,
    config: dict[str, str],
    mocks: Any,
    masked: bool,
) -> Recording:
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import rpc, settings

    recording = Recording()

    class _Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            return mocks.new_resource(args)

        def call(self, args: pulumi.runtime.MockCallArgs):
            recording.calls.append((args.token, dict(args.args)))
            return mocks.call(args)

    def plain(struct: Any) -> tuple[dict[str, Any], list[str]]:
        values = rpc.deserialize_properties(struct, keep_unknowns=masked)
        if masked:
            return _masked(values), []
        out, secrets = {}, []
        for key, value in values.items():
            out[key], secret = _revealed(value)
            if secret:
                secrets.append(key)
        return out, secrets

    class _Monitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            if hasattr(mocks, "replace_on_changes"):
                mocks.replace_on_changes = list(request.replaceOnChanges)
            if hasattr(mocks, "computed_inputs"):
                mocks.computed_inputs[(request.type, request.name)] = {
                    k for k, deps in request.propertyDependencies.items() if list(deps.urns)
                }
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                inputs, secrets = plain(request.object)
                state = self.resources.get(response.urn)
                outputs = _revealed(dict(state.state))[0] if state else {}
                recording.resources.append(
                    RecordedResource(
                        urn=response.urn,
                        type=request.type,
                        name=request.name,
                        inputs=inputs,
                        custom=bool(request.custom),
                        parent_urn=request.parent,
                        replace_on_changes=list(request.replaceOnChanges),
                        ignore_changes=list(request.ignoreChanges),
                        delete_before_replace=bool(request.deleteBeforeReplace),
                        retain_on_delete=bool(request.retainOnDelete),
                        depends_on=list(request.dependencies),
                        outputs=outputs,
                        secret_inputs=secrets,
                    )
                )
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
            recording.component_outputs[request.urn] = plain(request.outputs)[0]
            return super().RegisterResourceOutputs(request)

    settings.ROOT.set(None)  # `set_mocks` only creates a root stack when none exists
    pulumi.runtime.set_all_config({k if ":" in k else f"{project}:{k}": v for k, v in config.items()})
    pulumi.runtime.set_mocks(_Mocks(), project=project, stack=stack, preview=preview, monitor=_Monitor(_Mocks()))

    @pulumi.runtime.test
    def run() -> Any:
        program()
        root = pulumi.runtime.get_root_resource()
        outputs = dict(getattr(root, "outputs", {}) or {})
        return pulumi.Output.all(**outputs).apply(recording.exports.update) if outputs else None

    run()
    return recording


# --- inputs as plain data -------------------------------------------------------------------------------------


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


def _masked(value: Any) -> Any:
    import pulumi
    from pulumi.runtime import rpc

    if isinstance(value, (pulumi.asset.Asset, pulumi.asset.Archive)):
        return f"[{type(value).__name__} sha256:{_asset_digest(value)}]"
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return f"[secret {_digest(_masked(value.get('value')))}]"
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return value


def _revealed(value: Any) -> tuple[Any, bool]:
    """Pulumi's wire-format secret wrappers replaced by their values; and whether there was one."""
    import pulumi
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _revealed(value.get("value"))[0], True
        pairs = {k: _revealed(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(hit for _, hit in pairs.values())
    if isinstance(value, list):
        pairs_ = [_revealed(v) for v in value]
        return [v for v, _ in pairs_], any(hit for _, hit in pairs_)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value, False
    if isinstance(value, pulumi.Resource):  # a resource reference
        return f"<resource {type(value).__name__}>", False
    return COMPUTED, False  # unknowns (known after apply) and other wire-only values
