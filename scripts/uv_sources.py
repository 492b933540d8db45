"""The package sources pip is configured with, as settings for uv (`scripts/venv.sh`).

    python scripts/uv_sources.py PYTHON

uv reads neither pip.conf nor PIP_* variables. This asks `PYTHON -m pip config list` for pip's
merged configuration and prints one NAME=VALUE line per uv setting that gives uv the same
sources: index-url -> UV_DEFAULT_INDEX, extra-index-url -> UV_INDEX, find-links ->
UV_FIND_LINKS, no-index -> UV_NO_INDEX, cert -> SSL_CERT_FILE, timeout -> UV_HTTP_TIMEOUT,
trusted-host -> UV_INSECURE_HOST. With extra indexes, UV_INDEX_STRATEGY=unsafe-best-match, since
pip takes the best version across all indexes where uv would stop at the first that has the
package. A variable already set is not printed (the user's own uv settings win); without any
pip configuration (or without pip) nothing is printed, and uv uses PyPI.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Mapping

# pip's precedence for `pip install`: [global], then [install], then PIP_* variables (":env:").
SECTIONS = ("global", "install", ":env:")
LISTS = {"extra-index-url": "UV_INDEX", "trusted-host": "UV_INSECURE_HOST"}
SINGLE = {
    "index-url": "UV_DEFAULT_INDEX",
    "cert": "SSL_CERT_FILE",
    "timeout": "UV_HTTP_TIMEOUT",
    "default-timeout": "UV_HTTP_TIMEOUT",
}
TRUE = {"1", "true", "yes", "on"}


def pip_settings(listing: str) -> dict[str, str]:
    """`pip config list` output (section.key='value' lines) -> key -> value, later sections
    overriding earlier ones as pip does."""
    by_section: dict[str, dict[str, str]] = {section: {} for section in SECTIONS}
    for line in listing.splitlines():
        name, separator, quoted = line.partition("=")
        section, _, key = name.rpartition(".")
        if separator and section in by_section:
            by_section[section][key.replace("_", "-")] = ast.literal_eval(quoted)
    merged: dict[str, str] = {}
    for section in SECTIONS:
        merged.update(by_section[section])
    return merged


def uv_settings(pip: dict[str, str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for key, variable in SINGLE.items():
        if pip.get(key):
            settings[variable] = pip[key].strip()
    for key, variable in LISTS.items():
        if pip.get(key):
            settings[variable] = " ".join(pip[key].split())
    if pip.get("find-links"):
        settings["UV_FIND_LINKS"] = ",".join(pip["find-links"].split())
    if pip.get("no-index", "").lower() in TRUE:
        settings["UV_NO_INDEX"] = "1"
    if "UV_INDEX" in settings:
        settings["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    return settings


def uv_lines(listing: str, environment: Mapping[str, str]) -> list[str]:
    """NAME=VALUE lines for `pip config list` output, leaving out what `environment` sets."""
    settings = {
        variable: value
        for variable, value in uv_settings(pip_settings(listing)).items()
        if variable not in environment
    }
    if "UV_INDEX" not in settings:  # the strategy goes with the indexes it was chosen for
        settings.pop("UV_INDEX_STRATEGY", None)
    return [f"{variable}={value}" for variable, value in settings.items()]


def main(python: str) -> int:
    try:
        listing = subprocess.run(
            [python, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return 0  # no pip here, so no pip configuration to follow
    for line in uv_lines(listing, os.environ):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
