"""Runs under .venv-taskcat: loads taskcat configs with taskcat's own loader and prints JSON.

taskcat pins old dependencies, so it cannot be imported into the test virtualenv; the tests run
this script with the taskcat virtualenv's Python and read what it prints.

Usage: load_taskcat_config.py CONFIG_NAME PROJECT_ROOT... -- PATH...
One JSON object maps each project root to what taskcat's loader made of its config, or to
{"refused": "<the loader's exception>"} when the loader refused it (one process for several
configs: taskcat takes about a second of CPU to import). PATHs are checked against taskcat's
upload exclusions.
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
    config_name, *rest = sys.argv[1:]
    split = rest.index("--") if "--" in rest else len(rest)
    roots, paths = rest[:split], rest[split + 1 :]
    loaded = {}
    for root in roots:
        try:
            loaded[root] = load(Path(root).resolve(), config_name, paths)
        except Exception as error:  # what taskcat refuses, reported to the test
            loaded[root] = {"refused": f"{type(error).__name__}: {error}"}
    print(json.dumps(loaded))


def load(project_root: Path, config_name: str, paths: list[str]) -> dict:
    config_path = project_root / config_name
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
    return {
        "project": {
            "name": project.name,
            "package_lambda": project.package_lambda,
            "s3_regional_buckets": project.s3_regional_buckets,
            "parameters": project.parameters,
        },
        "tests": tests,
        "regions_by_service": {s: sorted(session.get_available_regions(s)) for s in services},
        "uploaded": {p: not excluded.match_file(p) for p in paths},
    }


if __name__ == "__main__":
    main()
