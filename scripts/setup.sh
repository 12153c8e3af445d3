#!/usr/bin/env bash
# Set up keras_genmodels on a fresh Debian/Ubuntu machine, in the virtual environment .venv/ of
# this folder (Debian's own Python refuses `pip install` outside one: "externally-managed-environment"):
#
#   1. Debian's packages: dataset-fashion-mnist (the Fashion-MNIST files, so nothing is downloaded
#      at run time) and python3-venv (to create the environment), if missing;
#   2. .venv/ (or $KERAS_GENMODELS_VENV), created once and reused;
#   3. the package with the CPU build of TensorFlow and the test tools, into it.
#
# Then run `.venv/bin/keras-genmodels ...` and `.venv/bin/python -m pytest`, or `source .venv/bin/activate`
# first. Use `.venv/bin/python -m pip install -e ".[gpu,test]"` instead on a machine with an NVIDIA GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
VENV="${KERAS_GENMODELS_VENV:-.venv}"

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup.sh: keras_genmodels needs Python >= 3.10. Received: $(python3 --version 2>&1)" >&2
  exit 1
fi

apt_install() {
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || apt_install dataset-fashion-mnist

if [ ! -x "$VENV/bin/python" ]; then
  rm -rf "$VENV"  # a half-made one from an interrupted run
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    # Debian ships venv's pip bootstrap (ensurepip) in a package of its own.
    rm -rf "$VENV"
    apt_install python3-venv "python3.$(python3 -c 'import sys; print(sys.version_info[1])')-venv"
    python3 -m venv "$VENV"
  fi
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[cpu,test,bench]"
"$VENV/bin/python" -m ipykernel install --sys-prefix >/dev/null
echo "setup.sh: keras_genmodels is installed in $VENV ($("$VENV/bin/python" --version))."
