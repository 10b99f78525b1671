"""Kubernetes objects of a deployment, as plain data (no Pulumi), for any target that runs on Kubernetes.

Pure functions from a `DeploymentSpec` to Kubernetes manifests (dicts): the serving workload (`workload`, `server`,
`labels`), its autoscalers (`autoscaling`, `keda_formula`, `expr_lang`; `keda_steady_state` reads a rendered
ScaledObject's settled count through the KEDA model), the window variants and their scaling
(`window_variants`, `window_scaling`), the fallback model and the router (`fallback`, `router`), how Prometheus
finds the pods (`monitoring`, `prometheus_metrics`) and the pinned images (`images`). Nothing here is specific to
EKS: node groups, Karpenter and EKS add-ons are `llama_infra.targets.eks`. The components turn these objects into
Pulumi resources; the tests validate them against the Kubernetes schema of the spec's cluster version and the
CRDs' published schemas; the plan prints them.
"""
