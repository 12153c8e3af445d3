"""Epoch times of `fit` on NumPy images: Keras's own pipeline against the models' own.

    python bench/experiments/numpy_fit_stall.py                  # ~4 minutes; use a quiet machine
    python bench/experiments/numpy_fit_stall.py --datasets       # ~8 minutes
    python bench/experiments/numpy_fit_stall.py --images 1000 --epochs 3 --repeats 1   # smoke run

The keras.io convolutional VAE (latent 2, batch 128, Adam 1e-3) trains on the
first `--images` Fashion-MNIST training images (grey levels, NumPy) in one
process, in two ways, from the same initial weights:

- "Keras pipeline": `keras.Model.fit` itself (the array adapter, tf.data
  autotuning on), as a plain `keras.Model` subclass such as the keras.io
  example gets it;
- "ours": `VAE.fit`, which batches NumPy input itself without tf.data's
  autotuning (`keras_genmodels._arrays`);

and, with `--datasets`, the same images from `datasets.load` (TFDS, local
IDX files; its pipeline has autotuning off) as it is, and with autotuning
turned back on ("datasets.load, autotune on").

Each model trains in one `fit` of `--epochs` epochs (the stall appears
between the epochs of one `fit`, not between separate one-epoch `fit` calls),
the two in turn, `--repeats` times (Keras, ours, Keras, ours, ...) so that the
machine's drift shows. Printed per epoch: its wall time and the idle time
before its first batch; then, per pipeline, the median over all epochs after
the first of each `fit`, and the ratio of the medians.
"""

import argparse
import os
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from keras_genmodels import datasets
from keras_genmodels.vae import VAE


class _Timer(keras.callbacks.Callback):
    """(wall seconds, idle seconds before the first batch) of every epoch."""

    def on_train_begin(self, logs=None):
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
        self.idle = None

    def on_train_batch_begin(self, batch, logs=None):
        if self.idle is None:
            self.idle = time.perf_counter() - self.start

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((time.perf_counter() - self.start, self.idle))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--datasets", action="store_true",
                        help="also datasets.load with autotuning on and off")
    args = parser.parse_args()

    x, _ = datasets.load_arrays("fashion_mnist", "train")
    x = x[: args.images].astype("float32") / 255.0
    fits = {
        "Keras pipeline": lambda m, **kw: keras.Model.fit(m, x, **kw),
        "ours": lambda m, **kw: m.fit(x, **kw),
    }
    if args.datasets:
        def load(autotune):
            ds = datasets.load("fashion_mnist", "train", batch_size=args.batch_size,
                               limit=args.images, seed=0)
            if autotune:
                options = tf.data.Options()
                options.autotune.enabled = True
                ds = ds.with_options(options)
            return ds

        fits["datasets.load, autotune on"] = lambda m, batch_size, **kw: m.fit(load(True), **kw)
        fits["datasets.load"] = lambda m, batch_size, **kw: m.fit(load(False), **kw)
    print(f"fit on {len(x)} NumPy images, batch {args.batch_size}, conv VAE; "
          f"NumPy 1000^3 matmul gauge: {_gauge():.0f} GFLOP/s", flush=True)
    rows = {name: [] for name in fits}
    for repeat in range(args.repeats):
        for name, fit in fits.items():
            keras.utils.set_random_seed(0)
            model = VAE(latent_dim=2, seed=0)
            model.compile(keras.optimizers.Adam(1e-3))
            timer = _Timer()
            fit(model, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
                callbacks=[timer])
            print(f"{name}, run {repeat + 1}: " + ", ".join(
                f"{s:.1f} s (idle {i:.1f})" for s, i in timer.epochs), flush=True)
            rows[name] += timer.epochs[1:]
    medians = {name: statistics.median(s for s, _ in r) for name, r in rows.items()}
    for name, median in medians.items():
        idle = statistics.median(i for _, i in rows[name])
        print(f"{name:27s} median epoch after the first {median:6.2f} s "
              f"(median idle before its first batch {idle:.2f} s)")
    print(f"speed ours / Keras pipeline: {medians['Keras pipeline'] / medians['ours']:.2f}x")
    if args.datasets:
        ratio = medians["datasets.load, autotune on"] / medians["datasets.load"]
        print(f"speed datasets.load / the same with autotuning: {ratio:.2f}x")
    print(f"NumPy gauge after: {_gauge():.0f} GFLOP/s")


def _gauge():
    a = np.random.default_rng(0).random((1000, 1000), dtype="float32")
    best = min(_timed(lambda: a @ a) for _ in range(5))
    return 2e9 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
