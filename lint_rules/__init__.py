"""cfn-lint rules for Secrets Manager rotation: `cfn-lint -a cfn_lint_rotation`.

The folder lint_rules/ is the package `cfn_lint_rotation` (pyproject.toml); `make install` installs
it into .venv in editable mode, `pip install <repository>` anywhere else. cfn-lint's
`--append-rules <module>` imports the module and instantiates every CloudFormationLintRule
subclass among its attributes, so the rule classes of `rules/` are imported here. Inside, every
import is relative; the pack has this one name.

- `rules/`: the rules, one module per subject.
- `_rotation_lint/`: what the rules share: the template model, the value reader, the findings.
- `__main__.py`: the `cfn-lint-rotation` command (cfn-lint with the rules appended).
- `by_path_guard.py`: the clear refusal when cfn-lint is given this folder's path.
"""

if __name__ != "cfn_lint_rotation":  # e.g. `import lint_rules` from a checkout: a second copy
    raise ImportError(
        f"the rotation rule pack was imported as {__name__!r}; it has one name: import "
        "cfn_lint_rotation (`make install` installs it into .venv from a checkout)"
    )

from ._rotation_lint._release import VERSION as __version__
from ._rotation_lint._windows import rotation_windows_overlap
from .rules import *  # noqa: F403 (cfn-lint reads the rule classes among this module's attributes)
from .rules import __all__ as _rule_classes

__all__ = ["__version__", "rotation_windows_overlap", *_rule_classes]  # noqa: PLE0604
