"""docs/Custom__MySQLUser.md is the resource's contract: where it states a fact the code or the
templates also state (the runtime, the properties, what an empty TlsCaFile means), both agree."""

import re

import pytest
from user_request import DEFAULT_TLS_CA_FILE, KNOWN, user_request

from tests.helpers.cfn_templates import EXISTING_CLUSTER, MULTI_USER, REPO, load, properties

DOC = (REPO / "docs" / "Custom__MySQLUser.md").read_text()
SET_BY_CLOUDFORMATION = {"ServiceToken", "ServiceTimeout"}
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf"


@pytest.mark.parametrize("template", [MULTI_USER, EXISTING_CLUSTER], ids=lambda p: p.stem)
def test_the_doc_names_the_runtime_the_templates_give_the_function(template):
    runtime = properties(load(template), "MySQLUserFunction")["Runtime"]
    named = set(re.findall(r"`(python3\.\d+)`", DOC))
    assert named == {runtime}


def test_the_syntax_blocks_and_the_property_entries_list_exactly_the_known_properties():
    json_block = re.search(r"```json\n(.*?)```", DOC, re.S)[1]
    yaml_block = re.search(r"```yaml\nType: Custom::MySQLUser\n(.*?)```", DOC, re.S)[1]
    in_json = set(re.findall(r'"(\w+)" :', json_block)) - {"Type", "Properties"}
    in_yaml = set(re.findall(r"^  (\w+):", yaml_block, re.M))
    entries = set(re.findall(r"^`(\w+)`(?:, `(\w+)`)?\n: ", DOC, re.M))
    documented = {name for pair in entries for name in pair if name}
    expected = set(KNOWN) | SET_BY_CLOUDFORMATION
    assert in_json == expected
    assert in_yaml == expected
    assert expected <= documented


def test_an_empty_tls_ca_file_is_the_shipped_bundle_in_code_and_doc():
    grants = [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "*"}]
    base = {"AdminSecretArn": ARN, "AppSecretArn": ARN, "Grants": grants}
    assert user_request({**base, "TlsCaFile": ""}).tls_ca_file == DEFAULT_TLS_CA_FILE
    assert user_request(base).tls_ca_file == DEFAULT_TLS_CA_FILE
    assert "empty for the system bundle" not in DOC  # it never meant the runtime's own CAs
    assert "empty for the shipped RDS bundle" in DOC
