"""Shared reading of rotation templates for the project's cfn-lint rules.

cfn-lint loads every `lint_rules/<letter>*.py` file by path, outside any package; the rule files
put `lint_rules/` on `sys.path` and import this package. Every module here starts with an
underscore so that cfn-lint never loads one of them as a rule file. cfn-lint runs a rule file
without registering it in sys.modules, so rule files define no dataclasses; this package can.
"""
