"""Stack rule: where the overflow router fronts the model servers, nothing else may reach them.

The router authenticates clients; a model server any pod can call directly skips that (and its priorities and
shedding). So in a namespace that runs the router (`app.kubernetes.io/name: llama-infra-router`), every model
server Deployment (`app.kubernetes.io/name: llama-server`) must be selected by a NetworkPolicy of type Ingress
whose every rule names its sources (a rule without `from`, or with an empty peer, admits every pod).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from . import kubernetes
from .resource import Resource, as_list, get
from .rule import MANDATORY, LlamaStackRule, ours

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAME_LABEL = "app.kubernetes.io/name"
ROUTER_NAME, SERVER_NAME = "llama-infra-router", "llama-server"


def _namespace(resource: Resource) -> str:
    return str(resource.get("metadata", "namespace", default="default"))


def _pod_labels(workload: Resource) -> Mapping:
    labels = workload.get("spec", "template", "metadata", "labels", default={})
    return labels if isinstance(labels, Mapping) else {}


def _matches(selector: Mapping, labels: Mapping) -> bool:
    """Kubernetes label-selector semantics for matchLabels and the In / NotIn / Exists / DoesNotExist operators."""
    for key, value in (get(selector, "matchLabels", default={}) or {}).items():
        if get(labels, key) != value:
            return False
    for expression in as_list(get(selector, "matchExpressions", default=[])):
        key, operator = get(expression, "key"), get(expression, "operator")
        values = as_list(get(expression, "values", default=[]))
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _isolates(policy: Resource) -> bool:
    """An Ingress policy whose every rule names its sources (no rule at all denies all ingress)."""
    types = as_list(policy.get("spec", "policyTypes", default=["Ingress"]))
    if "Ingress" not in types:
        return False
    for rule in as_list(policy.get("spec", "ingress", default=[])):
        peers = as_list(get(rule, "from", default=[]))
        if not peers or any(not peer for peer in peers):
            return False
    return True


def _check(resources: list[Resource]) -> Iterator[tuple[Resource, str]]:
    deployments = [r for r in resources if r.type == kubernetes.DEPLOYMENT]
    routed = {_namespace(d) for d in deployments if get(_pod_labels(d), NAME_LABEL) == ROUTER_NAME}
    policies = [p for p in resources if p.type == NETWORK_POLICY and _isolates(p)]
    for server in deployments:
        labels = _pod_labels(server)
        if get(labels, NAME_LABEL) != SERVER_NAME or _namespace(server) not in routed:
            continue
        if not any(
            _namespace(p) == _namespace(server) and _matches(p.get("spec", "podSelector", default={}) or {}, labels)
            for p in policies
        ):
            yield (
                server,
                (
                    f"model server {server.get('metadata', 'name')} in namespace {_namespace(server)} sits "
                    "behind the router but no NetworkPolicy limits who reaches it: any pod can call the "
                    "model directly, without the router's authentication."
                ),
            )


SERVERS_BEHIND_ROUTER_ISOLATED = LlamaStackRule(
    "model-servers-behind-router-isolated",
    "Where the router fronts the model servers, a NetworkPolicy admits only named sources (the router) to them.",
    resource_types=[kubernetes.DEPLOYMENT, NETWORK_POLICY],
    check=_check,
    enforcement_level=MANDATORY,
    citations=[
        ours(
            "only the router reaches the model servers",
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        )
    ],
    remediation="Deploy the router through the EKS components (they add <name>-servers), or add a NetworkPolicy "
    "selecting the server pods with ingress only from the router's pods.",
)

RULES = [SERVERS_BEHIND_ROUTER_ISOLATED]
