"""Test-wide setup: the strict recorder checks custom resources against the pinned upstream CRDs.

The CRDs are in `../shared/data/upstream/` (sources and commits in its README), beside the repository; they are not
shipped with llama-infra. `LLAMA_INFRA_CRDS` names them for `llama_infra.contracts.kube`, so every program a test
records has its KEDA ScaledObjects and Karpenter NodePools / EC2NodeClasses held against their schemas.

Run-time tests (tests/router/, tests/verify/): `async def` tests run in a fresh event loop, bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "upstream"
CRD_FILES = ("keda.sh_scaledobjects.yaml", "karpenter.sh_nodepools.yaml", "karpenter.k8s.aws_ec2nodeclasses.yaml")

os.environ.setdefault("LLAMA_INFRA_CRDS", os.pathsep.join(str(UPSTREAM / f) for f in CRD_FILES))


def pytest_configure(config: pytest.Config) -> None:
    # without the reference data, three modules fail to import and every EKS recording fails on a missing CRD file:
    # one message saying what is missing instead of dozens of FileNotFoundError tracebacks
    if not UPSTREAM.is_dir():
        raise pytest.UsageError(
            f"the tests read pinned upstream reference data (CRDs, schemas, container facts) from {UPSTREAM.resolve()}"
            ", which does not exist: put a copy of the shared/ directory CI has beside this checkout "
            "(README.md, 'Two commands')"
        )


ASYNC_TEST_TIMEOUT_SECONDS = 90  # a safety bound for a very busy machine, not an expected duration


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), ASYNC_TEST_TIMEOUT_SECONDS))
    return True
