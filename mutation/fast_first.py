"""pytest plugin for make mutate: the test modules that were quickest in the unmutated run first.

With `pytest -x` a mutant is killed at its first failing test, and most mutants fail quick tests
too, so this order finds them sooner. Modules stay whole (their fixtures start once); the order
inside a module is kept. mutation/run.py writes the timings to .mutation-durations.json in each
worker's copy of the tree; without that file the order is left alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DURATIONS = Path(".mutation-durations.json")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not DURATIONS.exists():
        return
    mean_seconds = json.loads(DURATIONS.read_text())
    items.sort(key=lambda item: mean_seconds.get(item.nodeid.split("::")[0], float("inf")))
