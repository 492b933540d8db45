#!/usr/bin/env python3
"""Build the Custom::LambdaRoleLookup deployment package: the function's modules plus crhelper.

The zip is byte-reproducible: the same sources (and the same pinned crhelper wheel) give the
same bytes, because entries are sorted and carry a fixed timestamp and fixed permissions, and
nothing machine-specific (__pycache__, .pyc, pip's metadata) goes in. Only crhelper's license
files are kept from its dist-info. Needs pip to reach the package index or its local cache.

    python scripts/build_lambda_zip.py --output dist/lambda_role_lookup.zip
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_DIR = ROOT / "custom_resources" / "lambda_role_lookup"
REQUIREMENTS = FUNCTION_DIR / "requirements.txt"
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
FILE_PERMISSIONS = 0o100644 << 16  # regular file, rw-r--r--, in the Unix bits of external_attr
SIZE_TARGET = 64 * 1024
NOT_SHIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi")
NOT_SHIPPED_NAMES = {"requirements.txt", "py.typed", ".DS_Store"}
LICENSE_PREFIXES = ("LICENSE", "LICENCE", "NOTICE", "COPYING")


class BuildError(Exception):
    """A failure the user can fix; the message says how."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "lambda_role_lookup.zip")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="lambda-vendor-") as vendor_dir:
            vendor(REQUIREMENTS, Path(vendor_dir))
            entries = {**shipped_files(Path(vendor_dir), vendored=True)}
            for arcname, path in shipped_files(FUNCTION_DIR, vendored=False).items():
                if arcname in entries:
                    raise BuildError(f"{arcname} exists both in the function and in a dependency")
                entries[arcname] = path
            write_zip(entries, args.output)
    except BuildError as error:
        print(f"build_lambda_zip: {error}", file=sys.stderr)
        return 1
    data = args.output.read_bytes()
    print(
        f"{args.output}: {len(data)} bytes, {len(entries)} files, "
        f"sha256 {hashlib.sha256(data).hexdigest()}"
    )
    if len(data) > SIZE_TARGET:
        print(f"warning: larger than the {SIZE_TARGET // 1024} KB target", file=sys.stderr)
    return 0


def pinned_requirements(requirements: Path) -> list[tuple[str, str]]:
    pins = []
    for raw_line in requirements.read_text().splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        if not separator or not version.strip():
            raise BuildError(
                f"{requirements}: pin every dependency exactly (name==version): {line}"
            )
        pins.append((name.strip(), version.strip()))
    return pins


def vendor(requirements: Path, target: Path) -> None:
    """pip-install the pinned dependencies (without theirs: boto3 is in the Lambda runtime)."""
    pins = pinned_requirements(requirements)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-compile",
        "--no-warn-script-location",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if result.returncode != 0:
        details = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise BuildError(
            f"pip could not install {', '.join(f'{n}=={v}' for n, v in pins)} from the package "
            "index or its cache. Connect to the index (or point PIP_INDEX_URL / PIP_FIND_LINKS "
            "at a mirror that has it) and run the build again. pip said: " + " | ".join(details)
        )
    for name, version in pins:
        normalized = name.replace("-", "_")
        if not list(target.glob(f"{normalized}-{version}.dist-info")):
            raise BuildError(f"pip did not install {name}=={version} into {target}")


def shipped_files(base: Path, *, vendored: bool) -> dict[str, Path]:
    """Archive name -> file for everything under `base` that belongs in the package."""
    entries = {}
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if not path.is_file() or "__pycache__" in relative.parts:
            continue
        if path.suffix in NOT_SHIPPED_SUFFIXES or path.name in NOT_SHIPPED_NAMES:
            continue
        top = relative.parts[0]
        if vendored and top == "bin":
            continue
        if top.endswith(".dist-info") and not path.name.upper().startswith(LICENSE_PREFIXES):
            continue
        entries[relative.as_posix()] = path
    return entries


def write_zip(entries: dict[str, Path], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIMESTAMP)
            info.create_system = 3  # Unix, so external_attr's permission bits are honoured
            info.external_attr = FILE_PERMISSIONS
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[arcname].read_bytes(), compresslevel=9)
    partial.replace(output)


if __name__ == "__main__":
    sys.exit(main())
