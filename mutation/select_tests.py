"""cosmic-ray's test command in make mutate: run the tests that execute the mutated lines.

    python -m mutation.select_tests <group map.json>

The map (written by mutation/run.py from the group's unmutated baseline run) holds the pristine
text of each source, the line -> tests map of mutation/coverage_map.py, and the group's pytest
arguments. The mutated lines are found by comparing the sources in the working directory with
their pristine text. Then, in order, stopping at the first failure (the mutant is killed):

1. the tests that executed those lines (most mutants fail here, in a second or two); for a line
   outside any function body (it runs at import, credited to whichever test imported the module
   first) or never run, the tests that executed any line of its file;
2. the rest of the test modules those tests are in (a module fixture may have run the line on
   behalf of its other tests, which coverage credits to the first one only).

A test the group names by node id (`file::test`) runs with every mutant, in step 1: such a test
uses the group's files through a copy (a rule file loaded from a scratch folder), which coverage
never credits to the source. When no test ran any line of the file, the group's whole test
command runs instead. The
selection is a subset of the group's tests, so it can only miss a kill (a test that reads a
module's constant without running any of its lines), never invent one: the score it gives is a
lower bound of the whole group's.
"""

from __future__ import annotations

import ast
import difflib
import json
import subprocess
import sys
from pathlib import Path

NO_TESTS_LEFT = 5  # pytest's exit code when no test was selected


def mutated_lines(pristine: dict[str, str]) -> dict[str, set[int]]:
    """Line numbers (1-based, in the pristine file) that differ in the working directory."""
    changed: dict[str, set[int]] = {}
    for source, text in pristine.items():
        current = Path(source).read_text()
        if current == text:
            continue
        before, after = text.splitlines(), current.splitlines()
        lines: set[int] = set()
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, start, end, _, _ in matcher.get_opcodes():
            if tag == "insert":  # new lines between pristine lines start and start + 1
                lines.update((start, start + 1))
            elif tag != "equal":
                lines.update(range(start + 1, end + 1))
        changed[source] = lines
    return changed


def function_body_lines(text: str) -> set[int]:
    """Lines inside function bodies: the ones that run when the function is called. Every other
    line (constants, class attributes, signatures and their defaults, decorators) runs once, at
    import, under whichever test happened to import the module first."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            lines.update(range(node.body[0].lineno, node.body[-1].end_lineno + 1))
    return lines


def covering_tests(
    line_map: dict, changed: dict[str, set[int]], runtime_lines: dict[str, set[int]]
) -> list[str]:
    """Node ids of the tests that ran the changed lines. For a line run at import (which coverage
    credits to the first importer only) or never run, the tests that ran any line of its file: a
    module-level constant or an untested branch is seen, if at all, by the tests that use the
    module."""
    tests: set[str] = set()
    whole_files: set[str] = set()
    for source, lines in changed.items():
        by_line = line_map.get(source, {})
        for line in lines:
            covering = by_line.get(str(line))
            if covering and line in runtime_lines[source]:
                tests.update(covering)
            else:
                whole_files.add(source)
    for source in whole_files:
        for covering in line_map.get(source, {}).values():
            tests.update(covering or ())
    return sorted(tests)


def pytest(base: list[str], args: list[str]) -> int:
    # pytest's own temporary directories in this worker's tree: runs of other workers (and of
    # the user) never share, or clean up, a directory with this one.
    basetemp = f"--basetemp={Path.cwd() / '.pytest-tmp'}"
    return subprocess.run([*base, basetemp, *args], check=False).returncode


def main(map_file: str) -> int:
    spec = json.loads(Path(map_file).read_text())
    base, group_args, deselect = spec["pytest"], spec["args"], spec["deselect"]
    changed = mutated_lines(spec["pristine"])
    runtime_lines = {source: function_body_lines(spec["pristine"][source]) for source in changed}
    tests = covering_tests(spec["lines"], changed, runtime_lines)
    if not tests:  # no test ran the file (or nothing changed): the group's whole command
        return pytest(base, [*group_args, *deselect])
    pinned = [arg for arg in group_args if "::" in arg and arg not in tests]
    status = pytest(base, [*tests, *pinned, *deselect])
    if status != 0:
        return status
    modules = sorted({test.split("::", 1)[0] for test in tests})
    already_run = [f"--deselect={test}" for test in [*tests, *pinned]]
    status = pytest(base, [*modules, *deselect, *already_run])
    # 5: every test of those modules ran in step 1, none is left: that is a pass, not a kill.
    return 0 if status == NO_TESTS_LEFT else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
