"""Helper process of tests/test_datasets.py (not a test module).

Several processes preparing one TFDS data folder at once, or one process
killed while preparing, can only be checked with separate interpreters:

    python tests/datasets_worker.py load NAME LOCAL_DIR DATA_DIR OUT.npz

imports everything, prints "ready", waits for a line on stdin (so that the
test can start several workers' preparation together), seeds Python's
`random` with 0 (as `keras.utils.set_random_seed` does in the command line),
calls `keras_genmodels.datasets.load(NAME, "test", ...)` and writes what it
read to OUT.npz: `images` (uint8 pixels, in the order read) and `labels`.

    python tests/datasets_worker.py crash NAME LOCAL_DIR DATA_DIR

starts preparing NAME and kills itself with SIGKILL half-way through writing
the examples, leaving on disk whatever a crash leaves.
"""

import os
import random
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from keras_genmodels import datasets  # noqa: E402
from keras_genmodels.datasets import tfds_builders  # noqa: E402


def _load(name, local_dir, data_dir, out):
    print("ready", flush=True)
    sys.stdin.readline()
    random.seed(0)
    ds = datasets.load(name, "test", local_dir=local_dir, data_dir=data_dir,
                       download=False, batch_size=1000, with_labels=True)
    batches = list(ds.as_numpy_iterator())
    images = np.concatenate([x for x, _ in batches])
    np.savez(
        out,
        images=np.rint(images * 255).astype(np.uint8),
        labels=np.concatenate([y for _, y in batches]),
    )


def _crash(name, local_dir, data_dir):
    builder_cls = tfds_builders._LOCAL_BUILDERS[name]
    generate = builder_cls._generate_examples

    def generate_then_die(self, images, labels):
        for index, example in enumerate(generate(self, images, labels)):
            if index == len(images) // 2:
                os.kill(os.getpid(), signal.SIGKILL)
            yield example

    builder_cls._generate_examples = generate_then_die
    random.seed(0)
    datasets.load(name, "test", local_dir=local_dir, data_dir=data_dir, download=False)
    raise AssertionError("the process should have been killed while preparing")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"load": _load, "crash": _crash}[command](*args)
