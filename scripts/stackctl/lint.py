"""The project's lint before a deploy: cfn-lint with .cfnlintrc (the rotation rules included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .errors import UsageError
from .template import REPO

# cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it failed.
LINT_ERROR_BITS = 0b11


def cfn_lint() -> list[str]:
    return [str(Path(sys.executable).parent / "cfn-lint")]


def lint(template: Path) -> None:
    """Print cfn-lint's findings; an error (not a warning) stops the deploy."""
    print(
        f"Linting {template} (cfn-lint with the project's rules; SKIP_LINT=1 skips) ...", flush=True
    )
    result = subprocess.run(
        [*cfn_lint(), "--", str(template)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    findings = (result.stdout + result.stderr).strip()
    if findings:
        print(findings, flush=True)
    if result.returncode & LINT_ERROR_BITS:
        raise UsageError(
            f"cfn-lint found errors in {template} (above); fix them, or deploy anyway with "
            "SKIP_LINT=1."
        )
