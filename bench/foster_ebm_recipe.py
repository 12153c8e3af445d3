"""The reference: Foster's energy-based model recipe, rebuilt as he runs it.

From *Generative Deep Learning*, 2nd ed., ch. 7 (notebook
`notebooks/07_ebm/01_ebm/ebm.ipynb` of davidADSP/Generative_Deep_Learning_2nd_Edition,
itself adapted from Phillip Lippe's UvA deep energy-based models tutorial),
rewritten here in our own words. It exists only as the baseline of
`bench/foster_ebm.py`; the library's own model is
`keras_genmodels.ebm.EnergyBasedModel`.

What the recipe does, and what this copy keeps:

- data: grey levels p in 0..255 scaled to (p − 127.5) / 127.5 in [−1, 1],
  padded with −1 to 32 x 32 x 1 (`preprocess`), batches of 128 from a
  `tf.data` pipeline without shuffling (Keras ignores `fit(shuffle=True)` for
  a dataset). His notebook loads the MNIST digits; the benchmark feeds
  Fashion-MNIST to both sides.
- the network outputs a *score* s(x) = −E(x) (higher for data); the network
  is the library's `conv_energy_network` (four stride-2 swish convolutions,
  Dense 64, Dense 1), which is his, layer for layer.
- Langevin chains (`langevin_ascent`), per step: x += N(0, noise²); clip to
  [−1, 1]; g = ∂s/∂x by a `GradientTape`; g clipped to ±grad_clip;
  x += step_size · g; clip to [−1, 1]. Every step is eager (one tape, one
  network call, a few small ops).
- the replay buffer (`RecipeBuffer`) is a Python list of (1, 32, 32, 1)
  tensors, 128 uniform images at first; each training step draws
  n_new ~ Binomial(128, 0.05) fresh U(−1, 1) images and 128 − n_new old ones
  by `random.choices` (with replacement), runs the chains, prepends the
  128 results to the list and cuts it to `buffer_size`.
- `RecipeEBM.train_step`: the real images get N(0, noise²) noise and are
  clipped; the fakes come from the buffer; one network call on
  concat([real, fake]) is split in two equal halves, and

      cdiv = mean s(fake) − mean s(real),   reg = α mean(s(real)² + s(fake)²),

  loss = cdiv + reg, one Adam step. Compiled with `run_eagerly=True`, so the
  whole step, chains included, runs eagerly: that is what the benchmark
  measures, so it is kept, and so is the Python-list buffer.

His module-level parameters (STEP_SIZE=10, STEPS=60, NOISE=0.005, ALPHA=0.1,
GRADIENT_CLIP=0.03, BATCH_SIZE=128, BUFFER_SIZE=8192, LEARNING_RATE=1e-4)
are constructor arguments here, with his values as defaults; his randomness
(NumPy's and Python's global generators, TensorFlow's global seed) is kept,
seeded by `keras.utils.set_random_seed`.

A flaw of the recipe, avoided by the benchmark: the real batch is split
from the fakes by `tf.split(..., 2)` into equal halves, but the buffer
always returns `batch_size` fakes. On the last batch of an epoch (60,000 =
468 x 128 + 96 images) the concatenation holds 96 real and 128 fake images;
its first half (112 rows) then counts 16 fakes as real, and a remainder that
makes the sum odd would fail the split. The benchmark drops the remainder
(whole batches only) on both sides, so this never happens.
"""

import random

import keras
import numpy as np
import tensorflow as tf

from keras_genmodels.ebm.networks import conv_energy_network


def preprocess(images):
    """uint8 (N, 28, 28) or (N, 28, 28, 1) images -> float32 (N, 32, 32, 1): (p − 127.5) / 127.5, −1 padding."""
    x = (np.asarray(images).astype("float32") - 127.5) / 127.5
    x = x.reshape((-1, 28, 28))
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    return x[..., None]


def recipe_dataset(x, batch_size=128):
    """His pipeline: batches in file order, no shuffling; here whole batches only (see the module docstring)."""
    return tf.data.Dataset.from_tensor_slices(x).batch(batch_size, drop_remainder=True)


def langevin_ascent(network, x, steps, step_size, noise, grad_clip):
    """`steps` eager Langevin steps that climb the score s(x) = network(x); returns the final x.

    Per step: x ← clip(x + N(0, noise²)); g = clip(∂s/∂x, ±grad_clip);
    x ← clip(x + step_size · g), clips to [−1, 1].
    """
    for _ in range(steps):
        x = tf.clip_by_value(x + tf.random.normal(tf.shape(x), stddev=noise), -1.0, 1.0)
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = network(x)
        grad = tf.clip_by_value(tape.gradient(score, x), -grad_clip, grad_clip)
        x = tf.clip_by_value(x + step_size * grad, -1.0, 1.0)
    return x


class RecipeBuffer:
    """His replay buffer: a Python list of (1, 32, 32, 1) tensors, newest first."""

    def __init__(self, network, batch_size=128, buffer_size=8192, restart_probability=0.05,
                 image_shape=(32, 32, 1)):
        self.network = network
        self.batch_size = batch_size
        self.buffer_size = buffer_size
        self.restart_probability = restart_probability
        self.image_shape = tuple(image_shape)
        self.examples = [self._uniform(1) for _ in range(batch_size)]

    def _uniform(self, n):
        return tf.random.uniform((n,) + self.image_shape) * 2.0 - 1.0  # U(−1, 1)

    def sample_new_examples(self, steps, step_size, noise, grad_clip):
        """128 chain starts (fresh noise and old samples), run; the results go to the list's front."""
        n_new = np.random.binomial(self.batch_size, self.restart_probability)
        fresh = self._uniform(n_new)
        old = tf.concat(random.choices(self.examples, k=self.batch_size - n_new), axis=0)
        x = langevin_ascent(self.network, tf.concat([fresh, old], axis=0), steps, step_size, noise, grad_clip)
        self.examples = tf.split(x, self.batch_size, axis=0) + self.examples
        self.examples = self.examples[: self.buffer_size]
        return x


class RecipeEBM(keras.Model):
    """His `EBM` model: the score network, the list buffer and the eager training step."""

    def __init__(self, network, step_size=10.0, steps=60, noise=0.005, alpha=0.1, grad_clip=0.03,
                 batch_size=128, buffer_size=8192, restart_probability=0.05, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.step_size, self.steps, self.noise = step_size, steps, noise
        self.alpha, self.grad_clip = alpha, grad_clip
        self.buffer = RecipeBuffer(network, batch_size, buffer_size, restart_probability,
                                   image_shape=tuple(network.input_shape[1:]))
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reg_tracker = keras.metrics.Mean(name="reg")
        self.cdiv_tracker = keras.metrics.Mean(name="cdiv")
        self.real_tracker = keras.metrics.Mean(name="real")
        self.fake_tracker = keras.metrics.Mean(name="fake")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reg_tracker, self.cdiv_tracker, self.real_tracker, self.fake_tracker]

    def train_step(self, real):
        real = tf.clip_by_value(real + tf.random.normal(tf.shape(real), stddev=self.noise), -1.0, 1.0)
        fake = self.buffer.sample_new_examples(self.steps, self.step_size, self.noise, self.grad_clip)
        both = tf.concat([real, fake], axis=0)
        with tf.GradientTape() as tape:
            # Two equal halves: right only when the real batch has batch_size rows.
            s_real, s_fake = tf.split(self.network(both), 2, axis=0)
            cdiv = tf.reduce_mean(s_fake, axis=0) - tf.reduce_mean(s_real, axis=0)
            reg = self.alpha * tf.reduce_mean(s_real**2 + s_fake**2, axis=0)
            loss = cdiv + reg
        variables = self.network.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.loss_tracker.update_state(loss)
        self.reg_tracker.update_state(reg)
        self.cdiv_tracker.update_state(cdiv)
        self.real_tracker.update_state(tf.reduce_mean(s_real, axis=0))
        self.fake_tracker.update_state(tf.reduce_mean(s_fake, axis=0))
        return {m.name: m.result() for m in self.metrics}


def recipe_model(seed=None, learning_rate=1e-4, **kwargs):
    """His model on `conv_energy_network(seed=seed)`, compiled as he does: Adam(1e-4), `run_eagerly=True`."""
    model = RecipeEBM(conv_energy_network((32, 32, 1), seed=seed), **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), run_eagerly=True)
    return model
