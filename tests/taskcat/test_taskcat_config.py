""".taskcat.yml, checked offline with taskcat's own config loader (schema included)."""

from __future__ import annotations

from cfnlint.decode import decode

from scripts.stack import LAMBDA_NAME_MAX, read_template
from tests.taskcat.nested import deployed_templates
from tests.taskcat.taskcat_loader import CODE_PATHS, REPO


def template_parameters(path: str) -> dict:
    template, matches = decode(str(REPO / path))
    assert not matches, matches
    return template["Parameters"]


def test_every_template_is_tested_and_exists(config):
    tested = {
        deployed
        for test in config["tests"].values()
        for deployed in deployed_templates(test["template"], test["example_stack_name"])
    }
    assert tested == {str(p.relative_to(REPO)) for p in (REPO / "templates").glob("*.yaml")}


def test_every_parameter_given_exists_and_every_required_one_is_given(config):
    for name, test in config["tests"].items():
        declared = template_parameters(test["template"])
        given = test["parameters"]  # taskcat merges the project's parameters into each test
        assert set(given) <= set(declared), f"{name}: unknown {set(given) - set(declared)}"
        required = {p for p, spec in declared.items() if "Default" not in spec}
        assert required <= set(given), f"{name}: missing {required - set(given)}"


def test_regions_are_real_and_spread(config):
    regions = {name: set(test["regions"]) for name, test in config["tests"].items()}
    everywhere = set.intersection(*map(set, config["regions_by_service"].values()))
    for name, test_regions in regions.items():
        assert test_regions <= everywhere, f"{name}: {test_regions - everywhere} not real"
        assert len(test_regions) >= 3
    assert len(set.union(*regions.values())) >= 3
    assert not set.intersection(*regions.values()), "some Region carries every test"


def test_stack_names_fit_the_rotation_function_names(config):
    for test in config["tests"].values():
        deployed = deployed_templates(test["template"], test["example_stack_name"])
        for template, stack_name in deployed.items():
            suffixes = read_template(str(REPO / template)).rotation_name_suffixes
            assert suffixes, "the template names its rotation functions after the stack"
            longest = len(stack_name) + max(map(len, suffixes))
            assert longest <= LAMBDA_NAME_MAX


def test_lambda_code_comes_from_the_regional_bucket_where_taskcat_uploads_the_build(config):
    assert config["project"]["package_lambda"] is False  # `make taskcat` builds the zip itself
    assert config["project"]["s3_regional_buckets"] is True
    for test in config["tests"].values():
        params = test["parameters"]
        declared = template_parameters(test["template"])
        if "RoleLookupCodeS3Bucket" in declared:
            assert params["RoleLookupCodeS3Bucket"] == "$[taskcat_autobucket]"
        for name, path in CODE_PATHS.items():
            if name in declared:
                assert params[name] == f"$[taskcat_project_name]/{path}", name
    for path in CODE_PATHS.values():
        assert config["uploaded"][path], f"taskcat's upload would skip {path}"


def test_test_stacks_can_be_deleted(config):
    for test in config["tests"].values():
        assert test["parameters"].get("DeletionProtection") == "false"


def test_the_loader_rejects_what_taskcat_rejects(taskcat_loaded):
    # The same loader, given a copy of the project whose .taskcat.yml misspells `regions:`.
    refused = taskcat_loaded["misspelt"]["refused"]
    assert refused.startswith("ValidationError: "), refused
    assert "regoins" in refused
