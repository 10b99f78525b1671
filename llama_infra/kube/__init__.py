"""Kubernetes and EKS objects of the EKS target, as plain data (no Pulumi).

Pure functions from a `DeploymentSpec` to Kubernetes manifests (dicts), Helm values and managed-node-group
parameters. `llama_infra.components.eks` turns them into Pulumi resources; the tests validate them against the
Kubernetes schema of the spec's cluster version and the CRDs' published schemas; the plan prints them.
"""
