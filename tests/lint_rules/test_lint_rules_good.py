"""Correct templates, in every form users write them, get no finding from the project's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_rules_kit import FORMS, REPO, TEMPLATES, load, render

GOOD = sorted(path.name for path in TEMPLATES.glob("good_*"))
PROJECT_TEMPLATES = sorted((REPO / "templates").glob("*.yaml"))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", GOOD)
def test_good_template_rendered_long_form_has_no_finding(linter, name, form):
    assert linter.findings(render(load(name), form)) == set()


@pytest.mark.parametrize("path", PROJECT_TEMPLATES, ids=lambda p: Path(p).name)
def test_project_template_has_no_finding(informed, path):
    assert informed.findings(path.read_text()) == set()


@pytest.mark.parametrize("name", GOOD)
def test_good_template_as_written_has_no_finding_not_even_informational(informed, name):
    """No error or warning, and no IR704 either: the good templates define every subnet and group
    the reach depends on. (`informed` runs every rule `linter` runs, and the informational ones.)"""
    assert informed.findings((TEMPLATES / name).read_text()) == set()


def test_the_rules_read_the_good_templates(linter):
    """Guard against a vacuous pass: a broken copy of a good template does get findings."""
    template = load("good_multi_user_short.yaml")
    del template["Transform"]
    assert ("ER001", "Resources/AppRotation/Properties/HostedRotationLambda") in linter.findings(
        render(template, "yaml")
    )
