import pytest


@pytest.fixture(params=[True, False], ids=["preview", "update"])
def preview(request) -> bool:
    """Every component test runs as `pulumi preview` and as `pulumi up` would."""
    return request.param
