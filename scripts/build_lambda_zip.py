#!/usr/bin/env python3
"""Build the custom resources' deployment packages: each function's modules, the shared
cfn_one_shot package and the function's pinned dependencies (crhelper; pymysql for mysql_user).

Each zip is byte-reproducible: the same sources (and the same pinned wheels) give the same
bytes, because entries are sorted and carry a fixed timestamp and fixed permissions, and nothing
machine-specific (__pycache__, .pyc, pip's metadata) goes in. Only the dependencies' license
files are kept from their dist-info. Needs pip to reach the package index or its local cache.

    python scripts/build_lambda_zip.py                  # every function, into dist/<function>.zip
    python scripts/build_lambda_zip.py --function mysql_user --output dist/mysql_user.zip
    python scripts/build_lambda_zip.py --output X.zip   # the role lookup (the original contract)
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
CUSTOM_RESOURCES = ROOT / "custom_resources"
SHARED_PACKAGE = "cfn_one_shot"  # the crhelper base every function ships at its zip's root
FUNCTIONS = ("lambda_role_lookup", "mysql_user")
DEFAULT_FUNCTION = "lambda_role_lookup"
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
FILE_PERMISSIONS = 0o100644 << 16  # regular file, rw-r--r--, in the Unix bits of external_attr
# mysql_user ships the Amazon RDS CA bundle (~60 KB compressed; certificates hardly compress).
SIZE_TARGETS = {"lambda_role_lookup": 64 * 1024, "mysql_user": 192 * 1024}
NOT_SHIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi")
NOT_SHIPPED_NAMES = {"requirements.txt", "py.typed", ".DS_Store"}
LICENSE_PREFIXES = ("LICENSE", "LICENCE", "NOTICE", "COPYING")


class BuildError(Exception):
    """A failure the user can fix; the message says how."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--function", choices=FUNCTIONS, help="one function (default: all)")
    parser.add_argument("--output", type=Path, help="the zip to write (with one function)")
    parser.add_argument(
        "--dist", type=Path, default=ROOT / "dist", help="where <function>.zip go without --output"
    )
    args = parser.parse_args(argv)
    if args.output is not None:
        targets = {args.function or DEFAULT_FUNCTION: args.output}
    else:
        chosen = (args.function,) if args.function else FUNCTIONS
        targets = {name: args.dist / f"{name}.zip" for name in chosen}
    try:
        for function, output in targets.items():
            build(function, output)
    except BuildError as error:
        print(f"build_lambda_zip: {error}", file=sys.stderr)
        return 1
    return 0


def build(function: str, output: Path) -> None:
    function_dir = CUSTOM_RESOURCES / function
    with tempfile.TemporaryDirectory(prefix="lambda-vendor-") as vendor_dir:
        vendor(function_dir / "requirements.txt", Path(vendor_dir))
        entries = dict(shipped_files(Path(vendor_dir), vendored=True))
        own = {
            **shipped_files(function_dir, vendored=False),
            **{
                f"{SHARED_PACKAGE}/{name}": path
                for name, path in shipped_files(
                    CUSTOM_RESOURCES / SHARED_PACKAGE, vendored=False
                ).items()
            },
        }
        for arcname, path in own.items():
            if arcname in entries:
                raise BuildError(
                    f"{arcname} is both custom_resources/{path.relative_to(CUSTOM_RESOURCES)} and "
                    f"a file of a dependency in custom_resources/{function}/requirements.txt, and "
                    "Lambda would import whichever the zip lists first: rename that module, or "
                    "drop the dependency."
                )
            entries[arcname] = path
        write_zip(entries, output)
    data = output.read_bytes()
    print(
        f"{output}: {len(data)} bytes, {len(entries)} files, "
        f"sha256 {hashlib.sha256(data).hexdigest()}"
    )
    if len(data) > SIZE_TARGETS[function]:
        print(
            f"warning: larger than the {SIZE_TARGETS[function] // 1024} KB target", file=sys.stderr
        )


def pinned_requirements(requirements: Path) -> list[tuple[str, str]]:
    pins = []
    for raw_line in requirements.read_text().splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        if ";" in line:
            raise BuildError(
                f"{requirements}: environment markers are not supported, as pip would judge them "
                f"by the Python running the build, not Lambda's runtime; pin without one: {line}"
            )
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
    if not pins:
        return  # pip would only start to say there is nothing to install
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
    installed = {path.name.lower() for path in target.glob("*.dist-info")}
    for name, version in pins:
        normalized = name.replace("-", "_").lower()  # wheel metadata names are normalised
        if f"{normalized}-{version}.dist-info" not in installed:
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


def current_umask() -> int:
    mask = os.umask(0o022)  # reading the mask means setting it: put it straight back
    os.umask(mask)
    return mask


def write_zip(entries: dict[str, Path], output: Path) -> None:
    """Writes the zip beside `output` under a name of its own, then moves it into place: two
    builds at once (make -j, parallel test workers) each complete, never one half-written zip."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial")
    partial = Path(name)
    try:
        with os.fdopen(handle, "wb") as file, zipfile.ZipFile(file, "w") as archive:
            for arcname in sorted(entries):
                info = zipfile.ZipInfo(arcname, date_time=FIXED_TIMESTAMP)
                info.create_system = 3  # Unix, so external_attr's permission bits are honoured
                info.external_attr = FILE_PERMISSIONS
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, entries[arcname].read_bytes(), compresslevel=9)
        partial.chmod(0o666 & ~current_umask())  # mkstemp makes it 0600; as any new file instead
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
