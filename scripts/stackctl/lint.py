"""The project's lint before a deploy: cfn-lint with .cfnlintrc (the rotation rules included)."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import traceback
from pathlib import Path

from .errors import UsageError
from .template import REPO

# cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it failed.
LINT_ERROR_BITS = 0b11


def cfn_lint(*args: str) -> tuple[int, str]:
    """cfn-lint's command line (`cfn-lint ARGS` from the repository), run in this process:
    reading the template has imported cfn-lint already, which a second Python process would
    pay for again (about 0.8 s of CPU per deploy). Returns its exit status and its output,
    stdout then stderr, as the command would print them."""
    from cfnlint.runner import main  # noqa: PLC0415 (the console script's entry point)

    out, err = io.StringIO(), io.StringIO()
    logger = logging.getLogger("cfnlint")
    handlers, level = logger.handlers[:], logger.level  # main() installs its own handler
    try:
        with (
            contextlib.chdir(REPO),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            argv, sys.argv = sys.argv, ["cfn-lint", *args]
            try:
                main()
                status = 0
            except SystemExit as stop:
                status = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
                if isinstance(stop.code, str):
                    print(stop.code, file=sys.stderr)
            except Exception:  # a crash of cfn-lint is reported, as the command would report it
                traceback.print_exc()
                status = 1
            finally:
                sys.argv = argv
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    return status, out.getvalue() + err.getvalue()


def lint(template: Path) -> None:
    """Print cfn-lint's findings; an error (not a warning) stops the deploy."""
    print(
        f"Linting {template} (cfn-lint with the project's rules; SKIP_LINT=1 skips) ...", flush=True
    )
    status, output = cfn_lint("--", str(template))
    findings = output.strip()
    if findings:
        print(findings, flush=True)
    if status & LINT_ERROR_BITS:
        raise UsageError(
            f"cfn-lint found errors in {template} (above); fix them, or deploy anyway with "
            "SKIP_LINT=1."
        )
