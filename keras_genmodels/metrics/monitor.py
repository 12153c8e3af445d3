"""`SampleMonitor`: samples of any model during `fit`, scored and drawn every few epochs.

keras-io writes a monitor per example (the DCGAN's `GANMonitor` saves a few
generated images at each epoch's end, the diffusion examples plot theirs);
this is that callback written once, for every model with
`sample(n, seed=...)`: it logs FD, KD, precision and recall of a small
sample (`image_quality`) into the epoch's logs, so that they reach the
`History` (and the command line's `history.json`), and writes a grid of
samples per epoch as a PNG file and, with a log folder, as a TensorBoard
image.
"""

import math
import os
import time

import keras
import numpy as np

from keras_genmodels import _validation as v

# The logged scores: log name -> key of `image_quality`'s result.
LOGGED = {
    "sample_fd": "fd",
    "sample_kd": "kd_mean",
    "sample_kd_std": "kd_std",
    "sample_precision": "precision",
    "sample_recall": "recall",
}


def grid_images(values, image_shape=None):
    """Samples as (n, height, width) images for a grid, or `None` if they are not images.

    (n, h, w) and (n, h, w, 1) arrays are images; (n, d) rows are
    `image_shape` images, or square ones when d is a square number.
    """
    values = np.asarray(values)
    if image_shape is not None:
        return values.reshape((values.shape[0],) + tuple(image_shape))
    if values.ndim == 4 and values.shape[-1] == 1:
        return values[..., 0]
    if values.ndim == 3:
        return values
    if values.ndim == 2:
        side = math.isqrt(values.shape[1])
        if side * side == values.shape[1]:
            return values.reshape(values.shape[0], side, side)
    return None


def _summary_metadata(plugin):
    from tensorflow.core.framework import summary_pb2

    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))


def write_summary_image(tag, image, step):
    """A grey-level image (h, w) in [0, 1] as a TensorBoard image summary of the default writer.

    Written with TensorFlow's own `tf.summary.write` in the format of
    TensorBoard's image plugin (the tensor [width, height, PNG bytes]), so that
    the `tensorboard` package is needed only to view it, not to write it
    (`tf.summary.image` needs it installed).
    """
    import tensorflow as tf

    pixels = np.round(np.asarray(image, dtype=np.float64) * 255.0).astype(np.uint8)[:, :, None]
    png = tf.image.encode_png(pixels)
    tensor = tf.stack([tf.as_string(pixels.shape[1]), tf.as_string(pixels.shape[0]), png])
    return tf.summary.write(tag, tensor, step=step, metadata=_summary_metadata("images"))


def write_summary_scalar(tag, value, step):
    """A float as a TensorBoard scalar summary of the default writer (no `tensorboard` package needed)."""
    import tensorflow as tf

    return tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step,
                            metadata=_summary_metadata("scalars"))


class SampleMonitor(keras.callbacks.Callback):
    """Every `every` epochs: draw samples, score them, and save a grid of them.

    At the end of each epoch e with e % `every` == 0 (e counted from 1):

    1. x_1..x_n = `model.sample(n_samples, seed=seed)`, the same seed each
       time (like GANMonitor's fixed latent vectors: the grids of successive
       epochs show the same draws as the model learns);
    2. with a `reference`, the scores of `image_quality(x, reference,
       n=n_samples, **quality_kwargs)` (FD, KD, precision, recall in the
       feature network's features) are added to the epoch's logs as
       `sample_fd`, `sample_kd`, `sample_kd_std`, `sample_precision`,
       `sample_recall`: the `History` of `fit` gets them (one value per
       scored epoch: with `every` > 1 the lists are shorter than the
       loss's), and so does the command line's `history.json`;
    3. the first `n_grid` samples are written as a PNG grid
       `out_dir/samples_epoch_<e>.png`, and, with a `log_dir`, as the
       TensorBoard image `samples` (and the scores as scalars) in
       `log_dir/samples`.

    Scores on a small sample are noisy and biased upwards (FD and KD by
    O(1/n)): they follow training, and compare epochs with each other at the
    same `n_samples`; `image_quality` on 10,000 samples gives the figures to
    report. Scoring needs 28 x 28 grey-level images in [0, 1]; other samples
    (e.g. Ising configurations) get grids only (`reference=None`).

    Args:
        out_dir: folder of the PNG grids, or `None` for none. Defaults to `None`.
        every: score and draw every `every` epochs. Defaults to `1`.
        n_samples: samples drawn (and scored) each time, >= 20. Defaults to `1000`.
        n_grid: samples in the grid (the first ones). Defaults to `64`.
        reference: `image_quality`'s reference ("fashion_mnist:test", ... or
            an array of images; its features are computed once), or `None`
            to draw grids without scores. Defaults to "fashion_mnist:test".
        seed: the seed of the samples. Defaults to `0`.
        log_dir: TensorBoard folder, or `None`. Defaults to `None`.
        image_shape: `(height, width)` of a sample for the grid, or `None` to
            take it from the samples' shape (square rows too). Defaults to `None`.
        sample_kwargs: more arguments of `model.sample` (e.g. `{"steps": 200}`
            for an RBM's Gibbs chain). Defaults to `None`.
        quality_kwargs: more arguments of `image_quality` (`kd_subsets`,
            `local_dir`, `network`, ...). Defaults to `{"kd_subsets": 20}`.

    Attributes:
        scores: `[{"epoch": e, **image_quality(...)}]`, one per scored epoch.
        paths: the PNG files written.

    Example:
    ```python
    monitor = SampleMonitor(out_dir="runs/vae/samples", every=2, n_samples=500, log_dir="runs/vae/logs")
    history = vae.fit(x, epochs=10, callbacks=[monitor])
    history.history["sample_fd"]   # 5 values: epochs 2, 4, ..., 10
    ```
    """

    def __init__(self, out_dir=None, every=1, n_samples=1000, n_grid=64, reference="fashion_mnist:test",
                 seed=0, log_dir=None, image_shape=None, sample_kwargs=None, quality_kwargs=None):
        super().__init__()
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.every = v.check_positive_int("every", every)
        self.n_samples = v.check_positive_int("n_samples", n_samples)
        if self.n_samples < 20 and reference is not None:
            raise ValueError(f"`n_samples` must be >= 20 to score samples. Received: n_samples={n_samples}")
        self.n_grid = v.check_positive_int("n_grid", n_grid)
        self.seed = v.check_seed("seed", seed, allow_none=False)
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        if image_shape is not None:
            image_shape = tuple(v.check_positive_int("image_shape[i]", d) for d in image_shape)
        self.image_shape = image_shape
        self.sample_kwargs = dict(sample_kwargs or {})
        self.quality_kwargs = {"kd_subsets": 20, **(quality_kwargs or {})}
        self.reference = reference
        if isinstance(reference, str):
            from keras_genmodels.metrics.images import parse_reference

            parse_reference(reference)
        elif reference is not None:
            from keras_genmodels.metrics.images import check_images

            self.reference = check_images("reference", reference)
        self.scores = []
        self.paths = []
        self._writer = None

    def draw(self):
        """`model.sample(n_samples, seed=seed, **sample_kwargs)` as a NumPy array."""
        return np.asarray(self.model.sample(self.n_samples, seed=self.seed, **self.sample_kwargs))

    def score(self, samples):
        """`image_quality` of `samples` against the reference (`None` without one)."""
        if self.reference is None:
            return None
        from keras_genmodels.metrics.images import image_quality

        return image_quality(samples, self.reference, n=self.n_samples, **{"seed": 0, **self.quality_kwargs})

    def on_train_begin(self, logs=None):
        if not callable(getattr(self.model, "sample", None)):
            raise ValueError(  # noqa: TRY004  (the package raises ValueError for every bad argument)
                f"SampleMonitor needs a model with sample(n, seed=...). Received a {type(self.model).__name__}."
            )
        if self.reference is not None:
            from keras_genmodels.metrics.images import check_images

            probe = np.asarray(self.model.sample(2, seed=self.seed, **self.sample_kwargs))
            try:
                check_images("samples", probe)
            except ValueError as e:
                raise ValueError(
                    f"SampleMonitor scores 28 x 28 grey-level images in [0, 1] ({e}); pass "
                    "reference=None to draw grids without scores."
                ) from None
        if self.log_dir is not None and self._writer is None:
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "samples"))

    def on_epoch_end(self, epoch, logs=None):
        e = epoch + 1
        if e % self.every:
            return
        start = time.perf_counter()
        samples = self.draw()
        quality = self.score(samples)
        if quality is not None:
            self.scores.append({"epoch": e, **quality})
            if logs is not None:
                logs.update({name: float(quality[key]) for name, key in LOGGED.items()
                             if quality[key] is not None})
        images = grid_images(samples[: self.n_grid], self.image_shape)
        if images is not None:
            self._write_grid(e, images, quality)
        if quality is not None:
            self.scores[-1]["monitor_seconds"] = time.perf_counter() - start

    def _write_grid(self, e, images, quality):
        from keras_genmodels import plotting

        title = f"epoch {e}"
        if quality is not None:
            title += f": FD {quality['fd']:.3g}, KD {quality['kd_mean']:.3g} (n={quality['n_samples']})"
        if self.out_dir is not None:
            path = os.path.join(self.out_dir, f"samples_epoch_{e:04d}.png")
            self.paths.append(plotting.image_grid(np.clip(images, 0.0, 1.0), path, title=title))
        if self._writer is not None:
            canvas = np.clip(plotting.tile_images(images), 0.0, 1.0)
            with self._writer.as_default():
                write_summary_image("samples", canvas, e)
                for name, key in LOGGED.items():
                    if quality is not None and quality[key] is not None:
                        write_summary_scalar(name, quality[key], e)
            self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
