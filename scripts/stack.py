#!/usr/bin/env python3
"""Package, deploy, verify and delete the toolkit's stacks: `make package|deploy|verify|delete`.

The work is done by the stackctl package next to this file; see stackctl/__init__.py.
"""

import sys

from stackctl.cli import main

if __name__ == "__main__":
    sys.exit(main())
