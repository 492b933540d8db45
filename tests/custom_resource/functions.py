"""The custom resources' handler modules, loaded as Lambda does but side by side in one process.

In each zip, app.py and the function's modules sit at the root next to the shared cfn_one_shot
package and import each other as top-level names. Every function directory therefore goes on
sys.path (their module names differ), and each app.py is loaded under its own module name.
"""

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

CUSTOM_RESOURCES = Path(__file__).resolve().parents[2] / "custom_resources"
FUNCTIONS = ("lambda_role_lookup", "mysql_user")

for directory in (CUSTOM_RESOURCES, *(CUSTOM_RESOURCES / name for name in FUNCTIONS)):
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))


def load_app(function: str) -> ModuleType:
    """custom_resources/<function>/app.py as module `<function>_app` (imported once)."""
    name = f"{function}_app"
    if name not in sys.modules:
        sys.modules[name] = _import(function, name)
    return sys.modules[name]


def fresh_app(function: str) -> ModuleType:
    """A new import of custom_resources/<function>/app.py, as a new Lambda execution environment
    makes one: it reads the environment (LOG_LEVEL) as it is now. Not kept in sys.modules."""
    return _import(function, f"{function}_app_{next(_FRESH_IMPORTS)}")


_FRESH_IMPORTS = itertools.count(1)


def _import(function: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, CUSTOM_RESOURCES / function / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
