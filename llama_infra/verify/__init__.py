"""`llama-infra verify`: the guide's autoscaling verification against a live endpoint and its scaler.

Load (`load`), scaler adapters (`kubernetes`, `sagemaker`), the procedure and its judgements (`procedure`), and
the evidence report (`report`).
"""
