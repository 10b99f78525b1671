"""Pure scaling-policy math (no Pulumi): the policies the components render and the simulator runs.

- `hpa`: Kubernetes HorizontalPodAutoscaler (autoscaling/v2) desired-replica semantics.
- `keda`: KEDA ScaledObject on top of the HPA (activation, polling, cooldown to zero, fallback).
- `target`: what is scaled (`ScalingTarget`: service namespace, resource id, scalable dimension).
- `endpoint_metrics`: where SageMaker publishes each CloudWatch metric of an endpoint (`EndpointMetrics`: namespace
  and dimensions per endpoint kind), read by the alarms, the dashboard and the scaling policies.
- `target_tracking`: Application Auto Scaling target tracking for SageMaker variants (CloudWatch alarms, cooldowns).

Each policy has `from_spec(spec)` so the EKS/SageMaker components and `llama_infra.sim` read one definition.
"""
