"""Fixtures shared across test folders, and what a run prints about itself.

Before the tests: one line per folder (suite) with its test count and the real things it uses.
After them: a loud line when the database tests were skipped for want of a MariaDB server, and one
when the install tests were left to CI. Slow modules are collected first, so pytest-xdist (make
test) starts them before the quick ones.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Iterable, Iterator

import pytest

from tests.helpers.local_servers import NO_MARIADB, moto_server

NOTICES = pytest.StashKey[list[tuple[str, dict]]]()
# Tests marked `installs` pip-install into fresh virtualenvs (about 35 s of the critical path):
# CI runs them, a local make test only when asked.
INSTALLS_WANTED = os.environ.get("CI") == "true" or os.environ.get("INSTALL_TESTS") == "1"
INSTALLS_LEFT_TO_CI = "install test left to CI (CI=true or INSTALL_TESTS=1 runs it)"
SUITES = {
    "custom_resource": "the role-lookup Lambda handler, moto server, an HTTPS receiver on loopback",
    "database": "a real MariaDB server, the instance bootstrap's AWS CLI calls against moto",
    "deploy": "scripts/stack.py and make, the AWS CLI against a moto server",
    "lint_rules": "the cfn-lint rules on good and broken templates",
    "taskcat": "taskcat's own config loader from .venv-taskcat",
    "templates": "the templates through cfn-lint's reader, cfn-lint, moto",
    "tooling": "README, pre-commit config and hook, Makefile and test set-up",
}


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    """One moto server per worker for the whole session, at http://127.0.0.1:PORT. Under
    pytest-xdist each worker has its own (it starts in about a second and 0.8 s of CPU); every
    folder's tests share it (they name what they create uniquely), so a worker that moves from
    one folder to another and back does not start another."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def moto_endpoint(moto_server_url) -> str:
    """The moto server for the AWS CLI and boto3 via AWS_ENDPOINT_URL.

    The host is "localhost": the CLI builds CloudFormation TemplateURLs from the S3 endpoint, and
    moto reads a bucket out of a path-style URL only for localhost (or amazonaws.com) hosts.
    """
    return moto_server_url.replace("127.0.0.1", "localhost")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a `slow` test first, then the modules with the most tests: with --dist
    loadfile (and --no-loadscope-reorder, or xdist sorts by test count alone) the long ones start
    at once and the short ones fill the end. Install tests are skipped unless CI=true or
    INSTALL_TESTS=1."""
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    tests_in = Counter(item.path for item in items)
    items.sort(key=lambda item: (item.path not in slow_modules, -tests_in[item.path]))
    if not INSTALLS_WANTED:
        for item in items:
            if item.get_closest_marker("installs"):
                item.add_marker(pytest.mark.skip(reason=INSTALLS_LEFT_TO_CI))


def pytest_collection_finish(session) -> None:
    """What collection imported (cfn-lint, botocore, moto) lives for the whole run: frozen out
    of the garbage collector's full passes, which would otherwise walk it again and again."""
    gc.collect()
    gc.freeze()


def suite_lines(nodeids: Iterable[str]) -> list[str]:
    counts = Counter(nodeid.split("/")[1] for nodeid in nodeids if nodeid.startswith("tests/"))
    width = max((len(name) for name in counts), default=0)
    return [
        f"  tests/{name.ljust(width)} {count:4d} tests: {SUITES.get(name, '')}".rstrip(": ")
        for name, count in sorted(counts.items())
    ]


def pytest_report_collectionfinish(config, items) -> list[str]:
    """The suites about to run (without pytest-xdist; with it, the hook below prints them)."""
    return ["Test suites:", *suite_lines(item.nodeid for item in items)]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    config = node.config
    if getattr(config, "_suites_printed", False):
        return
    config._suites_printed = True
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        for line in ["Test suites:", *suite_lines(ids)]:
            reporter.write_line(line)


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Counts the database and install tests that did not run; pytest_unconfigure prints lines."""
    skips = [skip_reason(r) for r in terminalreporter.stats.get("skipped", [])]
    skipped = [reason for reason in skips if NO_MARIADB in reason]
    left_to_ci = [reason for reason in skips if INSTALLS_LEFT_TO_CI in reason]
    failed = [r for r in terminalreporter.stats.get("error", []) if NO_MARIADB in str(r.longrepr)]
    config.stash[NOTICES] = []
    if left_to_ci:
        config.stash[NOTICES].append(
            (
                f"NOT RUN {len(left_to_ci)} install tests (the README's pip and pre-commit "
                "recipes in fresh virtualenvs, about 35 s): CI runs them; to run them here: "
                "make test INSTALL_TESTS=1",
                {"yellow": True},
            )
        )
    if skipped:
        config.stash[NOTICES].append(
            (
                f"SKIPPED {len(skipped)} database tests: no MariaDB server (install "
                "mariadb-server, or run make test as root; see README, Testing)",
                {"yellow": True},
            )
        )
    if failed:
        config.stash[NOTICES].append(
            (
                f"FAILED {len(failed)} database tests: no MariaDB server"
                + (", and CI=true requires them" if os.environ.get("CI") == "true" else ""),
                {"red": True},
            )
        )


def pytest_unconfigure(config) -> None:
    """The notices as the very last lines of the run, where no one misses them."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for line, colour in config.stash.get(NOTICES, []):
        if reporter is not None:
            reporter.write_sep("!", line, bold=True, **colour)
