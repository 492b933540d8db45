"""cosmic-ray's test command in make mutate: run the tests that execute the mutated lines.

    python -m mutation.select_tests <group map.json>

The map (written by mutation/run.py from the group's unmutated baseline run) holds the pristine
text of each source, the line -> tests map of mutation/coverage_map.py, and the group's pytest
arguments. The mutated lines are found by comparing the sources in the working directory with
their pristine text. Then, in order, stopping at the first failure (the mutant is killed):

1. the tests that executed those lines (most mutants fail here, in a second or two);
2. the whole test modules those tests are in (a module fixture may have run the line on behalf
   of its other tests, which coverage credits to the first one only).

A line the map cannot tie to a test (run at import, in a session fixture or a subprocess, or not
at all) gets the group's whole test command instead, as before this selection existed. A mutant
survives only when every test that could see it passes, so the selection saves time without
raising the score.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from pathlib import Path


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


def covering_tests(line_map: dict, changed: dict[str, set[int]]) -> list[str] | None:
    """Node ids of the tests that ran the changed lines; None when some line has no known test."""
    tests: set[str] = set()
    for source, lines in changed.items():
        by_line = line_map.get(source, {})
        for line in lines:
            covering = by_line.get(str(line))
            if covering is None:
                return None
            tests.update(covering)
    return sorted(tests) if tests else None


def pytest(base: list[str], args: list[str]) -> int:
    return subprocess.run([*base, *args], check=False).returncode


def main(map_file: str) -> int:
    spec = json.loads(Path(map_file).read_text())
    base, group_args, deselect = spec["pytest"], spec["args"], spec["deselect"]
    changed = mutated_lines(spec["pristine"])
    tests = covering_tests(spec["lines"], changed) if changed else None
    if tests is None:
        return pytest(base, [*group_args, *deselect])
    status = pytest(base, [*tests, *deselect])
    if status != 0:
        return status
    modules = sorted({test.split("::", 1)[0] for test in tests})
    already_run = [f"--deselect={test}" for test in tests]
    return pytest(base, [*modules, *deselect, *already_run])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
