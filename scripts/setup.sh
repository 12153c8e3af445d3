#!/usr/bin/env bash
# Set up keras_genmodels on a fresh Debian/Ubuntu machine: the Fashion-MNIST files
# (Debian package dataset-fashion-mnist, so nothing is downloaded at run time),
# then the package with the CPU build of TensorFlow and the test tools.
# Use `pip install -e ".[gpu,test]"` instead on a machine with an NVIDIA GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi
python3 -m pip install -q --upgrade pip
python3 -m pip install -q -e ".[cpu,test,bench]"
python3 -m ipykernel install --sys-prefix >/dev/null
