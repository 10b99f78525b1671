"""The SageMaker target: a real-time endpoint per spec, autoscaled on queue depth, with its window switches.

- `components/`: the Pulumi components (`SageMakerLlamaEndpoint` and its parts);
- `downsizing/`: the window-switch reconciler that runs in AWS Lambda (shipped on its own: standard library and
  boto3 only);
- `cloudwatch_metrics`: where SageMaker publishes an endpoint's CloudWatch metrics (namespace, dimensions);
- `scaling_target`: what Application Auto Scaling scales (resource id, scalable dimension);
- `target`: the `Target` the registry hands out for `target: sagemaker`.
"""
