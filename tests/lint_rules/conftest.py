"""Fixtures of the lint-rule tests: one cfn-lint runner per session, fresh template data."""

from __future__ import annotations

import copy
import gc

import pytest
from lint_rules_kit import Linter, load, without_language_extensions


def _long_lived(linter: Linter) -> Linter:
    """The linter, its rules and the modules loaded so far left out of garbage collection.

    Each lint leaves cyclic garbage (cfn-lint's Template refers to itself), so full collections
    come every few tests; without this each one walks the rules and schemas again (a fifth of
    this folder's CPU time). Frozen objects stay alive; garbage is collected first."""
    gc.collect()
    gc.freeze()
    return linter


@pytest.fixture(scope="session")
def linter() -> Linter:
    return _long_lived(Linter())


@pytest.fixture(scope="session")
def informed() -> Linter:
    """The linter with informational rules on (IR704), as the repository's .cfnlintrc runs it."""
    return _long_lived(Linter("--include-checks", "I"))


@pytest.fixture(scope="session")
def _multi_user_data() -> dict:
    return without_language_extensions(load("good_multi_user_short.yaml"))


@pytest.fixture
def multi_user(_multi_user_data) -> dict:
    """The good alternating-users template, a fresh copy for each test to change.

    Without AWS::LanguageExtensions (lint_rules_kit.without_language_extensions): these tests
    are about the rules, and cfn-lint's transform would double the cost of each lint."""
    return copy.deepcopy(_multi_user_data)
