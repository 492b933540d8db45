"""A clear refusal when cfn-lint is given this folder's path (`--append-rules path/to/lint_rules`).

cfn-lint loads a folder given to --append-rules file by file, each outside any package, and reads
the folder's own files before those of its subfolders, so this is the first file it runs (given
`lint_rules/rules`, rules/by_path_guard.py runs this file). The rules import their shared code
relatively and load only as the package `cfn_lint_rotation`.
SystemExit, not ImportError: cfn-lint turns an ImportError into a traceback that buries the fix.
Imported as part of the package, this module does nothing.
"""

from pathlib import Path

if not __package__:
    _PACK = Path(__file__).resolve().parent
    _GIVEN = globals().get("GIVEN_FOLDER", _PACK)  # set by rules/by_path_guard.py
    _CHECKOUT = _PACK.parent if (_PACK.parent / "pyproject.toml").is_file() else None
    _INSTALL = (
        f"Install it (`pip install -e {_CHECKOUT}`, or `make install` in that checkout) and name "
        "the module instead"
        if _CHECKOUT
        else "Name the installed module instead"
    )
    raise SystemExit(
        f"cfn-lint --append-rules {_GIVEN}: this folder is "
        f"{'' if _GIVEN == _PACK else 'part of '}the rotation rule pack, a Python "
        f"package since 0.3.0, which cfn-lint cannot load by folder path. {_INSTALL}: "
        "`cfn-lint -a cfn_lint_rotation`, or `append_rules: [cfn_lint_rotation]` in .cfnlintrc."
    )
