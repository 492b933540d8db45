#!/usr/bin/env python3
"""Package, deploy, verify and delete the toolkit's stacks: `make package|deploy|verify|delete`.

The work is done by the stackctl package next to this file (see stackctl/__init__.py). Imported
as `scripts.stack`, this module re-exports the names other tests use.
"""

import sys

if __package__:  # imported as scripts.stack
    from .stackctl.artifacts import lambda_zip
    from .stackctl.cli import main
    from .stackctl.template import CODE_KEY_PARAMS, LAMBDA_NAME_MAX, read_template
else:  # run as scripts/stack.py: its folder is on sys.path
    from stackctl.artifacts import lambda_zip
    from stackctl.cli import main
    from stackctl.template import CODE_KEY_PARAMS, LAMBDA_NAME_MAX, read_template

__all__ = ["CODE_KEY_PARAMS", "LAMBDA_NAME_MAX", "lambda_zip", "main", "read_template"]

if __name__ == "__main__":
    sys.exit(main())
