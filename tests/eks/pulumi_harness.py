"""Run a Pulumi program under mocks and record every resource it registers (type, name, inputs).

Strict, like the library's recorder (`llama_infra.plan.record`): every registration is held against the cloud
contracts (`llama_infra.contracts.check_resource`), and `run` raises ContractError with every violation. These
mocks answer the cluster lookups a Kubernetes provider needs, which the library's offline recorder does not."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

CLUSTER_ENDPOINT = "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com"


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Recorded] = []
        self.calls: list[str] = []
        self.violations: list = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        from llama_infra.contracts import check_resource

        self.resources.append(Recorded(args.typ, args.name, args.inputs))
        if not args.typ.startswith("pulumi:"):
            self.violations += check_resource(args.typ, args.name, args.inputs)[1]
        state = dict(args.inputs)
        if args.typ == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::123456789012:role/{args.name}"
            state["name"] = args.name
        if args.typ == "aws:sqs/queue:Queue":
            state["arn"] = f"arn:aws:sqs:us-east-1:123456789012:{args.name}"
            state["name"] = args.name
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state["latestVersion"] = 1
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.calls.append(args.token)
        if args.token == "aws:eks/getCluster:getCluster":
            return {"name": args.args["name"], "endpoint": CLUSTER_ENDPOINT,
                    "certificateAuthorities": [{"data": "LS0tLS1CRUdJTg=="}],
                    "vpcConfig": {"subnetIds": ["subnet-0a", "subnet-0b"]}}
        return {}

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, name: str) -> Recorded:
        (found,) = [r for r in self.resources if r.name == name]
        return found


def run(program, preview: bool) -> RecordingMocks:
    """Run `program()` (which creates resources and returns an Output or resource) under fresh mocks."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, preview=preview)

    @pulumi.runtime.test
    def _test():
        result = program()
        return result.urn if isinstance(result, pulumi.Resource) else result

    _test()
    if mocks.violations:
        from llama_infra.contracts import ContractError

        raise ContractError(mocks.violations, where="test program")
    return mocks
