#!/usr/bin/env bash
# Installs the package with pip into a fresh virtual environment (system site packages, so
# setuptools comes from Debian) and uses it from outside the source tree.
#   pip_install.sh SOURCE_DIR WORK_DIR
set -euo pipefail
source_dir=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
# A copy of the sources, so the build leaves nothing in the checkout.
(cd "$source_dir" && tar cf - --exclude=./build --exclude=./.git .) | (mkdir -p "$work/src" && cd "$work/src" && tar xf -)
"$work/venv/bin/python" -m pip install --no-build-isolation --no-index --quiet "$work/src"
cd "$work"
"$work/venv/bin/python" - <<'PY'
import os, atomicwrites
assert atomicwrites.__file__.startswith(os.path.realpath("venv")) or "venv" in atomicwrites.__file__, atomicwrites.__file__
with atomicwrites.atomic_write("installed.txt") as f:
    f.write("pip-installed atomicwrites " + atomicwrites.__version__)
print(open("installed.txt").read())
PY
rm -rf "$work"
