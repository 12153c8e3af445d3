"""keras-io's DDIM recipe against `keras_genmodels.diffusion.DiffusionModel`, side by side in one process.

    python bench/keras_io_ddim.py --smoke                                          # end-to-end check, tiny
    python bench/keras_io_ddim.py --part speed --timed-steps 20                    # s/step and generation time
    python bench/keras_io_ddim.py --part speed --configs f32-xla bf16-xla --no-drift-check
    python bench/keras_io_ddim.py --part quality --seeds 0 1 2 --budget 600 --ours bf16-noxla
    python bench/keras_io_ddim.py --summarize                                      # bench/results/ddim_seed*.json

Both sides train on Fashion-MNIST's 60,000 training images padded from
28 x 28 to 32 x 32 with the background (so that the U-Net's three 2 x 2
poolings divide the size), batch 64, with keras-io's hyperparameters: U-Net
widths 32/64/96/128, block depth 2, a sinusoidal embedding of 32 dimensions,
AdamW(1e-3, weight decay 1e-4), EMA decay 0.999, the mean absolute error
between the noise and the network's prediction of it, and 20 deterministic
(η = 0) DDIM steps to generate.

- keras-io's recipe (A. Béres, keras.io/examples/generative/ddim, its Keras 3
  version), rewritten here on its own code path (`RecipeDiffusionModel`,
  `recipe_network`, `recipe_dataset`) with its published behaviour:
  continuous diffusion times τ ~ U(0, 1) and the offset-cosine rates
  (signal rate cos φ, noise rate sin φ, φ from arccos 0.95 to arccos 0.02;
  its own copy of the math, `RecipeDiffusionModel.diffusion_schedule`);
  its U-Net (a sinusoidal embedding of the noise variance, upsampled to
  the image and concatenated once at the input; residual blocks of
  `BatchNormalization(center=False, scale=False)`, a swish 3 x 3
  convolution and a 3 x 3 convolution, no time input per block); its data
  (raw pixels / 255 clipped to [0, 1], then its `Normalization` layer,
  adapted on the training set, standardises them); a `tf.GradientTape`
  `train_step` with unseeded `keras.random` draws; the EMA update of
  `network.weights` (batch-norm statistics included) inside the step;
  `compile()` with `loss=keras.losses.mean_absolute_error` and Keras's other
  defaults (`jit_compile="auto"`: XLA on a GPU, none on a CPU-only
  machine); and `generate` as a Python loop over the steps calling the EMA
  network eagerly on all the images at once, then `denormalize`.
- ours: `DiffusionModel(unet((32, 32, 1), widths=(32, 64, 96, 128),
  block_depth=2, seed=S), data_shape=(32, 32, 1), loss="mae",
  ema_decay=0.999, schedule=--schedule, timesteps=--timesteps, seed=S)`,
  `compile()` with its default AdamW(1e-3, 1e-4) and `fit(x, batch_size=64)`
  on the images in [−1, 1]; `sample(n, method="ddim", steps=20, eta=0.0)`
  (a compiled loop, `--sample-batch` images per call). Its configurations
  (`OURS`): `f32`/`bf16` (float32 or the `mixed_bfloat16` policy while the
  model is built), `xla`/`noxla` (`jit_compile` of the training step;
  sampling is never XLA-compiled). A run that fails is reported and left
  out of the ratios (on a CPU, XLA refuses the gradient of the U-Net built
  under `mixed_bfloat16`: "Seen floating point types of different
  precisions ... but mixed precision is disallowed").

Ours is discrete-time and keras-io's is not: ours draws t ~ U{1..T} with a
linear or cosine β schedule (Ho et al. 2020; Nichol & Dhariwal 2021), its
network sees τ = t / T and is embedded in every residual block (Ho et al.'s
block: GroupNorm, swish, a time projection), and DDIM visits 20 of the T
steps. The benchmark compares the two recipes on U-Nets of the same widths
and depth, not identical math; the parameter counts of both are printed.

Where the published code had to be ported or left a choice:

- Images: keras-io's 64 x 64 RGB flowers (centre crop, antialiased resize)
  become 28 x 28 grey images padded to 32 x 32 (one channel in and out);
  the padding is 0 in keras-io's [0, 1] and −1 in ours' [−1, 1], the same
  background. Samples are cropped back to 28 x 28 before scoring.
- Data pipeline: keras-io's `map(preprocess).cache().shuffle(10 · batch)
  .batch(batch, drop_remainder=True).prefetch()` on the images in the IDX
  files' order; its `repeat(5)` (there to space out the KID evaluations on
  8,000 flowers) is left out, as are the validation split, the KID metric,
  `test_step`, the plotting callback and the checkpoint: nothing of the
  training step.
- keras-io reads `batch_size`, `ema`, `image_size` and the embedding's
  constants from module globals; here they are constructor arguments (the
  same values; the embedding's through the `Lambda` layer's `arguments`).
  The noise is still drawn at the fixed batch size, as published, which is
  why the pipeline drops the last partial batch.
- keras-io's `generate` draws its initial noise unseeded; here it takes a
  `seed` so that samples are reproducible. Nothing else changes.
- Kept as published, and worth knowing when reading the figures: the EMA
  network is `keras.models.clone_model(network)`, which initialises new
  weights rather than copying them, so after N steps a weight 0.999^N of
  the EMA network is still an independent random initialisation (reported
  as `ema_initial_weight`; 37% after 1,000 steps, 5% after 3,000); and
  `self.loss(noises, pred_noises)` with `keras.losses.mean_absolute_error`
  is a (batch, 32, 32) tensor whose gradient `tf.GradientTape` takes as
  that of its sum, not its mean (AdamW is nearly invariant to the scale:
  only its ε changes weight).

Part 1 (speed): for keras-io, then each of `--configs`, then keras-io again
(drift check): seconds per training step at batch 64, after `--warmup`
steps (tracing and any XLA compilation), over the next `--timed-steps`
(wall clock, and the process's CPU seconds, all threads), by the batch-end
times of one `fit` call; then seconds to generate `--gen-n` images with 20
DDIM steps from the model just trained, a first (cold: tracing, kernel
selection) and a second (warm) call. Ratios are keras-io / ours (keras-io
the mean of its runs), the warm generation time for generation; targets:
training >= 1.3x, generation >= 2x.

Part 2 (quality at an equal wall-clock budget): per seed S, each side
trains for `--budget` seconds of wall clock (from the model's
construction, so keras-io's `Normalization.adapt`, tracing and compilation
are inside the budget; `TrainingClock` stops `fit` at the first batch end
past it), keras-io first for even seeds; then draws `--n` samples with 20
DDIM steps and seed S, scored by `image_quality(samples in [0, 1] cropped
to 28 x 28, "fashion_mnist:test", n, seed=0)`: FD, KD, precision and
recall in the library's Fashion-MNIST features (seed 0 fixes the KD
subsets, the same for every run). Target: ours' FD lower. One JSON per seed
goes to bench/results/ddim_seed{S}.json (written atomically); `--summarize`
prints the per-seed figures, mean ± sample sd and the paired differences
ours − keras-io.

The environment (load average, versions, thread settings, devices) is
recorded: on a shared machine timings are comparable only within a run,
which is why the sides are interleaved.
"""

import argparse
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_genmodels import datasets, training
from keras_genmodels.diffusion import DiffusionModel, unet
from keras_genmodels.gan import data as gan_data
from keras_genmodels.metrics.images import image_quality
from keras_genmodels.training import compute_policy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench/: its shared module
from seeded_runs import environment, load_seeds, seed_path, summarize_keras_io_pairs, write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

# keras-io ddim.py's hyperparameters, and the Fashion-MNIST port.
IMAGE_SIZE = 32  # 28 x 28 padded by PAD on each side
PAD = 2
CHANNELS = 1
WIDTHS = (32, 64, 96, 128)
BLOCK_DEPTH = 2
EMBEDDING_DIMS = 32
EMBEDDING_MAX_FREQUENCY = 1000.0
MIN_SIGNAL_RATE = 0.02
MAX_SIGNAL_RATE = 0.95
BATCH = 64
EMA = 0.999
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4
SAMPLING_STEPS = 20

# Our configurations: name -> (mixed_bfloat16, jit_compile of the training step).
OURS = {
    "f32-xla": (False, True),
    "bf16-xla": (True, True),
    "f32-noxla": (False, False),
    "bf16-noxla": (True, False),
}


# ------------------------------------------------------------ keras-io recipe
def recipe_preprocess(image):
    """keras-io's `preprocess_image`, ported: raw uint8 pixels (28, 28, 1) -> (32, 32, 1) in [0, 1].

    keras-io centre-crops and resizes its flowers to 64 x 64; the 28 x 28
    images are padded to 32 x 32 with the background (0) instead, then
    scaled as published, clip(p / 255, 0, 1).
    """
    image = tf.pad(ops.cast(image, "float32"), [[PAD, PAD], [PAD, PAD], [0, 0]])
    return ops.clip(image / 255.0, 0.0, 1.0)


def recipe_dataset(raw, batch_size=BATCH):
    """keras-io's `prepare_dataset` on raw pixels (N, 28, 28, 1) uint8, without its `repeat(5)`."""
    return (
        tf.data.Dataset.from_tensor_slices(raw)
        .map(recipe_preprocess, num_parallel_calls=tf.data.AUTOTUNE)
        .cache()
        .shuffle(10 * batch_size)
        .batch(batch_size, drop_remainder=True)
        .prefetch(buffer_size=tf.data.AUTOTUNE)
    )


@keras.saving.register_keras_serializable(package="bench_keras_io_ddim")
def recipe_sinusoidal_embedding(x, embedding_dims=EMBEDDING_DIMS, embedding_max_frequency=EMBEDDING_MAX_FREQUENCY):
    """keras-io's embedding of the noise variance v, (batch, 1, 1, 1) -> (batch, 1, 1, embedding_dims).

        f_k = exp(linspace(log 1, log f_max, d/2))_k,   e(v) = [sin(2π f_k v), cos(2π f_k v)]

    Registered (as keras-io registers it) so that `clone_model` rebuilds the `Lambda` layer.
    """
    embedding_min_frequency = 1.0
    frequencies = ops.exp(
        ops.linspace(
            ops.log(embedding_min_frequency),
            ops.log(embedding_max_frequency),
            embedding_dims // 2,
        )
    )
    angular_speeds = ops.cast(2.0 * math.pi * frequencies, "float32")
    return ops.concatenate([ops.sin(angular_speeds * x), ops.cos(angular_speeds * x)], axis=3)


def residual_block(width):
    """keras-io's `ResidualBlock`: BN(center=False, scale=False), Conv3 swish, Conv3, + x (1 x 1 conv if needed)."""
    def apply(x):
        input_width = x.shape[3]
        if input_width == width:
            residual = x
        else:
            residual = layers.Conv2D(width, kernel_size=1)(x)
        x = layers.BatchNormalization(center=False, scale=False)(x)
        x = layers.Conv2D(width, kernel_size=3, padding="same", activation="swish")(x)
        x = layers.Conv2D(width, kernel_size=3, padding="same")(x)
        return layers.Add()([x, residual])

    return apply


def down_block(width, block_depth):
    """keras-io's `DownBlock`: `block_depth` residual blocks (each output a skip), then 2 x 2 average pooling."""
    def apply(x):
        x, skips = x
        for _ in range(block_depth):
            x = residual_block(width)(x)
            skips.append(x)
        return layers.AveragePooling2D(pool_size=2)(x)

    return apply


def up_block(width, block_depth):
    """keras-io's `UpBlock`: bilinear upsampling by 2, then `block_depth` x (concatenate a skip, residual block)."""
    def apply(x):
        x, skips = x
        x = layers.UpSampling2D(size=2, interpolation="bilinear")(x)
        for _ in range(block_depth):
            x = layers.Concatenate()([x, skips.pop()])
            x = residual_block(width)(x)
        return x

    return apply


def recipe_network(image_size=IMAGE_SIZE, widths=WIDTHS, block_depth=BLOCK_DEPTH, channels=CHANNELS,
                   embedding_dims=EMBEDDING_DIMS, embedding_max_frequency=EMBEDDING_MAX_FREQUENCY):
    """keras-io's `get_network`, with `channels` in and out (keras-io: 3): [x_τ, noise variance] -> ε̂."""
    noisy_images = keras.Input(shape=(image_size, image_size, channels))
    noise_variances = keras.Input(shape=(1, 1, 1))

    e = layers.Lambda(recipe_sinusoidal_embedding, output_shape=(1, 1, embedding_dims),
                      arguments={"embedding_dims": embedding_dims,
                                 "embedding_max_frequency": embedding_max_frequency})(noise_variances)
    e = layers.UpSampling2D(size=image_size, interpolation="nearest")(e)

    x = layers.Conv2D(widths[0], kernel_size=1)(noisy_images)
    x = layers.Concatenate()([x, e])

    skips = []
    for width in widths[:-1]:
        x = down_block(width, block_depth)([x, skips])
    for _ in range(block_depth):
        x = residual_block(widths[-1])(x)
    for width in reversed(widths[:-1]):
        x = up_block(width, block_depth)([x, skips])

    x = layers.Conv2D(channels, kernel_size=1, kernel_initializer="zeros")(x)
    return keras.Model([noisy_images, noise_variances], x, name="residual_unet")


class RecipeDiffusionModel(keras.Model):
    """keras-io's `DiffusionModel`, rewritten for this benchmark (its baseline only).

    Continuous time: per step, on a batch x_0 standardised by the adapted
    `Normalization` layer, τ ~ U(0, 1) and ε ~ N(0, I) per example (unseeded
    `keras.random`, at the fixed `batch_size`), φ(τ) = φ_0 + τ (φ_1 − φ_0)
    with φ_0 = arccos(0.95), φ_1 = arccos(0.02), and

        x_τ = cos φ · x_0 + sin φ · ε,   loss = |ε − ε_θ(x_τ, sin² φ)|  (channel mean; the tape sums the rest)

    then one AdamW step on the live network and the EMA update of every
    weight of the network (batch-norm statistics too),
    w_ema ← d w_ema + (1 − d) w. `generate` runs deterministic DDIM from
    x_1 = noise at τ = 1 down by 1/steps per step, remixing the predicted
    x̂_0 = (x_τ − sin φ ε̂) / cos φ and ε̂ at the next τ, and returns the last
    x̂_0, denormalised and clipped to [0, 1]. The EMA network is
    `clone_model(network)`: new random weights, not a copy (as published).
    The library's own model is `keras_genmodels.diffusion.DiffusionModel`.
    """

    def __init__(self, image_size=IMAGE_SIZE, widths=WIDTHS, block_depth=BLOCK_DEPTH, channels=CHANNELS,
                 batch_size=BATCH, ema=EMA):
        super().__init__()
        self.image_size = image_size
        self.channels = channels
        self.batch_size = batch_size
        self.ema = ema
        self.normalizer = layers.Normalization()
        self.network = recipe_network(image_size, widths, block_depth, channels)
        self.ema_network = keras.models.clone_model(self.network)

    def compile(self, **kwargs):
        super().compile(**kwargs)
        self.noise_loss_tracker = keras.metrics.Mean(name="n_loss")
        self.image_loss_tracker = keras.metrics.Mean(name="i_loss")

    @property
    def metrics(self):
        return [self.noise_loss_tracker, self.image_loss_tracker]

    def denormalize(self, images):
        # convert the pixel values back to the 0-1 range
        images = self.normalizer.mean + images * self.normalizer.variance**0.5
        return ops.clip(images, 0.0, 1.0)

    def diffusion_schedule(self, diffusion_times):
        """(noise, signal rates) = (sin φ(τ), cos φ(τ)), φ(τ) = arccos(0.95) + τ (arccos(0.02) − arccos(0.95))."""
        start_angle = ops.cast(ops.arccos(MAX_SIGNAL_RATE), "float32")
        end_angle = ops.cast(ops.arccos(MIN_SIGNAL_RATE), "float32")
        diffusion_angles = start_angle + diffusion_times * (end_angle - start_angle)
        signal_rates = ops.cos(diffusion_angles)
        noise_rates = ops.sin(diffusion_angles)  # signal² + noise² = 1
        return noise_rates, signal_rates

    def denoise(self, noisy_images, noise_rates, signal_rates, training):
        # the exponential moving average weights are used at evaluation
        network = self.network if training else self.ema_network
        pred_noises = network([noisy_images, noise_rates**2], training=training)
        pred_images = (noisy_images - noise_rates * pred_noises) / signal_rates  # x̂_0
        return pred_noises, pred_images

    def reverse_diffusion(self, initial_noise, diffusion_steps):
        num_images = initial_noise.shape[0]
        step_size = 1.0 / diffusion_steps
        # at the first step the "noisy image" is pure noise, its signal rate assumed min_signal_rate
        next_noisy_images = initial_noise
        for step in range(diffusion_steps):
            noisy_images = next_noisy_images
            diffusion_times = ops.ones((num_images, 1, 1, 1)) - step * step_size
            noise_rates, signal_rates = self.diffusion_schedule(diffusion_times)
            pred_noises, pred_images = self.denoise(noisy_images, noise_rates, signal_rates, training=False)
            # remix the predicted components at the next signal and noise rates
            next_diffusion_times = diffusion_times - step_size
            next_noise_rates, next_signal_rates = self.diffusion_schedule(next_diffusion_times)
            next_noisy_images = next_signal_rates * pred_images + next_noise_rates * pred_noises
        return pred_images

    def generate(self, num_images, diffusion_steps, seed=None):
        """noise -> images -> denormalised images in [0, 1]; `seed` (not in keras-io) seeds the initial noise."""
        initial_noise = keras.random.normal(
            shape=(num_images, self.image_size, self.image_size, self.channels), seed=seed)
        generated_images = self.reverse_diffusion(initial_noise, diffusion_steps)
        return self.denormalize(generated_images)

    def train_step(self, images):
        # normalize images to have standard deviation of 1, like the noises
        images = self.normalizer(images, training=True)
        noises = keras.random.normal(shape=(self.batch_size, self.image_size, self.image_size, self.channels))
        diffusion_times = keras.random.uniform(shape=(self.batch_size, 1, 1, 1), minval=0.0, maxval=1.0)
        noise_rates, signal_rates = self.diffusion_schedule(diffusion_times)
        noisy_images = signal_rates * images + noise_rates * noises

        with tf.GradientTape() as tape:
            pred_noises, pred_images = self.denoise(noisy_images, noise_rates, signal_rates, training=True)
            noise_loss = self.loss(noises, pred_noises)  # (batch, H, W): used for training
            image_loss = self.loss(images, pred_images)  # only used as a metric

        gradients = tape.gradient(noise_loss, self.network.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.network.trainable_weights))

        self.noise_loss_tracker.update_state(noise_loss)
        self.image_loss_tracker.update_state(image_loss)

        for weight, ema_weight in zip(self.network.weights, self.ema_network.weights):
            ema_weight.assign(self.ema * ema_weight + (1 - self.ema) * weight)
        return {m.name: m.result() for m in self.metrics}


def make_recipe(batch_size=BATCH, jit_compile="auto"):
    """keras-io's model, compiled as published (`jit_compile` other than "auto" only if asked)."""
    model = RecipeDiffusionModel(batch_size=batch_size)
    kwargs = {} if jit_compile == "auto" else {"jit_compile": jit_compile}
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY),
        loss=keras.losses.mean_absolute_error,
        **kwargs,
    )
    return model


def recipe_generate(model, n, seed):
    """n images (n, 32, 32, 1) in [0, 1], as keras-io generates them: one batch, 20 steps, eagerly."""
    return np.asarray(model.generate(n, SAMPLING_STEPS, seed=seed), "float32")


# ------------------------------------------------------------------ our model
def make_ours(seed, config, schedule, timesteps):
    """Our `DiffusionModel` on `unet` at keras-io's widths, built under the configuration's policy, compiled."""
    mixed, jit = OURS[config]
    with compute_policy(mixed):
        network = unet((IMAGE_SIZE, IMAGE_SIZE, CHANNELS), widths=WIDTHS, block_depth=BLOCK_DEPTH, seed=seed)
        model = DiffusionModel(network, data_shape=(IMAGE_SIZE, IMAGE_SIZE, CHANNELS), timesteps=timesteps,
                               schedule=schedule, loss="mae", ema_decay=EMA, seed=seed)
    model.compile(jit_compile=jit)  # AdamW(1e-3, weight_decay=1e-4)
    return model


def ours_generate(model, n, seed, batch_size):
    """n images (n, 32, 32, 1) in [0, 1]: 20 DDIM steps, η = 0, from the EMA network."""
    x = model.sample(n, seed=seed, method="ddim", steps=SAMPLING_STEPS, eta=0.0, batch_size=batch_size)
    return gan_data.to_unit_images(x)


def describe(config, args):
    mixed, jit = OURS[config]
    return (f"ours, {'mixed_bfloat16' if mixed else 'float32'}, jit_compile={jit} "
            f"(discrete time, T = {args.timesteps}, {args.schedule} β)")


def discrete_time_note(args):
    return (f"Ours is discrete-time (t ~ U{{1..{args.timesteps}}}, {args.schedule} β; its U-Net embeds t in every "
            "block), keras-io's continuous-time (τ ~ U(0, 1), offset-cosine rates; the noise variance embedded "
            "once at the input): the recipes are compared on U-Nets of the same widths and depth, not identical "
            "math.")


# ------------------------------------------------------------------ training
def train_recipe(raw, seed, budget=None, epochs=1000, batch_size=BATCH, jit_compile="auto"):
    """keras-io's model built, adapted and trained on the raw pixels `raw`; `(model, clock)`."""
    keras.utils.set_random_seed(seed)
    clock = training.TrainingClock(time.perf_counter(), budget)
    dataset = recipe_dataset(raw, batch_size)
    model = make_recipe(batch_size, jit_compile)
    model.normalizer.adapt(dataset)  # mean and variance of the training set
    # shuffle=False: a dataset shuffles itself (Keras ignores `shuffle` for one, with a warning)
    model.fit(dataset, epochs=epochs, verbose=0, callbacks=[clock], shuffle=False)
    return model, clock


def train_ours(x, seed, config, args, budget=None, epochs=1000, batch_size=BATCH):
    """Our model (built and compiled inside the budget) trained on `x` in [−1, 1]; `(model, clock)`."""
    keras.utils.set_random_seed(seed)
    clock = training.TrainingClock(time.perf_counter(), budget)
    model = make_ours(seed, config, args.schedule, args.timesteps)
    model.fit(x, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[clock])
    return model, clock


def seconds_per_step(clock, warmup):
    """`(wall s/step, CPU s/step, steps)` between the first batch end at or after `warmup` steps and the last."""
    first = next(i for i, s in enumerate(clock.steps) if s >= warmup)
    steps = clock.steps[-1] - clock.steps[first]
    return ((clock.times[-1] - clock.times[first]) / steps, (clock.cpu_times[-1] - clock.cpu_times[first]) / steps,
            steps)


def time_generation(generate):
    """`generate()` twice: `{"cold_seconds", "seconds", "cpu_seconds"}` (the warm call's wall and CPU seconds)."""
    start = time.perf_counter()
    generate()
    cold = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    generate()
    return {"cold_seconds": cold, "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}


# ------------------------------------------------------------------ data
def load_data(limit=None):
    """`(raw, x)`: uint8 pixels (N, 28, 28, 1) for keras-io; (N, 32, 32, 1) in [−1, 1], padded with −1, for ours."""
    raw = datasets.load_arrays("fashion_mnist", "train", with_labels=False)
    raw = raw[:limit] if limit else raw
    x = gan_data.to_model_images(raw)
    x = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)), constant_values=-1.0)
    return raw, x


def crop(images):
    """(n, 32, 32, 1) -> the 28 x 28 images inside the padding."""
    return images[:, PAD:IMAGE_SIZE - PAD, PAD:IMAGE_SIZE - PAD, :]


def error_summary(e, width=300):
    """One line of an exception for the console: its type and the most informative line of its message."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    # TensorFlow's graph errors end with the cause, after the Python trace and before a "[[{{node ...}}]]" line
    useful = [line for line in lines if not line.startswith(("File ", "[[", "Detected at node"))] or lines or [""]
    return f"{type(e).__name__}: {useful[-1][:width]}"


# --------------------------------------------------------------------- part 1
def speed(args):
    warm, timed, batch = args.warmup, args.timed_steps, args.batch_size
    raw, x = load_data(limit=(warm + timed) * batch)
    recipe_params = recipe_network().count_params()
    ours_params = unet((IMAGE_SIZE, IMAGE_SIZE, CHANNELS), widths=WIDTHS, block_depth=BLOCK_DEPTH).count_params()
    print(f"Part 1: seconds per training step (batch {batch}), {warm} warm-up + {timed} timed steps each, then "
          f"seconds to generate {args.gen_n} images with {SAMPLING_STEPS} DDIM steps (cold, warm); TensorFlow "
          f"{tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} cores, devices "
          f"{[d.device_type for d in tf.config.list_physical_devices()]}, load average {os.getloadavg()[0]:.1f}\n"
          f"  U-Nets at widths {list(WIDTHS)}, block depth {BLOCK_DEPTH}: keras-io's {recipe_params:,} parameters, "
          f"ours {ours_params:,}.\n  {discrete_time_note(args)}", flush=True)

    def recipe_run():
        model, clock = train_recipe(raw, 0, epochs=1, batch_size=batch, jit_compile=args.recipe_jit_compile)
        return model, clock, time_generation(lambda: recipe_generate(model, args.gen_n, 0))

    def ours_run(config):
        model, clock = train_ours(x, 0, config, args, epochs=1, batch_size=batch)
        return model, clock, time_generation(lambda: ours_generate(model, args.gen_n, 0, args.sample_batch))

    runs = [("keras-io's recipe (as published)", "recipe", recipe_run)]
    runs += [(describe(c, args), c, lambda c=c: ours_run(c)) for c in args.configs]
    if args.drift_check:
        runs.append(("keras-io's recipe again (drift check)", "recipe", recipe_run))
    rows, failed = [], []
    for name, config, run in runs:
        load = os.getloadavg()[0]
        try:
            model, clock, generation = run()
        except (tf.errors.OpError, RuntimeError, ValueError) as e:  # one run failing (XLA, memory) leaves the others
            failed.append({"name": name, "config": config, "error": f"{type(e).__name__}: {e}"[-4000:]})
            print(f"  {name:62s} FAILED: {error_summary(e)}", flush=True)
            continue
        s, cpu, steps = seconds_per_step(clock, warm)
        first = next(i for i, n in enumerate(clock.steps) if n >= warm)
        rows.append({"name": name, "config": config, "jit_compile": model.jit_compile, "seconds_per_step": s,
                     "cpu_seconds_per_step": cpu, "timed_steps": steps,
                     "warmup_seconds": clock.times[first] - clock.start, "generation": generation,
                     "load_average_before": load, "load_average_after": os.getloadavg()[0],
                     "last_metrics": clock.last_logs})
        print(f"  {name:62s} {s:7.3f} s/step, CPU {cpu:7.3f} s/step (over {steps} steps; "
              f"{rows[-1]['warmup_seconds']:.0f} s to the end of the warm-up; jit_compile={model.jit_compile}); "
              f"generation {generation['seconds']:.2f} s (cold {generation['cold_seconds']:.2f} s; load {load:.1f})",
              flush=True)
    recipe = [r for r in rows if r["config"] == "recipe"]
    if not recipe:
        raise RuntimeError(f"keras-io's recipe failed in every run: {failed[0]['error'][:2000]}")
    base = float(np.mean([r["seconds_per_step"] for r in recipe]))
    base_cpu = float(np.mean([r["cpu_seconds_per_step"] for r in recipe]))
    base_gen = float(np.mean([r["generation"]["seconds"] for r in recipe]))
    print(f"\n  {'':62s} {'s/step':>8s} {'k-io / it':>9s} {'CPU s/step':>10s} {'k-io / it':>9s} "
          f"{'gen s':>8s} {'k-io / it':>9s}")
    for r in rows:
        r["speedup_over_recipe"] = base / r["seconds_per_step"]
        r["cpu_speedup_over_recipe"] = base_cpu / r["cpu_seconds_per_step"]
        r["generation_speedup_over_recipe"] = base_gen / r["generation"]["seconds"]
        print(f"  {r['name']:62s} {r['seconds_per_step']:8.3f} {r['speedup_over_recipe']:8.2f}x "
              f"{r['cpu_seconds_per_step']:10.3f} {r['cpu_speedup_over_recipe']:8.2f}x "
              f"{r['generation']['seconds']:8.2f} {r['generation_speedup_over_recipe']:8.2f}x")
    drift = (f"; drift between them {100 * (recipe[-1]['seconds_per_step'] / recipe[0]['seconds_per_step'] - 1):+.0f}%"
             if len(recipe) > 1 else "")
    print(f"  (keras-io = mean of its {len(recipe)} run(s): {base:.3f} s/step{drift}, {base_gen:.2f} s to generate "
          f"{args.gen_n}; targets: ours >= 1.3x per training step, >= 2x to generate)")
    ours = [r for r in rows if r["config"] != "recipe"]
    if ours:
        best = min(ours, key=lambda r: r["seconds_per_step"])
        best_gen = min(ours, key=lambda r: r["generation"]["seconds"])
        print(f"  fastest of ours to train: {best['config']}, {best['speedup_over_recipe']:.2f}x keras-io; to "
              f"generate: {best_gen['config']}, {best_gen['generation_speedup_over_recipe']:.2f}x", flush=True)
    if failed:
        print(f"  failed (left out above; the messages are in --json): {', '.join(f['config'] for f in failed)}")
    out = {"date": time.strftime("%Y-%m-%d"), "command": command_line(), "batch_size": batch, "warmup_steps": warm,
           "timed_steps": timed, "generated_images": args.gen_n, "sampling_steps": SAMPLING_STEPS,
           "sample_batch_ours": args.sample_batch, "schedule_ours": args.schedule, "timesteps_ours": args.timesteps,
           "parameters": {"keras_io": recipe_params, "ours": ours_params}, "rows": rows, "failed": failed,
           "recipe_seconds_per_step": base, "recipe_cpu_seconds_per_step": base_cpu,
           "recipe_generation_seconds": base_gen,
           "fastest": min(ours, key=lambda r: r["seconds_per_step"])["config"] if ours else None,
           "environment": environment()}
    if args.json:
        write_json(args.json, out)
    return out


# --------------------------------------------------------------------- part 2
def score(unit_images, n):
    """FD, KD, precision and recall of (n, 32, 32, 1) images in [0, 1], cropped to 28 x 28."""
    q = image_quality(crop(unit_images), "fashion_mnist:test", n=n, seed=0)
    return {k: q[k] for k in ("fd", "kd_mean", "kd_std", "precision", "recall", "n_samples", "features", "seconds")}


def quality_seed(args, seed, raw, x):
    order = ["keras_io", "ours"] if seed % 2 == 0 else ["ours", "keras_io"]
    print(f"\nseed {seed}: {args.budget:.0f} s of training each, {' then '.join(order)}; ours = "
          f"{describe(args.ours, args)}; load average {os.getloadavg()[0]:.1f}", flush=True)
    load_start = os.getloadavg()
    trained, report = {}, {}
    for side in order:
        if side == "keras_io":
            model, clock = train_recipe(raw, seed, budget=args.budget, batch_size=args.batch_size,
                                        jit_compile=args.recipe_jit_compile)
        else:
            model, clock = train_ours(x, seed, args.ours, args, budget=args.budget, batch_size=args.batch_size)
        steps = clock.total_steps
        trained[side] = model
        report[side] = {"steps": steps, "images_seen": steps * args.batch_size,
                        "jit_compile": model.jit_compile,
                        "train_seconds": clock.times[-1] - clock.start if steps else 0.0,
                        "first_step_seconds": clock.times[0] - clock.start if steps else None,
                        "seconds_per_step_after_first": (clock.times[-1] - clock.times[0]) / (steps - clock.steps[0])
                        if steps > clock.steps[0] else None,
                        # keras-io's EMA network starts from its own random weights (clone_model), ours from the live
                        "ema_initial_weight": EMA ** steps if side == "keras_io" else None,
                        "last_metrics": clock.last_logs}
        first = report[side]["first_step_seconds"]
        print(f"  {side:8s}: {steps} steps ({steps * args.batch_size} images) in {report[side]['train_seconds']:.1f} s "
              f"(first step done at {first if first is None else round(first, 1)} s)"
              + (f"; its EMA network is still {100 * EMA ** steps:.0f}% its random initial weights"
                 if side == "keras_io" else ""), flush=True)
    for side in ("keras_io", "ours"):
        start = time.perf_counter()
        if side == "keras_io":
            images = recipe_generate(trained[side], args.n, seed)
        else:
            images = ours_generate(trained[side], args.n, seed, args.sample_batch)
        sample_seconds = time.perf_counter() - start
        q = dict(score(images, args.n), sample_seconds=sample_seconds)
        report[side]["quality"] = q
        print(f"  {side:8s}: FD {q['fd']:.2f}, KD {q['kd_mean']:.4f} ± {q['kd_std']:.4f}, precision "
              f"{q['precision']:.3f}, recall {q['recall']:.3f} ({args.n} samples in {sample_seconds:.1f} s)",
              flush=True)
    k, o = report["keras_io"], report["ours"]
    out = {"seed": seed, "date": time.strftime("%Y-%m-%d"), "command": command_line(), "budget_seconds": args.budget,
           "order": order, "batch_size": args.batch_size, "train_images": len(x), "n_samples": args.n,
           "sampling_steps": SAMPLING_STEPS, "ours_config": args.ours, "ours_description": describe(args.ours, args),
           "schedule_ours": args.schedule, "timesteps_ours": args.timesteps,
           "recipe_jit_compile_option": args.recipe_jit_compile, "keras_io": k, "ours": o,
           "steps_ratio": o["steps"] / max(k["steps"], 1),
           "differences": {m: o["quality"][m] - k["quality"][m] for m in ("fd", "kd_mean", "precision", "recall")},
           "environment": dict(environment(), load_average_start=load_start)}
    print(f"  ours / keras-io steps {out['steps_ratio']:.2f}x; ours − keras-io: FD {out['differences']['fd']:+.2f}, "
          f"recall {out['differences']['recall']:+.3f}", flush=True)
    return out


def quality(args):
    raw, x = load_data(limit=args.limit)
    print(f"\nPart 2: quality at an equal wall-clock budget of {args.budget:.0f} s; {len(x)} training images, "
          f"batch {args.batch_size}, {args.n} samples ({SAMPLING_STEPS} DDIM steps) scored against "
          f"fashion_mnist:test; results in {args.results_dir}\n  {discrete_time_note(args)}", flush=True)
    outs = []
    for seed in args.seeds:
        out = quality_seed(args, seed, raw, x)
        write_json(seed_path(args.results_dir, "ddim", seed), out)
        outs.append(out)
    summarize(args.results_dir, [o["seed"] for o in outs])


# --------------------------------------------------------------------- summary
def summarize(results_dir, seeds=None):
    """Print the figures of ddim_seed*.json in `results_dir`: per seed, mean ± sample sd, paired differences."""
    runs = load_seeds(results_dir, "ddim", seeds)
    if not runs:
        print(f"no ddim_seed*.json in {results_dir}")
        return None
    return summarize_keras_io_pairs(runs, "steps", target="target: FD ours lower")


# --------------------------------------------------------------------- main
def command_line():
    return "python bench/keras_io_ddim.py " + " ".join(sys.argv[1:])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["speed", "quality", "both"], default="both")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--budget", type=float, default=600.0, help="part 2: seconds of training per side and seed")
    p.add_argument("--n", type=int, default=1000, help="part 2: samples scored per side")
    p.add_argument("--ours", choices=sorted(OURS), default="f32-noxla",
                   help="part 2: our configuration (part 1 says which is fastest on the machine at hand)")
    p.add_argument("--configs", choices=sorted(OURS), nargs="+", default=None,
                   help="part 1: our configurations (default: all four; --smoke: bf16-noxla)")
    p.add_argument("--schedule", choices=["linear", "cosine"], default="cosine", help="ours: the β schedule")
    p.add_argument("--timesteps", type=int, default=1000, help="ours: T")
    p.add_argument("--sample-batch", type=int, default=256, help="ours: images per compiled sampling call")
    p.add_argument("--recipe-jit-compile", choices=["auto", "true", "false"], default="auto",
                   help="keras-io's compile(jit_compile=...); 'auto' (Keras's default) as published")
    p.add_argument("--no-drift-check", dest="drift_check", action="store_false",
                   help="part 1: leave out keras-io's second run")
    p.add_argument("--warmup", type=int, default=3, help="part 1: untimed steps")
    p.add_argument("--timed-steps", type=int, default=20, help="part 1: timed steps")
    p.add_argument("--gen-n", type=int, default=1000, help="part 1: images generated per timing")
    p.add_argument("--batch-size", type=int, default=BATCH, help="both parts (keras-io's 64)")
    p.add_argument("--limit", type=int, default=None, help="part 2: train on the first N images")
    p.add_argument("--results-dir", default=None, help="default bench/results (a temporary folder with --smoke)")
    p.add_argument("--json", default=None, help="part 1: also write its figures to this file")
    p.add_argument("--smoke", action="store_true",
                   help="tiny end-to-end run: 256 images, 1 + 2 timed steps, 8 generated images, keras-io once and "
                        "ours bf16-noxla, a 10 s budget, 32 samples scored")
    p.add_argument("--summarize", action="store_true", help="only print the summary of the seed files present")
    args = p.parse_args(argv)
    args.recipe_jit_compile = {"auto": "auto", "true": True, "false": False}[args.recipe_jit_compile]
    if args.results_dir is None:
        args.results_dir = tempfile.mkdtemp(prefix="ddim_smoke_") if args.smoke else RESULTS
    if args.summarize:
        return 0 if summarize(args.results_dir) is not None else 1
    if args.smoke:
        args.limit, args.warmup, args.timed_steps, args.gen_n = 256, 1, 2, 8
        args.budget, args.n, args.drift_check = 10.0, 32, False
        args.configs = args.configs or ["bf16-noxla"]
    args.configs = args.configs or ["f32-noxla", "bf16-noxla", "f32-xla", "bf16-xla"]
    if args.part in ("speed", "both"):
        speed(args)
    if args.part in ("quality", "both"):
        quality(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
