"""scripts/uv_sources.py: uv gets the package sources pip is configured with.

Run once as venv.sh runs it, with real pip (`pip config list`) on a scratch configuration file
(PIP_CONFIG_FILE): pip's own merging of files and PIP_* variables, in pip's own listing format.
The other cases call its mapping in-process on a listing in that format, which spares each a
start of pip (about 0.2 s of CPU).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scripts.uv_sources import uv_lines

REPO = Path(__file__).resolve().parents[2]


def uv_sources(tmp_path: Path, config: str, **env: str) -> list[str]:
    (tmp_path / "pip.conf").write_text(config)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    environment.update(PIP_CONFIG_FILE=str(tmp_path / "pip.conf"), **env)
    script = REPO / "scripts" / "uv_sources.py"
    return subprocess.run(
        [sys.executable, str(script), sys.executable],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()


def test_pip_sources_map_to_uv_with_pip_s_precedence(tmp_path):
    config = (
        "[global]\nindex-url = https://mirror.example/simple\n"
        "extra-index-url =\n  file:///opt/a/simple\n  file:///opt/b/simple\n"
        "find-links = /opt/wheels\n[install]\nindex-url = https://install.example/simple\n"
    )
    assert uv_sources(tmp_path, config, PIP_FIND_LINKS="/w1 /w2") == [
        "UV_DEFAULT_INDEX=https://install.example/simple",  # [install] over [global]
        "UV_INDEX=file:///opt/a/simple file:///opt/b/simple",
        "UV_FIND_LINKS=/w1,/w2",  # PIP_* over the files
        "UV_INDEX_STRATEGY=unsafe-best-match",  # pip's choice of the best version anywhere
    ]


def test_plain_pypi_gives_uv_nothing_and_the_user_s_uv_settings_win():
    assert uv_lines("", {}) == []
    listing = "global.extra-index-url='https://extra.example/simple'\nglobal.no-index='yes'\n"
    assert uv_lines(listing, {"UV_INDEX": "https://mine.example/simple"}) == ["UV_NO_INDEX=1"]
