"""cfn-lint with the rotation rules of this folder appended.

Runs as `cfn-lint-rotation ...` when the package is installed (the pre-commit hook
`cfn-lint-rotation` installs it), or as `python -m lint_rules ...` from a checkout. All arguments
go to cfn-lint unchanged. cfn-lint skips this file when it loads the rules: its name starts with
`_`.
"""

import sys
from pathlib import Path

from cfnlint.runner import main as cfn_lint

RULES = Path(__file__).resolve().parent


def main() -> None:
    # The `=` form: --append-rules takes several values and would swallow the template names.
    sys.argv[1:1] = [f"--append-rules={RULES}"]
    cfn_lint()


if __name__ == "__main__":
    main()
