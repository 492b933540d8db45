"""Fixtures of the lint-rule tests: one cfn-lint runner per session, fresh template data."""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import Linter, load, without_language_extensions


@pytest.fixture(scope="session")
def linter() -> Linter:
    return Linter()


@pytest.fixture(scope="session")
def informed() -> Linter:
    """The linter with informational rules on (IR704), as the repository's .cfnlintrc runs it."""
    return Linter("--include-checks", "I")


@pytest.fixture(scope="session")
def _multi_user_data() -> dict:
    return without_language_extensions(load("good_multi_user_short.yaml"))


@pytest.fixture
def multi_user(_multi_user_data) -> dict:
    """The good alternating-users template, a fresh copy for each test to change.

    Without AWS::LanguageExtensions (lint_rules_kit.without_language_extensions): these tests
    are about the rules, and cfn-lint's transform would double the cost of each lint."""
    return copy.deepcopy(_multi_user_data)
