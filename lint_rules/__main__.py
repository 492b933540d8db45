"""`cfn-lint-rotation`: cfn-lint with the rotation rules appended.

The command the pre-commit hook `cfn-lint-rotation` runs (it installs this package), also
`python -m cfn_lint_rotation`. Every argument goes to cfn-lint unchanged, except `--version`
(before any `--`), which prints the pack's version with cfn-lint's.
"""

import sys
from importlib.metadata import version

from cfnlint.runner import main as cfn_lint

from . import __version__


def main() -> None:
    options = sys.argv[1 : sys.argv.index("--")] if "--" in sys.argv else sys.argv[1:]
    if "--version" in options:
        print(f"cfn-lint-rotation {__version__} (cfn-lint {version('cfn-lint')})")
        return
    # The `=` form: --append-rules takes several values and would swallow the template names.
    sys.argv[1:1] = [f"--append-rules={__package__}"]
    cfn_lint()


if __name__ == "__main__":
    main()
