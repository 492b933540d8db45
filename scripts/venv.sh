#!/usr/bin/env bash
# Creates or refreshes one virtualenv from a pinned requirements file with uv (make's install step).
#
#   scripts/venv.sh VENV REQUIREMENTS "WHAT IT HOLDS" "HOW BIG"
#   scripts/venv.sh --uv ARGS...     runs uv with the package sources below (make lock)
#
# Environment: PYTHON (interpreter for a new venv, default python3), PYTHON_EXPLICIT=1 when the
# user chose PYTHON (a venv built with another Python version is then rebuilt with it), UV (a uv
# of the user's own; by default the uv pinned in requirements/uv.txt, installed into .uv/ with
# PYTHON's pip the first time).
#
# The stamp VENV/.installed records the venv's Python version and the requirements' checksum
# (with pyproject.toml's when they install the project itself, `-e .`), and is written only after
# uv succeeds. A venv is rebuilt when its interpreter is gone, broken or older than MIN_PYTHON; it
# is synced in place (`uv pip sync`: exactly the pinned packages) when the stamp is missing or
# stale, which also completes an interrupted install. uv gets pip's package sources
# (scripts/uv_sources.py): the same indexes and wheel folders wherever pip is configured.
set -euo pipefail

MIN_PYTHON=3.11
python=${PYTHON:-python3}
scripts=$(cd "$(dirname "$0")" && pwd)
uv_pin=$(grep -E '^uv==' "$scripts/../requirements/uv.txt")
uv_home=.uv
export UV_PYTHON_DOWNLOADS=never # a venv uses the Python named here, never one uv downloads

version_of() { # the X.Y.Z of an interpreter, or nothing when it does not run
  "$1" -I -S -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true
}

at_least_minimum() { # is version $1 >= MIN_PYTHON?
  [ "$(printf '%s\n%s\n' "$MIN_PYTHON" "${1%.*}" | sort -V | head -n1)" = "$MIN_PYTHON" ]
}

python_problem() { # prints why $python cannot build a venv; nothing when it can
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
  fi
}

explain_python_and_exit() {
  cat >&2 <<MSG
make: $1
Install Python $MIN_PYTHON or newer, then run make again naming it, for example:
  Debian/Ubuntu:  sudo apt-get install python3.11                    then   make PYTHON=python3.11
  Fedora/RHEL:    sudo dnf install python3.12                        then   make PYTHON=python3.12
  macOS:          brew install python@3.12                           then   make PYTHON=python3.12
  pyenv:          pyenv install 3.12 && pyenv local 3.12             then   make
Nothing was installed.
MSG
  exit 1
}

check_python() {
  local problem
  problem=$(python_problem)
  [ -z "$problem" ] || explain_python_and_exit "$problem"
}

uv_binary() { # the uv to run: $UV, or the pinned one in .uv/ (installed with pip when missing)
  if [ -n "${UV:-}" ]; then
    command -v "$UV" >/dev/null || {
      echo "make: UV=$UV was not found; name a uv binary, or leave UV unset to use the pinned one." >&2
      exit 1
    }
    echo "$UV"
    return
  fi
  local version=${uv_pin#uv==}
  if [ ! -x "$uv_home/bin/uv" ] || [ ! -d "$uv_home/uv-$version.dist-info" ]; then
    check_python
    install_uv >&2
  fi
  echo "$uv_home/bin/uv"
}

install_uv() { # pip installs the uv wheel into a new folder, moved into place when complete
  if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "make: '$python' has no pip to install uv with. Install uv (pipx install uv, brew install uv," \
      "or sudo apt-get install python3-pip for pip), then run make again (with UV=uv for your own uv)." >&2
    exit 1
  fi
  echo "Installing $uv_pin into $uv_home with pip (once; uv builds the virtualenvs)..."
  local scratch
  scratch=$(mktemp -d "${uv_home}.XXXXXX")
  if ! "$python" -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore --target "$scratch" "$uv_pin"; then
    rm -rf "$scratch"
    echo "make: pip could not install $uv_pin (see pip's message above); fix the cause (network," \
      "proxy, PIP_INDEX_URL) and run make again, or install uv yourself and run make UV=uv." >&2
    exit 1
  fi
  if ! "$scratch/bin/uv" --version >/dev/null; then
    rm -rf "$scratch"
    echo "make: the $uv_pin that pip installed does not run here (see above); install uv" \
      "yourself (pipx install uv, brew install uv) and run make UV=uv." >&2
    exit 1
  fi
  rm -rf "$uv_home"
  mv "$scratch" "$uv_home"
}

sources_read=""
run_uv() { # uv with pip's package sources (those the user set for uv stay as they are)
  local uv name value
  uv=$(uv_binary)
  if [ -z "$sources_read" ]; then
    while IFS='=' read -r name value; do
      export "$name=$value"
    done < <("$(command -v "$python" || echo python3)" "$scripts/uv_sources.py" "$python" 2>/dev/null || true)
    sources_read=1
  fi
  "$uv" "$@"
}

if [ "${1:-}" = --uv ]; then
  shift
  run_uv "$@"
  exit
fi

venv=$1 requirements=$2 what=$3 size=$4
stamp="$venv/.installed"

checksum() {
  local inputs=("$requirements")
  if grep -qE '^-e ' "$requirements"; then inputs+=(pyproject.toml); fi
  cat "${inputs[@]}" | sha256sum | cut -d' ' -f1
}

sync_options=(--compile-bytecode) # in the stamp: a venv synced without them is synced again
expected_stamp() { printf 'python %s\nrequirements %s\nuv pip sync %s\n' "$1" "$(checksum)" "${sync_options[*]}"; }

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
  exit 0 # up to date: say nothing, start nothing, and leave the stamp's time alone
fi

if [ -z "$venv_version" ]; then
  check_python
  found=$(command -v "$python")
  # The interpreter itself, not a shim (pyenv) or a venv's python that can move or vanish.
  interpreter=$("$found" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')
  echo "Creating $venv with Python $(version_of "$found"): $what ($size)..."
  run_uv venv --quiet --python "$interpreter" "$venv"
  venv_version=$(version_of "$venv/bin/python")
else
  echo "Updating $venv (Python $venv_version) to $requirements: $what..."
fi

rm -f "$stamp"
echo "Installing exactly the pins of $requirements into $venv with uv..."
# Compiled now, as pip does: where PYTHONDONTWRITEBYTECODE is set nothing else writes the .pyc
# files, and every process would compile its imports (moto, boto3, cfn-lint) again.
if ! run_uv pip sync "${sync_options[@]}" --python "$venv/bin/python" "$requirements"; then
  echo "make: uv could not install $requirements into $venv (see uv's message above);" \
    "fix the cause (network, disk space, proxy) and run make again: it picks up from there." >&2
  exit 1
fi
expected_stamp "$venv_version" >"$stamp"
echo "$venv is ready ($(du -sh "$venv/" | cut -f1))."
