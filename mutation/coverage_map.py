"""pytest plugin for make mutate: which tests execute which source lines.

Loaded with `-p mutation.coverage_map` in the unmutated baseline run of a group. Coverage runs with
one context per test (its node id, set around setup, call and teardown). Python subprocesses a
test starts (`make deploy` running scripts/stack.py, cfn-lint on the command line) are measured
too, under the same context: coverage's .pth hook in the venv starts coverage in any Python that
finds COVERAGE_PROCESS_START, which points at a small config naming the current test.

Lines executed outside any test (imports during collection, session fixtures) carry no test. At
the end the map goes to the file named by MUTATION_COVERAGE_MAP:

    {"lines": {"<source>": {"<line>": ["<node id>", ...] or null}}}

null means "executed where no test can be named" (at import, in a session fixture); lines never
executed are absent. mutation/select_tests.py treats both alike.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest
from coverage.data import CoverageData

MAP_FILE = "MUTATION_COVERAGE_MAP"
SOURCES = "MUTATION_SOURCES"  # os.pathsep-separated source files, relative to the working directory
NO_TEST = ""


class LineMap:
    def __init__(self, target: Path, sources: list[str]) -> None:
        self.target = target
        self.root = Path.cwd()
        self.sources = sources
        self.include = [str(self.root / s) for s in sources]
        self.children = Path(tempfile.mkdtemp(prefix="mutation-map-"))
        self.cov = coverage.Coverage(data_file=None, include=self.include, config_file=False)
        self.cov.start()

    def child_config(self, nodeid: str) -> Path:
        """A coverage config for subprocesses of one test: its own data files, its context."""
        config = configparser.ConfigParser(interpolation=None)
        config["run"] = {
            "data_file": str(self.children / ".coverage"),
            "parallel": "true",
            "context": nodeid,
            "include": "\n" + "\n".join(self.include),
        }
        path = self.children / f"config-{abs(hash(nodeid))}.ini"
        with path.open("w") as out:
            config.write(out)
        return path

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem) -> Iterator[None]:
        self.cov.switch_context(item.nodeid)
        os.environ["COVERAGE_PROCESS_START"] = str(self.child_config(item.nodeid))
        yield
        os.environ.pop("COVERAGE_PROCESS_START", None)
        self.cov.switch_context(NO_TEST)

    def contexts(self) -> dict[str, dict[int, set[str]]]:
        """Source -> line -> contexts, from this process and every measured subprocess."""
        self.cov.stop()
        found: dict[str, dict[int, set[str]]] = {s: {} for s in self.sources}
        datasets = [self.cov.get_data()]
        for child_file in self.children.glob(".coverage.*"):
            child = CoverageData(basename=str(child_file))
            child.read()
            datasets.append(child)
        for data in datasets:
            for source, path in zip(self.sources, self.include, strict=True):
                for number, contexts in data.contexts_by_lineno(path).items():
                    found[source].setdefault(number, set()).update(contexts)
        return found

    def pytest_sessionfinish(self, session) -> None:
        lines = {
            source: {
                str(number): None if NO_TEST in contexts else sorted(contexts)
                for number, contexts in sorted(by_line.items())
            }
            for source, by_line in self.contexts().items()
        }
        self.target.write_text(json.dumps({"lines": lines}))
        shutil.rmtree(self.children, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args) -> None:
    """Starts before the first conftest is imported, so no source import goes unmeasured."""
    target = os.environ.get(MAP_FILE)
    if target:
        sources = [s for s in os.environ.get(SOURCES, "").split(os.pathsep) if s]
        early_config.pluginmanager.register(LineMap(Path(target), sources), "mutation-line-map")
