"""Runs under .venv-taskcat: loads a taskcat config with taskcat's own loader and prints JSON.

taskcat pins old dependencies, so it cannot be imported into the test virtualenv; the tests run
this script with the taskcat virtualenv's Python and read what it prints.
"""

import json
import sys
import uuid
from pathlib import Path

import boto3
import pathspec
from taskcat._config import Config
from taskcat._dataclasses import TestObj
from taskcat._s3_sync import S3Sync


def main() -> None:
    project_root = Path(sys.argv[1]).resolve()
    config_path = project_root / (sys.argv[2] if len(sys.argv) > 2 else ".taskcat.yml")
    config = Config.create(
        project_root=project_root, project_config_path=config_path, args={}, env_vars={}
    )
    project = config.config.project
    excluded = pathspec.PathSpec.from_lines(
        "gitwildmatch", S3Sync.exclude_files + S3Sync.exclude_path_prefixes
    )
    session = boto3.session.Session()
    services = ("rds", "secretsmanager", "lambda", "serverlessrepo")
    tests = {}
    for name, test in config.config.tests.items():
        stack_name = TestObj(
            name=name, template_path=None, template=None, project_root=project_root,
            regions=[], artifact_regions=[], tags=[], uid=uuid.uuid4(),
            _project_name=project.name, _shorten_stack_name=bool(project.shorten_stack_name),
        ).stack_name  # fmt: skip
        tests[name] = {
            "template": test.template,
            "regions": test.regions,
            "parameters": test.parameters,
            "example_stack_name": stack_name,
        }
    print(
        json.dumps(
            {
                "project": {
                    "name": project.name,
                    "package_lambda": project.package_lambda,
                    "s3_regional_buckets": project.s3_regional_buckets,
                    "parameters": project.parameters,
                },
                "tests": tests,
                "regions_by_service": {
                    s: sorted(session.get_available_regions(s)) for s in services
                },
                "uploaded": {p: not excluded.match_file(p) for p in sys.argv[3:]},
            }
        )
    )


if __name__ == "__main__":
    main()
