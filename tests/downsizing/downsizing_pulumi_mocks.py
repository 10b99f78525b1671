"""Pulumi mocks for the downsizing component tests: every resource gets plausible ARNs and its inputs back.

Strict, like the library's recorder: every registration is held against the cloud contracts
(`llama_infra.contracts.check_resource`) and kept in `violations`; `assert_no_violations()` raises ContractError."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

ACCOUNT = "123456789012"
REGION = "us-east-1"
AUTONAME_SUFFIX = "-1a2b3c"  # what the mock appends to auto-named resources


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    resources: list[Registered] = field(default_factory=list)
    violations: list = field(default_factory=list)

    def assert_no_violations(self) -> None:
        from llama_infra.contracts import ContractError

        if self.violations:
            raise ContractError(self.violations, where="test program")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        kind = args.typ.split(":")[-1]
        physical = outputs.get("name") or outputs.get("inferenceComponentName") or f"{args.name}{AUTONAME_SUFFIX}"
        arns = {
            "EndpointConfiguration": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{physical}",
            "Endpoint": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{physical}",
            "Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}",
            "LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/{physical}",
            "Policy": f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:{physical}",
            # a hierarchical parameter's ARN has one slash after `parameter` (its name starts with one)
            "Parameter": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{physical.lstrip('/')}",
        }
        outputs.setdefault("name", physical)
        outputs["arn"] = arns.get(kind, f"arn:aws:mock:{REGION}:{ACCOUNT}:{kind.lower()}/{physical}")
        self.resources.append(Registered(args.typ, args.name, dict(args.inputs)))
        if not args.typ.startswith("pulumi:"):
            from llama_infra.contracts import check_resource

            self.violations += check_resource(args.typ, args.name, args.inputs)[1]
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, name: str) -> Registered:
        [found] = [r for r in self.resources if r.name == name]
        return found
