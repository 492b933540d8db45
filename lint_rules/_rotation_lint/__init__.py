"""Shared reading of rotation templates for the project's cfn-lint rules.

cfn-lint loads the rules in two ways: by path (`--append-rules lint_rules`, a folder), where it
runs every `lint_rules/<letter>*.py` file outside any package, and as a module (`-a
cfn_lint_rotation` once installed), where `lint_rules/__init__.py` imports the rule files. Either
way the rule files put `lint_rules/` on `sys.path` and import this package. Every module here
starts with an underscore so that cfn-lint never loads one of them as a rule file. cfn-lint runs
a rule file loaded by path without registering it in sys.modules, so rule files define no
dataclasses; this package can. `_windows.rotation_windows_overlap` is for tooling too.
"""
