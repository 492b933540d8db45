"""pytest plugin for make mutate: which tests execute which source lines.

Loaded with `-p mutation.coverage_map` in the unmutated baseline run of a group. Coverage runs with
one context per test (its node id, set around setup, call and teardown); lines executed outside
any test (imports during collection, session fixtures) or in a subprocess carry no test context.
At the end it writes the map to the file named by MUTATION_COVERAGE_MAP:

    {"lines": {"<source>": {"<line>": ["<node id>", ...] or null}}}

null means "executed where no test can be named": mutation/select_tests.py then runs the whole
group for a mutant on that line. Lines never executed are absent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest

MAP_FILE = "MUTATION_COVERAGE_MAP"
SOURCES = "MUTATION_SOURCES"  # os.pathsep-separated source files, relative to the working directory
NO_TEST = ""


class LineMap:
    def __init__(self, target: Path, sources: list[str]) -> None:
        self.target = target
        self.root = Path.cwd()
        self.sources = sources
        self.cov = coverage.Coverage(
            data_file=None,
            include=[str(self.root / s) for s in sources],
            config_file=False,
        )
        self.cov.start()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem) -> Iterator[None]:
        self.cov.switch_context(item.nodeid)
        yield
        self.cov.switch_context(NO_TEST)

    def pytest_sessionfinish(self, session) -> None:
        self.cov.stop()
        data = self.cov.get_data()
        lines: dict[str, dict[str, list[str] | None]] = {}
        for source in self.sources:
            path = str(self.root / source)
            by_line = data.contexts_by_lineno(path)
            lines[source] = {
                str(number): (None if NO_TEST in contexts else sorted(contexts))
                for number, contexts in sorted(by_line.items())
            }
        self.target.write_text(json.dumps({"lines": lines}))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args) -> None:
    """Starts before the first conftest is imported, so no source import goes unmeasured."""
    target = os.environ.get(MAP_FILE)
    if target:
        sources = [s for s in os.environ.get(SOURCES, "").split(os.pathsep) if s]
        early_config.pluginmanager.register(LineMap(Path(target), sources), "mutation-line-map")
