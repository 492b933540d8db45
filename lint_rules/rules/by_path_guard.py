"""The refusal of ../by_path_guard.py when cfn-lint is given this folder's path
(`--append-rules path/to/lint_rules/rules`).

cfn-lint loads a folder's files whose names start with a letter or digit, in no set order; the rule
modules here start with `_`, so this is the one file it runs. Imported as part of the package, this
module does nothing.
"""

if not __package__:
    import runpy
    from pathlib import Path

    _HERE = Path(__file__).resolve().parent
    runpy.run_path(str(_HERE.parent / "by_path_guard.py"), {"GIVEN_FOLDER": _HERE})
