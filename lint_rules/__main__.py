"""`cfn-lint-rotation`: cfn-lint with the rotation rules appended.

The command the pre-commit hook `cfn-lint-rotation` runs (it installs this package), also
`python -m cfn_lint_rotation`. Every argument goes to cfn-lint unchanged, except `--version`
(before any `--`), which prints the pack's version with cfn-lint's. The pack is appended unless
the arguments append it (or a module of it) already: cfn-lint stops at a rule loaded twice.
"""

import sys
from importlib.metadata import version

from cfnlint.config import CliArgs
from cfnlint.runner import main as cfn_lint

from . import __version__


def main() -> None:
    options = sys.argv[1 : sys.argv.index("--")] if "--" in sys.argv else sys.argv[1:]
    if "--version" in options:
        print(f"cfn-lint-rotation {__version__} (cfn-lint {version('cfn-lint')})")
        return
    if not _appended_already(sys.argv[1:]):
        # The `=` form: --append-rules takes several values and would swallow the template names.
        sys.argv[1:1] = [f"--append-rules={__package__}"]
    cfn_lint()


def _appended_already(arguments: list[str]) -> bool:
    """Whether -a/--append-rules, as cfn-lint's own parser reads them, name this pack or a module
    of it (`cfn_lint_rotation.rules`)."""
    appended = CliArgs(arguments).cli_args.append_rules
    return any(name == __package__ or name.startswith(f"{__package__}.") for name in appended)


if __name__ == "__main__":
    main()
