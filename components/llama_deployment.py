"""`LlamaDeployment`: the llama-infra components behind a schema that every Pulumi language can use.

Pulumi's Python component provider host infers the package schema from type hints and field docstrings; it has no
enums and no unions, so it cannot express the deployment spec (targets, optional sections, literal choices). The
spec therefore travels as YAML text and is validated by llama-infra's spec layer — with the same located errors
as `llama-infra validate` — while the inputs a consumer program typically sets per stack are typed fields that
override the spec. (No `from __future__ import annotations` here: the host reads the annotations as types.)
The component then delegates to its target's component (`llama_infra.targets.get(spec.target).build`:
`SageMakerLlamaEndpoint` or `EksLlamaDeployment`) as its child.
"""

import io
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.errors import InputPropertyError

TYPE_TOKEN = "llama-infra:index:LlamaDeployment"


class LlamaDeploymentArgs(TypedDict):
    """Inputs of LlamaDeployment."""

    spec_yaml: str
    (
        "The deployment spec as YAML text (the format `llama-infra validate` checks; JSON Schema in "
        'schema/deployment-spec.schema.json). Read it from a file: `fs.readFileSync("llama.yaml", "utf8")` in '
        "TypeScript, `fn::readFile: ./llama.yaml` in Pulumi YAML. It must be known when the program runs (it decides "
        "which resources exist), so it is a plain string, not an output of another resource."
    )
    environment: NotRequired[str | None]
    """Overrides the spec's `environment` (dev, staging or prod), e.g. from the stack name."""
    region: NotRequired[str | None]
    """Overrides the spec's AWS `region`, e.g. us-west-2."""
    min_replicas: NotRequired[int | None]
    """Overrides `scaling.min_replicas`: replicas (SageMaker instances / Kubernetes pods) always running."""
    max_replicas: NotRequired[int | None]
    """Overrides `scaling.max_replicas`: the most replicas the autoscaler may run."""
    endpoint_name: NotRequired[str | None]
    """SageMaker target: the endpoint name (default: this resource's name). Ignored on EKS."""
    tags: NotRequired[dict[str, str] | None]
    """Tags added to the spec's `tags` on every AWS resource (these win on conflicts)."""


class LlamaDeployment(pulumi.ComponentResource):
    "A self-hosted Llama deployment on AWS (SageMaker endpoint or EKS), built from a llama-infra spec: reserved baseline, burst capacity, autoscaling on queue depth, overnight downsizing, alarms."  # noqa: E501 - the schema's description, one line

    target: pulumi.Output[str]
    """Where it runs: sagemaker or eks (from the spec)."""
    spec_name: pulumi.Output[str]
    """The spec's `name`; prefixes every resource name."""
    endpoint_name: pulumi.Output[str]
    """What clients call: the SageMaker endpoint name, or the Kubernetes Service name on EKS."""
    endpoint_arn: pulumi.Output[str | None]
    """The SageMaker endpoint ARN (for IAM policies of callers); empty on EKS."""
    dashboard_url: pulumi.Output[str | None]
    """CloudWatch dashboard of the endpoint (SageMaker); empty on EKS."""
    baseline_instance_type: pulumi.Output[str]
    """Instance type of the always-on baseline."""
    min_replicas: pulumi.Output[int]
    """Replicas always running (after overrides)."""
    max_replicas: pulumi.Output[int]
    """Most replicas the autoscaler may run (after overrides)."""
    cost_per_month_usd: pulumi.Output[float]
    (
        "Estimated cost per month in USD under the spec's stated load, from the bundled price snapshot "
        "(`llama-infra cost` explains it)."
    )

    def __init__(self, name: str, args: LlamaDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE_TOKEN, name, None, opts)
        from llama_infra.targets import cost_report

        spec = spec_from_args(name, args)
        child = pulumi.ResourceOptions(parent=self)
        from llama_infra import targets

        target = targets.get(spec.target)
        entry = target.entry(target.build(name, spec, child, endpoint_name=args.get("endpoint_name")))
        self.target = pulumi.Output.from_input(spec.target)
        self.spec_name = pulumi.Output.from_input(spec.name)
        self.endpoint_name = pulumi.Output.from_input(entry.endpoint_name)
        self.endpoint_arn = pulumi.Output.from_input(entry.endpoint_arn)
        self.dashboard_url = pulumi.Output.from_input(entry.dashboard_url)
        self.baseline_instance_type = pulumi.Output.from_input(spec.capacity.baseline.instance_type)
        self.min_replicas = pulumi.Output.from_input(spec.min_replicas)
        self.max_replicas = pulumi.Output.from_input(spec.max_replicas)
        self.cost_per_month_usd = pulumi.Output.from_input(cost_report(spec).cost_per_month_usd)
        self.register_outputs(
            {
                k: getattr(self, k)
                for k in (
                    "target",
                    "spec_name",
                    "endpoint_name",
                    "endpoint_arn",
                    "dashboard_url",
                    "baseline_instance_type",
                    "min_replicas",
                    "max_replicas",
                    "cost_per_month_usd",
                )
            }
        )


def spec_from_args(name: str, args: LlamaDeploymentArgs) -> Any:
    """Validate the YAML spec with the typed overrides applied; a bad spec is an input error on `specYaml`."""
    from ruamel.yaml import YAML

    from llama_infra.spec import SpecError, parse_spec

    text = args.get("spec_yaml")
    if not isinstance(text, str):
        raise InputPropertyError(
            "specYaml",
            "must be the spec's YAML text known when the program runs (read it "
            "from a file), not an output of another resource",
        )
    overrides = {k: args.get(k) for k in ("environment", "region") if args.get(k) is not None}
    scaling = {k: int(args[k]) for k in ("min_replicas", "max_replicas") if args.get(k) is not None}
    tags = args.get("tags") or {}
    source = f"LlamaDeployment '{name}' specYaml"
    if overrides or scaling or tags:
        yaml = YAML(typ="rt")
        try:
            doc = yaml.load(text)
        except Exception:  # noqa: BLE001 - parse_spec below reports the YAML error with its line
            doc = None
        if isinstance(doc, dict):
            doc.update(overrides)
            if scaling:
                doc["scaling"] = {**(doc.get("scaling") or {}), **scaling}
            if tags:
                doc["tags"] = {**(doc.get("tags") or {}), **tags}
            buffer = io.StringIO()
            yaml.dump(doc, buffer)
            text = buffer.getvalue()
    try:
        return parse_spec(text, source)
    except SpecError as e:
        raise InputPropertyError("specYaml", str(e)) from None
