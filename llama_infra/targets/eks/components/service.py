"""`LlamaInferenceService`: the vLLM/TGI serving workload of one deployment on EKS.

Baseline Deployment (fixed replicas on the reserved nodes), burst Deployment (the autoscaler's target, spot
preferred), Service, PodDisruptionBudget, the PodMonitors (or scrape-config Secret) of every scraped pod, a
ServiceAccount, and — for s3:// weights —
an IAM role bound to that account through EKS Pod Identity with read access to the weights prefixes only (the
day's and each window model's own, `model_override.weights`).
Manifests come from `llama_infra.targets.kubernetes.workload`; this module translates them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from llama_infra import naming
from llama_infra.iam import s3_arn
from llama_infra.spec import DeploymentSpec
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, assume_role_policy, child, kubernetes_resource
from llama_infra.targets.kubernetes import labels, monitoring, scale_in_order, workload
from llama_infra.targets.kubernetes import window_scaling as night_scaling
from llama_infra.targets.kubernetes import window_variants as night


@dataclass
class LlamaInferenceServiceArgs:
    """Inputs of `LlamaInferenceService`: the spec and the cluster's Kubernetes provider."""

    spec: DeploymentSpec
    k8s_provider: k8s.Provider | None
    cluster_name: pulumi.Input[str] | None = None
    """Default: spec.eks.cluster_name."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """E.g. the Namespace, when created in the same program (a component's depends_on does not order its children)."""


class LlamaInferenceService(pulumi.ComponentResource):
    """The vLLM/TGI workload: baseline and burst Deployments, Service, PDB, PodMonitors, S3 read access."""

    service_name: pulumi.Output[str]
    baseline_deployment_name: pulumi.Output[str | None]
    burst_deployment_name: pulumi.Output[str | None]
    weights_role_arn: pulumi.Output[str | None]

    def __init__(self, name: str, args: LlamaInferenceServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}LlamaInferenceService", name, None, opts)
        spec = args.spec
        assert spec.eks is not None
        k8s_opts = {"provider": args.k8s_provider}
        after = list(args.depends_on)
        tags = labels.aws_tags(spec)

        sa_obj = workload.service_account(spec)
        sa = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=sa_obj["metadata"],
            automount_service_account_token=False,
            opts=child(self, depends_on=after, **k8s_opts),
        )
        self.weights_role = self._weights_access(name, spec, args, tags)
        # The rights of the burst pods' deletion-cost init container (`scale_in_order`): bound before they start.
        self.scale_in_rbac: list[pulumi.CustomResource] = [
            kubernetes_resource(
                f"{name}-{_RBAC_SUFFIX[obj['kind']]}", obj, child(self, depends_on=[sa, *after], **k8s_opts)
            )
            for obj in scale_in_order.rbac_objects(spec)
        ]
        pods_after = [sa, *self.scale_in_rbac, *after]

        self.deployments: dict[str, k8s.apps.v1.Deployment] = {}
        base = workload.baseline_deployment(spec)
        if base:
            # When a window shrinks the baseline, its ScaledObject (llama_infra.targets.kubernetes.window_scaling) owns
            # the count.
            owned = ["spec.replicas"] if night_scaling.baseline_follows_schedule(spec) else None
            self.deployments["baseline"] = k8s.apps.v1.Deployment(
                f"{name}-baseline",
                metadata=base["metadata"],
                spec=base["spec"],
                opts=child(self, depends_on=pods_after, ignore_changes=owned, **k8s_opts),
            )
        for v, dep in zip(night.variants(spec), night.deployments(spec), strict=True):
            self.deployments[v.deployment_name] = k8s.apps.v1.Deployment(
                f"{name}-{v.deployment_name}",
                metadata=dep["metadata"],
                spec=dep["spec"],
                opts=child(self, depends_on=pods_after, ignore_changes=["spec.replicas"], **k8s_opts),
            )
        burst = workload.burst_deployment(spec)
        if burst:
            self.deployments["burst"] = k8s.apps.v1.Deployment(
                f"{name}-burst",
                metadata=burst["metadata"],
                spec=burst["spec"],
                # The HPA / KEDA owns the burst replica count after creation.
                opts=child(self, depends_on=pods_after, ignore_changes=["spec.replicas"], **k8s_opts),
            )
        svc = workload.service(spec)
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=svc["metadata"],
            spec=svc["spec"],
            opts=child(self, depends_on=after, **k8s_opts),
        )
        pdb = workload.pod_disruption_budget(spec)
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=pdb["metadata"], spec=pdb["spec"], opts=child(self, depends_on=after, **k8s_opts)
        )
        # How Prometheus finds the pods: PodMonitors, or the scrape-config Secret
        # (llama_infra.targets.kubernetes.monitoring).
        self.monitoring: list[pulumi.CustomResource] = []
        for obj in monitoring.objects(spec):
            if obj["kind"] == "Secret":
                self.monitoring.append(
                    k8s.core.v1.Secret(
                        f"{name}-scrape-configs",
                        metadata=obj["metadata"],
                        type=obj["type"],
                        string_data=obj["stringData"],
                        opts=child(self, depends_on=after, **k8s_opts),
                    )
                )
            else:
                role = obj["metadata"]["name"].removeprefix(spec.name).strip("-") or "server"
                self.monitoring.append(
                    k8s.apiextensions.CustomResource(
                        f"{name}-{role}-pod-monitor",
                        api_version=obj["apiVersion"],
                        kind=obj["kind"],
                        metadata=obj["metadata"],
                        spec=obj["spec"],
                        opts=child(self, depends_on=after, **k8s_opts),
                    )
                )

        self.service_name = self.service.metadata["name"]
        self.baseline_deployment_name = _name(self.deployments.get("baseline"))
        self.burst_deployment_name = _name(self.deployments.get("burst"))
        self.weights_role_arn = self.weights_role.arn if self.weights_role else pulumi.Output.from_input(None)
        self.register_outputs(
            {
                "service_name": self.service_name,
                "baseline_deployment_name": self.baseline_deployment_name,
                "burst_deployment_name": self.burst_deployment_name,
                "weights_role_arn": self.weights_role_arn,
            }
        )

    def _weights_access(
        self, name: str, spec: DeploymentSpec, args: LlamaInferenceServiceArgs, tags: dict[str, str]
    ) -> aws.iam.Role | None:
        from llama_infra.capacity_plan import window_weights

        # The day's weights and every window model's own (model_override.weights) that live in S3: exactly those
        # prefixes, nothing else in their buckets.
        weights = [spec.model.weights, *(window_weights(spec, s.name) for s in spec.schedules)]
        sources = sorted(
            {w.source for w in weights if w is not None and w.source.startswith("s3://")},
            key=lambda src: (src != spec.model.weights.source, src),
        )
        if not sources:
            return None
        assert spec.eks is not None
        prefixes: dict[str, list[str]] = {}  # bucket -> its prefixes, the day's bucket first
        for src in sources:
            bucket, _, prefix = src.removeprefix("s3://").partition("/")
            prefixes.setdefault(bucket, []).append(prefix)
        role = aws.iam.Role(
            naming.logical(naming.ROLE, f"{name}-weights-role"),
            tags=tags,
            opts=child(self),
            assume_role_policy=assume_role_policy("pods.eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")),
        )
        aws.iam.RolePolicy(
            f"{name}-weights-read",
            role=role.id,
            opts=child(self),
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject"],
                            "Resource": [
                                s3_arn(bucket, f"{prefix}*", spec.region)
                                for bucket, bucket_prefixes in prefixes.items()
                                for prefix in bucket_prefixes
                            ],
                        },
                        *(
                            {
                                "Effect": "Allow",
                                "Action": ["s3:ListBucket"],
                                "Resource": [s3_arn(bucket, None, spec.region)],
                                "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in bucket_prefixes]}},
                            }
                            for bucket, bucket_prefixes in prefixes.items()
                        ),
                    ],
                }
            ),
        )
        aws.eks.PodIdentityAssociation(
            f"{name}-weights-identity",
            cluster_name=args.cluster_name or spec.eks.cluster_name,
            namespace=spec.eks.namespace,
            service_account=spec.name,
            role_arn=role.arn,
            tags=tags,
            opts=child(self),
        )
        return role


def _name(d: k8s.apps.v1.Deployment | None) -> pulumi.Output[str | None]:
    return d.metadata["name"] if d else pulumi.Output.from_input(None)


# The Pulumi name suffix of each RBAC object of `scale_in_order.rbac_objects`, by kind.
_RBAC_SUFFIX = {
    "ClusterRole": "read-nodes",
    "ClusterRoleBinding": "read-nodes-binding",
    "Role": "deletion-cost",
    "RoleBinding": "deletion-cost-binding",
}
