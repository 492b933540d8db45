"""docs/templates.md lists every parameter of each template with its default."""

import re

import pytest

from tests.helpers.cfn_templates import REPO, TEMPLATES, load, parameter_defaults

DOC = REPO / "docs" / "templates.md"


def documented_rows(template_file: str) -> dict[str, str]:
    text = DOC.read_text()
    section = text.split(f"### {template_file}\n", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| `?([^`|]*?)`? \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_docs_list_every_parameter_with_its_default(variant):
    template = load(TEMPLATES[variant])
    rows = documented_rows(TEMPLATES[variant].name)
    assert set(rows) == set(template["Parameters"])
    defaults = parameter_defaults(template)
    for name, documented in rows.items():
        assert documented == defaults.get(name, "(required)"), name
