"""taskcat's own config loader, run once per test session for every test of this folder.

Under pytest-xdist the first worker to ask runs it and leaves the JSON for the others in the
session's shared temporary folder, behind a file lock.
"""

from __future__ import annotations

import fcntl
import json

import pytest

from tests.taskcat.taskcat_loader import run_loader


@pytest.fixture(scope="session")
def taskcat_loaded(tmp_path_factory, worker_id) -> dict[str, dict]:
    """{"repository": what taskcat makes of .taskcat.yml, "misspelt": {"refused": "<error>"}}."""
    if worker_id == "master":  # no pytest-xdist workers: nothing to share
        return run_loader(tmp_path_factory.mktemp("taskcat"))
    shared = tmp_path_factory.getbasetemp().parent / "taskcat-loaded.json"
    with shared.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not shared.exists():
            shared.write_text(json.dumps(run_loader(tmp_path_factory.mktemp("taskcat"))))
        return json.loads(shared.read_text())


@pytest.fixture(scope="session")
def config(taskcat_loaded) -> dict:
    """What taskcat's own loader (schema included) makes of the repository's .taskcat.yml."""
    loaded = taskcat_loaded["repository"]
    assert "refused" not in loaded, loaded.get("refused")
    return loaded
