"""The two templates, decoded once with cfn-lint's reader."""

import pytest

from tests.helpers.cfn_templates import MULTI_USER, SINGLE_USER, TEMPLATES, load


@pytest.fixture(params=sorted(TEMPLATES), ids=sorted(TEMPLATES))
def template(request) -> dict:
    """Each template in turn: for what both must guarantee."""
    return load(TEMPLATES[request.param])


@pytest.fixture
def single() -> dict:
    return load(SINGLE_USER)


@pytest.fixture
def multi() -> dict:
    return load(MULTI_USER)
