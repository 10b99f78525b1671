"""llama-infra's CrossGuard rules, importable without starting a policy pack server.

`policies/__main__.py` hands `ALL_RULES` to `pulumi_policy.PolicyPack`; tests and other tools call `evaluate`.
"""

from __future__ import annotations

from . import contracts, eks, exemptions, iam, kubernetes, network, reliability, sagemaker, secrets, workloads
from .harness import Analysis, NotApplicable, Violation, analyze, evaluate, validation_args
from .rule import Citation, LlamaRule, LlamaStackRule

ALL_RULES: list[LlamaRule | LlamaStackRule] = [
    *sagemaker.RULES,
    *secrets.RULES,
    *eks.RULES,
    *kubernetes.RULES,
    *iam.RULES,
    *reliability.RULES,
    *workloads.RULES,
    *network.RULES,
    *exemptions.RULES,
    *contracts.RULES,
]

__all__ = [
    "ALL_RULES",
    "Analysis",
    "Citation",
    "LlamaRule",
    "LlamaStackRule",
    "NotApplicable",
    "Violation",
    "analyze",
    "evaluate",
    "validation_args",
]
