#!/usr/bin/env bash
# Creates or refreshes one virtualenv from a pinned requirements file (the Makefile's install step).
#
#   scripts/venv.sh VENV REQUIREMENTS "WHAT IT HOLDS" "ABOUT HOW LONG, HOW BIG" [PROJECT]
#
# With PROJECT (a folder holding pyproject.toml), the project is also installed in editable mode
# (the rule pack `cfn_lint_rotation`, which cfn-lint loads by module name), again when its
# pyproject.toml changes.
#
# Environment: PYTHON (interpreter for a new venv, default python3), PYTHON_EXPLICIT=1 when the
# user chose PYTHON (a venv built with another Python version is then rebuilt with it).
#
# The stamp VENV/.installed records the venv's Python version and the checksums of the
# requirements and of PROJECT's pyproject.toml, and is written only after pip succeeds. A venv is
# rebuilt when its interpreter is gone, broken or older than MIN_PYTHON (for example a venv left by
# an interrupted or old-Python install); it is refreshed in place (pip install -r) when only the
# requirements or pyproject.toml changed.
set -euo pipefail

MIN_PYTHON=3.11
venv=$1 requirements=$2 what=$3 cost=$4 project=${5:-}
python=${PYTHON:-python3}
stamp="$venv/.installed"

version_of() { # the X.Y.Z of an interpreter, or nothing when it does not run
  "$1" -I -S -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true
}

at_least_minimum() { # is version $1 >= MIN_PYTHON?
  [ "$(printf '%s\n%s\n' "$MIN_PYTHON" "${1%.*}" | sort -V | head -n1)" = "$MIN_PYTHON" ]
}

checksum() { sha256sum "$requirements" | cut -d' ' -f1; }

project_checksum() { [ -z "$project" ] || sha256sum "$project/pyproject.toml" | cut -d' ' -f1; }

expected_stamp() {
  printf 'python %s\nrequirements %s\nproject %s\n' "$1" "$(checksum)" "$(project_checksum)"
}

python_problem() { # prints why $python cannot build the venv; nothing when it can
  local found version
  if ! found=$(command -v "$python"); then
    echo "'$python' was not found."
    return
  fi
  version=$(version_of "$found")
  if [ -z "$version" ]; then
    echo "'$python' ($found) does not run."
  elif ! at_least_minimum "$version"; then
    echo "'$python' ($found) is Python $version; the tools need Python $MIN_PYTHON or newer."
  elif ! "$found" -c 'import ensurepip, venv' 2>/dev/null; then
    echo "'$python' ($found) is Python $version but lacks the venv module (ensurepip)."
  fi
}

explain_python_and_exit() {
  cat >&2 <<MSG
make: $1
Install Python $MIN_PYTHON or newer, then run make again naming it, for example:
  Debian/Ubuntu:  sudo apt-get install python3.11 python3.11-venv   then   make PYTHON=python3.11
  Fedora/RHEL:    sudo dnf install python3.12                        then   make PYTHON=python3.12
  macOS:          brew install python@3.12                           then   make PYTHON=python3.12
  pyenv:          pyenv install 3.12 && pyenv local 3.12             then   make
Nothing was installed.
MSG
  exit 1
}

remove_venv() {
  if [ -L "$venv" ]; then
    echo "make: $venv is a symbolic link to $(readlink "$venv") and $1;" \
      "rebuild it where it points (or remove the link), then run make again." >&2
    exit 1
  fi
  echo "Removing $venv: $1."
  rm -rf "$venv"
}

# The venv in place: keep it when it works with a recent enough Python, else rebuild it.
venv_version=""
if [ -e "$venv" ]; then
  venv_version=$(version_of "$venv/bin/python")
  if [ -z "$venv_version" ]; then
    remove_venv "its Python does not run (an interrupted install?)"
  elif ! at_least_minimum "$venv_version"; then
    remove_venv "it was built with Python $venv_version, older than $MIN_PYTHON"
    venv_version=""
  elif [ "${PYTHON_EXPLICIT:-}" = 1 ]; then
    wanted=$(version_of "$(command -v "$python" || echo "$python")")
    if [ -n "$wanted" ] && [ "$wanted" != "$venv_version" ]; then
      remove_venv "it was built with Python $venv_version and PYTHON=$python is Python $wanted"
      venv_version=""
    fi
  fi
fi

if [ -n "$venv_version" ] && [ -f "$stamp" ] &&
  [ "$(cat "$stamp")" = "$(expected_stamp "$venv_version")" ]; then
  exit 0 # up to date: say nothing and leave the stamp's time alone
fi

# The stamp is written only after pip succeeded, so pip is checked only here, on the way to an
# update: starting it costs ~0.4 s, which every make command would otherwise pay.
if [ -n "$venv_version" ] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  remove_venv "its pip does not run (an interrupted install?)"
  venv_version=""
fi

if [ -z "$venv_version" ]; then
  problem=$(python_problem)
  [ -z "$problem" ] || explain_python_and_exit "$problem"
  version=$(version_of "$(command -v "$python")")
  echo "Creating $venv with Python $version: $what ($cost)..."
  "$python" -m venv "$venv"
  venv_version=$(version_of "$venv/bin/python")
else
  echo "Updating $venv (Python $venv_version) to $requirements: $what..."
fi

rm -f "$stamp"
echo "Installing the pinned packages of $requirements into $venv (pip prints each one)..."
# pip prints a line per package it downloads or installs; the ones already there are left out.
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
  --no-input -r "$requirements" | sed -u '/^Requirement already satisfied/d'; then
  echo "make: pip could not install $requirements into $venv (see pip's message above);" \
    "fix the cause (network, disk space, proxy) and run make again: it picks up from there." >&2
  exit 1
fi
if [ -n "$project" ]; then
  echo "Installing $project into $venv in editable mode (the rule pack cfn_lint_rotation)..."
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
    --no-deps --editable "$project"; then
    echo "make: pip could not install $project into $venv in editable mode (see pip's message" \
      "above); fix the cause and run make again: it picks up from there." >&2
    exit 1
  fi
fi
expected_stamp "$venv_version" >"$stamp"
echo "$venv is ready ($(du -sh "$venv/" | cut -f1))."
