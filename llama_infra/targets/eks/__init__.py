"""The EKS target: GPU capacity on an existing (or minimal new) EKS cluster, and the Kubernetes workload on it.

- `components/`: the Pulumi components (`EksLlamaDeployment` and its parts);
- `node_groups`, `karpenter`: the reserved baseline node group and the burst capacity, as plain data;
- `baseline_node_schedule`: the baseline node group's size in each window (EventBridge Scheduler);
- `addons`: Helm values of the add-ons it installs (`eks.addons`);
- `manifests`: every Kubernetes object of a spec's deployment, in apply order;
- `plan_summary`: the lines `plan` shows for it; `target`: the `Target` the registry hands out for `target: eks`.

Generic Kubernetes objects (workload, autoscalers, router, monitoring) are `llama_infra.targets.kubernetes`.
"""
