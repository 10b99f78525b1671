"""Pulumi mocks that record every resource a program registers: type, name, parent, inputs, outputs.

Computed outputs are plausible and deterministic (id, name, arn in the resource's service and region), so
programs that format outputs (dashboard URLs, policy documents) run to the end offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

MOCK_ACCOUNT_ID = "123456789012"
COMPUTED = "<computed>"  # a value Pulumi only knows after apply
# Resource types whose ARN path differs from the lower-cased resource name.
_ARN_RESOURCE = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoint-config",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "alarm:",
    "aws:appautoscaling/target:Target": "scalable-target/",
}


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent_urn: str | None
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    secret_inputs: list[str] = field(default_factory=list)  # top-level inputs that hold a Pulumi secret


def _unwrap_secrets(value: Any) -> tuple[Any, bool]:
    """Replace Pulumi's wire-format secret wrappers by their values; say whether there was one."""
    from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

    if isinstance(value, dict):
        if value.get(_special_sig_key) == _special_secret_sig:
            inner, _ = _unwrap_secrets(value.get("value"))
            return inner, True
        found = False
        out = {}
        for k, v in value.items():
            out[k], hit = _unwrap_secrets(v)
            found = found or hit
        return out, found
    if isinstance(value, list):
        pairs = [_unwrap_secrets(v) for v in value]
        return [v for v, _ in pairs], any(h for _, h in pairs)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value, False
    if isinstance(value, pulumi.Resource):  # a resource reference
        return f"<resource {type(value).__name__}>", False
    return COMPUTED, False  # Unknown (known after apply) and other wire-only values


def _arn(type_: str, name: str, region: str) -> str:
    pkg, module_path, _ = (type_.split(":") + ["", ""])[:3]
    service = module_path.split("/")[0] if "/" in module_path else module_path
    resource = _ARN_RESOURCE.get(type_, type_.rsplit(":", 1)[-1].lower() + "/")
    if resource.endswith(("/", ":")):
        resource = f"{resource}{name}"
    else:
        resource = f"{resource}/{name}"
    scope = "" if service == "iam" else region
    return f"arn:aws:{service}:{scope}:{MOCK_ACCOUNT_ID}:{resource}"


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes offline; `RecordingMonitor` keeps the records."""

    def __init__(self, region: str = "us-east-1"):
        self.region = region
        self.calls: list[tuple[str, dict]] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", inputs
        name = inputs.get("name") or inputs.get("dashboardName") or args.name
        region = inputs.get("region") or self.region
        outputs = {**inputs, "name": name, "arn": _arn(args.typ, name, region), "id": f"{name}-id"}
        if args.typ == "aws:appautoscaling/target:Target":
            outputs["id"] = inputs.get("resourceId", name)
        return outputs["id"], outputs

    def call(self, args: MockCallArgs) -> dict:  # a dict alone means: no failures
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": MOCK_ACCOUNT_ID, "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/plan",
                    "userId": "PLAN", "id": MOCK_ACCOUNT_ID}
        if args.token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            # Offline there is no secret to read: a placeholder that names the secret, never a token.
            secret = args.args.get("secretId", "")
            return {"secretString": f"<secret {secret}>", "arn": secret, "id": secret, "secretId": secret,
                    "versionId": "plan", "versionStages": ["AWSCURRENT"]}
        return {}


class RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps each registration's parent and the components' registered outputs."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.records: list[RecordedResource] = []
        self.component_outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        from pulumi.runtime import rpc

        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs, secrets = {}, []
            for key, value in rpc.deserialize_properties(request.object).items():
                inputs[key], secret = _unwrap_secrets(value)
                if secret:
                    secrets.append(key)
            state = self.resources.get(response.urn)
            outputs = _unwrap_secrets(dict(state.state))[0] if state else {}
            self.records.append(RecordedResource(
                urn=response.urn, type=request.type, name=request.name, parent_urn=request.parent or None,
                custom=bool(request.custom), inputs=inputs, outputs=outputs, secret_inputs=secrets,
                ignore_changes=list(request.ignoreChanges), depends_on=list(request.dependencies)))
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        from pulumi.runtime import rpc

        self.component_outputs[request.urn] = dict(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)
