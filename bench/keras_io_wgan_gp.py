"""keras-io's WGAN-GP recipe against `keras_genmodels.gan.WGANGP`, side by side in one process.

    python bench/keras_io_wgan_gp.py --quick                                   # smoke run (~1.5 min)
    python bench/keras_io_wgan_gp.py --part speed --timed-steps 8              # ~35 min on 2 busy cores
    python bench/keras_io_wgan_gp.py --part speed --batch-size 64 --configs f32-xla bf16-xla --warmup 1 --timed-steps 2 --no-drift-check
    python bench/keras_io_wgan_gp.py --part quality --seeds 0 --budget 150     # ~6 min per seed
    python bench/keras_io_wgan_gp.py --summarize                               # bench/results/wgan_gp_seed*.json

The third command times XLA on a CPU, at batch 64 (~7 min).

Both sides train on Fashion-MNIST's 60,000 training images in [−1, 1],
batch 512, with keras-io's hyperparameters (z of size 128, three critic
updates per generator update on the same batch, λ = 10, Adam(2e-4,
β₁ = 0.5, β₂ = 0.9) for both networks) and keras-io's generator and critic,
built from the same initial weights by the library's
`wgan_gp_generator(seed=S)` and `wgan_gp_critic(seed=S)` (`--part speed`
first checks them layer by layer against the networks as keras-io publishes
them, `published_networks`):

- keras-io's recipe (A. K. Nain, keras.io/examples/generative/wgan_gp),
  rewritten here as `RecipeWGAN` with its published behaviour: a
  `tf.GradientTape` step, z and the interpolation weight α both drawn by
  `tf.random.normal` (α ~ N(0, 1), not U(0, 1)), the norm as a plain
  `tf.sqrt` (no guard at 0), `compile()` with Keras's defaults (on a
  CPU-only machine `jit_compile="auto"` means no XLA), and `fit` on the
  NumPy images (Keras's own `tf.data` pipeline);
- ours: `WGANGP(seed=S)` with its defaults, `compile()` (its Adam pair),
  `fit(x, batch_size=512)`; its compile options (XLA, `steps_per_execution`)
  and dtype policy vary in part 1, and part 2 uses the fastest.

Part 1 (speed): seconds per training step (one step = 3 critic updates and 1
generator update at batch 512), after `--warmup` steps (tracing and any XLA
compilation), timed over the next `--timed-steps` by the batch-end times of
one `fit` call, interleaved: keras-io, our configurations `--configs`
(`f32`/`bf16`: float32 or the `mixed_bfloat16` policy while the model is
built; `xla`/`noxla`: `jit_compile`; `-spe`: `steps_per_execution=--spe`),
and keras-io again (drift check). Prints wall-clock s/step, the process's CPU
s/step (all threads; less disturbed by other jobs on a shared machine) and
the speed-up keras-io / ours (keras-io the mean of its runs). With
`steps_per_execution` s Keras ends a batch every s steps, so the time is
divided by the steps between two ends. On a CPU, XLA is not a candidate: it
compiles the critic's 5 x 5 stride-2 convolution on the 4 x 4 map and its
seeded dropouts into code tens of times slower than TensorFlow's kernels
(measured at batch 64 by the third command above).

Part 2 (quality at an equal wall-clock budget): per seed S, each side trains
for `--budget` seconds of wall clock (counted from the model's construction,
so tracing and compilation are inside the budget; a callback stops `fit` at
the first batch end past it), the side that goes first alternating with the
seed (keras-io first for even seeds). Ours uses `--ours`, by default
`bf16-noxla`, the fastest of part 1 on this machine by CPU time
(`steps_per_execution` made no reliable difference, and with it `fit`
could stop only every s steps). Each side then draws
`--samples` samples with seed S (keras-io: its generator in inference mode on
`keras.random.normal((n, 128), seed=S)`; ours: `model.sample(n, seed=S)`),
scored by `image_quality(to_unit_images(x), "fashion_mnist:test", n, seed=0)`:
FD, KD, precision and recall in the library's Fashion-MNIST features, with
the generator steps each side managed. One JSON per seed goes to
bench/results/wgan_gp_seed{S}.json; `--summarize` prints the per-seed
figures, their mean ± sample sd and the paired differences ours − keras-io.

The environment (load average at the start and end, versions, thread
settings) is recorded: on a shared machine, timings are only comparable
within one run, which is why the sides are interleaved.
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from keras_genmodels.gan import WGANGP
from keras_genmodels.gan import data as gan_data
from keras_genmodels.gan.networks import wgan_gp_critic, wgan_gp_generator
from keras_genmodels.metrics.images import image_quality
from keras_genmodels import training
from keras_genmodels.training import compute_policy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench/: its shared module
from seeded_runs import environment, load_seeds, seed_path, summarize_keras_io_pairs, write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
BATCH = 512
LATENT = 128
CRITIC_STEPS = 3
GP_WEIGHT = 10.0

# Our configurations: name -> (mixed_bfloat16, jit_compile, steps_per_execution); `None` takes --spe.
OURS = {
    "f32-xla": (False, True, 1),
    "bf16-xla": (True, True, 1),
    "f32-noxla": (False, False, 1),
    "bf16-noxla": (True, False, 1),
    "f32-noxla-spe": (False, False, None),
    "bf16-noxla-spe": (True, False, None),
}


# ------------------------------------------------------------ keras-io recipe
def recipe_critic_loss(real_scores, fake_scores):
    """keras-io's critic loss without the penalty: mean D(x̃) − mean D(x)."""
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def recipe_generator_loss(fake_scores):
    """keras-io's generator loss: −mean D(x̃)."""
    return -tf.reduce_mean(fake_scores)


class RecipeWGAN(keras.Model):
    """keras-io's `WGAN` model and step, rewritten for this benchmark (its baseline only).

    Per step, on one batch x of n real images: `critic_steps` critic updates,
    each with fresh z ~ N(0, I) (`tf.random.normal`) and the loss

        mean D(G(z)) − mean D(x) + λ mean_i (‖∇ D(x̂_i)‖₂ − 1)²,
        x̂ = x + α (G(z) − x),  α ~ N(0, 1) per example,

    then one generator update on −mean D(G(z)) with fresh z. As published:
    α is a normal draw (the paper's α ~ U(0, 1) interpolates; a normal α
    also extrapolates beyond x and G(z)), the norm is `tf.sqrt` of the sum of
    squares (NaN gradient at a zero gradient, keras-io#624), and `compile`
    calls Keras's `compile()` with its defaults. The library's own model is
    `keras_genmodels.gan.WGANGP`.
    """

    def __init__(self, critic, generator, latent_dim=LATENT, critic_steps=CRITIC_STEPS, gp_weight=GP_WEIGHT):
        super().__init__()
        self.critic = critic
        self.generator = generator
        self.latent_dim = latent_dim
        self.critic_steps = critic_steps
        self.gp_weight = gp_weight

    def compile(self, critic_optimizer, generator_optimizer, critic_loss, generator_loss):
        super().compile()  # Keras's defaults: no loss, jit_compile="auto", steps_per_execution=1
        self.critic_optimizer = critic_optimizer
        self.generator_optimizer = generator_optimizer
        self.critic_loss = critic_loss
        self.generator_loss = generator_loss

    def penalty(self, n, real, fake):
        """mean_i (‖∇_x̂ D(x̂_i)‖₂ − 1)² at x̂ = x + α (x̃ − x), α ~ N(0, 1), as published."""
        alpha = tf.random.normal([n, 1, 1, 1], 0.0, 1.0)
        x_hat = real + alpha * (fake - real)
        with tf.GradientTape() as inner:
            inner.watch(x_hat)
            scores = self.critic(x_hat, training=True)
        (grad,) = inner.gradient(scores, [x_hat])
        norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]))  # (n,)
        return tf.reduce_mean((norm - 1.0) ** 2)

    def train_step(self, data):
        real = data[0] if isinstance(data, tuple) else data
        n = tf.shape(real)[0]
        critic_vars = self.critic.trainable_variables
        for _ in range(self.critic_steps):  # the same batch each time, as published
            z = tf.random.normal(shape=(n, self.latent_dim))
            with tf.GradientTape() as tape:
                fake = self.generator(z, training=True)
                fake_scores = self.critic(fake, training=True)
                real_scores = self.critic(real, training=True)
                critic_loss = (self.critic_loss(real_scores, fake_scores)
                               + self.gp_weight * self.penalty(n, real, fake))
            grads = tape.gradient(critic_loss, critic_vars)
            self.critic_optimizer.apply_gradients(zip(grads, critic_vars))
        generator_vars = self.generator.trainable_variables
        z = tf.random.normal(shape=(n, self.latent_dim))
        with tf.GradientTape() as tape:
            generator_loss = self.generator_loss(self.critic(self.generator(z, training=True), training=True))
        grads = tape.gradient(generator_loss, generator_vars)
        self.generator_optimizer.apply_gradients(zip(grads, generator_vars))
        return {"d_loss": critic_loss, "g_loss": generator_loss}


def make_recipe(seed):
    """keras-io's model on the library's networks (seeded weights), compiled as published."""
    model = RecipeWGAN(wgan_gp_critic(seed=seed), wgan_gp_generator(LATENT, seed=seed))
    model.compile(
        critic_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
        generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
        critic_loss=recipe_critic_loss,
        generator_loss=recipe_generator_loss,
    )
    return model


def recipe_sample(model, n, seed, batch_size=1000):
    """n images from keras-io's generator in inference mode (as its `GANMonitor` calls it), z drawn with `seed`."""
    z = keras.random.normal((n, LATENT), seed=seed)
    out = [np.asarray(model.generator(z[i:i + batch_size], training=False)) for i in range(0, n, batch_size)]
    return np.concatenate(out).astype("float32")


# --------------------------------------------------------- architecture check
def published_networks():
    """`(generator, critic)` as keras-io's example builds them (unseeded), to check the library's pair against.

    Generator: Dense 4·4·256 (no bias), BN, LeakyReLU(0.2), Reshape; three
    blocks of UpSampling2D(2), Conv2D 3 x 3 (no bias), BN, then LeakyReLU(0.2)
    (128 and 64 filters) or tanh (1 filter); Cropping2D(2). Critic:
    ZeroPadding2D(2); Conv2D 5 x 5 stride 2 with 64, 128, 256, 512 filters
    (bias), each followed by LeakyReLU(0.2), Dropout(0.3) after the second
    and third; Flatten, Dropout(0.2), Dense(1).
    """
    layers = keras.layers
    z = keras.Input((LATENT,))
    h = layers.Dense(4 * 4 * 256, use_bias=False)(z)
    h = layers.LeakyReLU(0.2)(layers.BatchNormalization()(h))
    h = layers.Reshape((4, 4, 256))(h)
    for filters, last in ((128, False), (64, False), (1, True)):
        h = layers.UpSampling2D((2, 2))(h)
        h = layers.BatchNormalization()(layers.Conv2D(filters, (3, 3), padding="same", use_bias=False)(h))
        h = layers.Activation("tanh")(h) if last else layers.LeakyReLU(0.2)(h)
    generator = keras.Model(z, layers.Cropping2D((2, 2))(h), name="generator")
    x = keras.Input((28, 28, 1))
    h = layers.ZeroPadding2D((2, 2))(x)
    for filters, dropout in ((64, False), (128, True), (256, True), (512, False)):
        h = layers.LeakyReLU(0.2)(layers.Conv2D(filters, (5, 5), strides=(2, 2), padding="same")(h))
        h = layers.Dropout(0.3)(h) if dropout else h
    h = layers.Dropout(0.2)(layers.Flatten()(h))
    critic = keras.Model(x, layers.Dense(1)(h), name="discriminator")
    return generator, critic


_COMPARED = ("units", "use_bias", "filters", "kernel_size", "strides", "padding", "rate", "negative_slope",
             "activation", "momentum", "epsilon", "center", "scale", "size", "interpolation", "cropping",
             "target_shape", "data_format")


def layer_signature(layer):
    """A layer's kind, the configuration that defines its function, and its initialisers' classes."""
    config = layer.get_config()
    kept = {k: config[k] for k in _COMPARED if k in config}
    for k in ("kernel_initializer", "bias_initializer", "gamma_initializer", "beta_initializer",
              "moving_mean_initializer", "moving_variance_initializer"):
        if isinstance(config.get(k), dict):
            kept[k] = config[k].get("class_name")
    return type(layer).__name__, json.dumps(kept, sort_keys=True, default=str)


def compare_architectures(seed=0):
    """Differences between the library's networks and keras-io's, layer by layer; `[]` when none."""
    differences = []
    pairs = zip(("generator", "critic"), published_networks(),
                (wgan_gp_generator(LATENT, seed=seed), wgan_gp_critic(seed=seed)))
    for name, published, ours in pairs:
        a = [layer_signature(l) for l in published.layers if not isinstance(l, keras.layers.InputLayer)]
        b = [layer_signature(l) for l in ours.layers if not isinstance(l, keras.layers.InputLayer)]
        if len(a) != len(b):
            differences.append(f"{name}: {len(a)} layers in keras-io's, {len(b)} in ours")
        for i, (sa, sb) in enumerate(zip(a, b)):
            if sa != sb:
                differences.append(f"{name} layer {i}: keras-io {sa} / ours {sb}")
        if published.count_params() != ours.count_params():
            differences.append(f"{name}: {published.count_params()} parameters in keras-io's, "
                               f"{ours.count_params()} in ours")
        shapes = [tuple(w.shape) for w in published.weights], [tuple(w.shape) for w in ours.weights]
        if shapes[0] != shapes[1]:
            differences.append(f"{name}: weight shapes differ")
    return differences


# ------------------------------------------------------------------ our model
def make_ours(seed, config, spe):
    """`WGANGP(seed=S)` built under the configuration's dtype policy, compiled with its options."""
    mixed, jit, steps = OURS[config]
    with compute_policy(mixed):
        model = WGANGP(seed=seed)
    model.compile(jit_compile=jit, steps_per_execution=spe if steps is None else steps)
    return model


def describe(config, spe):
    mixed, jit, steps = OURS[config]
    steps = spe if steps is None else steps
    return (f"ours, {'mixed_bfloat16' if mixed else 'float32'}, jit_compile={jit}"
            + (f", steps_per_execution={steps}" if steps != 1 else ""))


# ------------------------------------------------------------------ training
def train_recipe(x, seed, budget=None, epochs=1000, batch_size=BATCH):
    """keras-io's model trained on `x` for `epochs`, or until `budget` seconds; `(model, clock)`."""
    keras.utils.set_random_seed(seed)
    clock = training.TrainingClock(time.perf_counter(), budget)
    model = make_recipe(seed)
    model.fit(x, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[clock])
    return model, clock


def train_ours(x, seed, config, spe, budget=None, epochs=1000, batch_size=BATCH):
    """Our model (built and compiled inside the budget) trained on `x`; `(model, clock)`."""
    keras.utils.set_random_seed(seed)
    clock = training.TrainingClock(time.perf_counter(), budget)
    model = make_ours(seed, config, spe)
    model.fit(x, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[clock])
    return model, clock


def seconds_per_step(clock, warmup):
    """`(wall s/step, CPU s/step, steps)` between the first batch end at or after `warmup` steps and the last."""
    first = next(i for i, s in enumerate(clock.steps) if s >= warmup)
    steps = clock.steps[-1] - clock.steps[first]
    return ((clock.times[-1] - clock.times[first]) / steps, (clock.cpu_times[-1] - clock.cpu_times[first]) / steps,
            steps)


def load_data(limit=None):
    x = gan_data.load_images("fashion_mnist", "train")
    return x[:limit] if limit else x


# --------------------------------------------------------------------- part 1
def speed(args):
    warm, timed, batch = args.warmup, args.timed_steps, args.batch_size
    differences = compare_architectures()
    print("Networks: the library's wgan_gp_generator / wgan_gp_critic against keras-io's, layer by layer: "
          + ("the same layers, configurations, initialisers and parameter counts" if not differences
             else "; ".join(differences)), flush=True)
    spes = [1] + [args.spe if OURS[c][2] is None else OURS[c][2] for c in args.configs]
    steps_needed = max(-(-warm // k) * k + -(-timed // k) * k for k in spes)  # whole groups of k steps
    x = load_data(limit=steps_needed * batch)
    print(f"Part 1: seconds per training step (3 critic + 1 generator updates, batch {batch}), {warm} warm-up + "
          f"~{timed} timed steps each; TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    runs = [("keras-io's recipe (as published)", "recipe", lambda: train_recipe(x, 0, epochs=1, batch_size=batch))]
    for config in args.configs:
        runs.append((describe(config, args.spe), config,
                     lambda c=config: train_ours(x, 0, c, args.spe, epochs=1, batch_size=batch)))
    if args.drift_check:
        runs.append(("keras-io's recipe again (drift check)", "recipe",
                     lambda: train_recipe(x, 0, epochs=1, batch_size=batch)))
    rows = []
    for name, config, run in runs:
        load = os.getloadavg()[0]
        model, clock = run()
        s, cpu, steps = seconds_per_step(clock, warm)
        first = next(i for i, n in enumerate(clock.steps) if n >= warm)
        rows.append({"name": name, "config": config, "jit_compile": model.jit_compile,
                     "steps_per_execution": model.steps_per_execution, "seconds_per_step": s,
                     "cpu_seconds_per_step": cpu, "timed_steps": steps,
                     "warmup_seconds": clock.times[first] - clock.start, "load_average_before": load,
                     "load_average_after": os.getloadavg()[0], "last_metrics": clock.last_logs})
        print(f"  {name:58s} {s:7.2f} s/step, CPU {cpu:6.2f} s/step (over {steps} steps; "
              f"{rows[-1]['warmup_seconds']:.0f} s to the end of the warm-up; load {load:.1f})", flush=True)
    recipe = [r for r in rows if r["config"] == "recipe"]
    base = float(np.mean([r["seconds_per_step"] for r in recipe]))
    base_cpu = float(np.mean([r["cpu_seconds_per_step"] for r in recipe]))
    print(f"\n  {'':58s} {'s/step':>7s}  {'keras-io / it':>13s}  {'CPU s/step':>10s}  {'keras-io / it':>13s}")
    for r in rows:
        r["speedup_over_recipe"] = base / r["seconds_per_step"]
        r["cpu_speedup_over_recipe"] = base_cpu / r["cpu_seconds_per_step"]
        print(f"  {r['name']:58s} {r['seconds_per_step']:7.2f}  {r['speedup_over_recipe']:12.2f}x  "
              f"{r['cpu_seconds_per_step']:10.2f}  {r['cpu_speedup_over_recipe']:12.2f}x")
    ours = [r for r in rows if r["config"] != "recipe"]
    best = min(ours, key=lambda r: r["seconds_per_step"]) if ours else None
    drift = (f"; drift between them {100 * (recipe[-1]['seconds_per_step'] / recipe[0]['seconds_per_step'] - 1):+.0f}%"
             if len(recipe) > 1 else "")
    print(f"  (keras-io = mean of its {len(recipe)} run(s), {base:.2f} s/step{drift}; target: ours >= 1.5x)")
    if best is not None:
        print(f"  fastest of ours: {best['name']} ({best['config']}), {best['speedup_over_recipe']:.2f}x keras-io's "
              f"speed", flush=True)
    out = {"date": time.strftime("%Y-%m-%d"), "command": command_line(), "batch_size": batch, "warmup_steps": warm,
           "timed_steps": timed, "rows": rows, "recipe_seconds_per_step": base,
           "recipe_cpu_seconds_per_step": base_cpu,
           "fastest": None if best is None else best["config"], "architecture_differences": differences,
           "environment": environment()}
    if args.json:
        write_json(args.json, out)
    return out


# --------------------------------------------------------------------- part 2
def score(images, n):
    q = image_quality(gan_data.to_unit_images(images), "fashion_mnist:test", n=n, seed=0)
    return {k: q[k] for k in ("fd", "kd_mean", "kd_std", "precision", "recall", "n_samples", "features",
                              "seconds")}


def quality_seed(args, seed, x):
    order = ["keras_io", "ours"] if seed % 2 == 0 else ["ours", "keras_io"]
    print(f"\nseed {seed}: {args.budget:.0f} s of training each, {' then '.join(order)}; ours = "
          f"{describe(args.ours, args.spe)}; load average {os.getloadavg()[0]:.1f}", flush=True)
    load_start = os.getloadavg()
    trained, report = {}, {}
    for side in order:
        if side == "keras_io":
            model, clock = train_recipe(x, seed, budget=args.budget, batch_size=args.batch_size)
        else:
            model, clock = train_ours(x, seed, args.ours, args.spe, budget=args.budget, batch_size=args.batch_size)
        steps = clock.total_steps
        trained[side] = model
        report[side] = {"generator_steps": steps, "critic_steps": CRITIC_STEPS * steps,
                        "images_seen": steps * args.batch_size,
                        "train_seconds": clock.times[-1] - clock.start if steps else 0.0,
                        "first_step_seconds": clock.times[0] - clock.start if steps else None,
                        "seconds_per_step_after_first": (clock.times[-1] - clock.times[0]) / (steps - clock.steps[0])
                        if steps > clock.steps[0] else None,
                        "last_metrics": clock.last_logs}
        print(f"  {side:8s}: {steps} generator steps ({steps * args.batch_size} images) in "
              f"{report[side]['train_seconds']:.1f} s (first step done at {report[side]['first_step_seconds']:.1f} s)",
              flush=True)
    for side in ("keras_io", "ours"):
        start = time.perf_counter()
        if side == "keras_io":
            images = recipe_sample(trained[side], args.samples, seed)
        else:
            images = trained[side].sample(args.samples, seed=seed)
        sample_seconds = time.perf_counter() - start
        q = dict(score(images, args.samples), sample_seconds=sample_seconds)
        report[side]["quality"] = q
        print(f"  {side:8s}: FD {q['fd']:.2f}, KD {q['kd_mean']:.4f} ± {q['kd_std']:.4f}, precision "
              f"{q['precision']:.3f}, recall {q['recall']:.3f}", flush=True)
    k, o = report["keras_io"], report["ours"]
    out = {"seed": seed, "date": time.strftime("%Y-%m-%d"), "command": command_line(), "budget_seconds": args.budget,
           "order": order, "batch_size": args.batch_size, "train_images": len(x), "n_samples": args.samples,
           "ours_config": args.ours, "ours_description": describe(args.ours, args.spe),
           "keras_io": k, "ours": o,
           "steps_ratio": o["generator_steps"] / max(k["generator_steps"], 1),
           "differences": {m: o["quality"][m] - k["quality"][m] for m in ("fd", "kd_mean", "precision", "recall")},
           "environment": dict(environment(), load_average_start=load_start)}
    print(f"  ours / keras-io steps {out['steps_ratio']:.2f}x; ours − keras-io: FD {out['differences']['fd']:+.2f}, "
          f"recall {out['differences']['recall']:+.3f}", flush=True)
    return out


def quality(args):
    x = load_data(limit=args.limit)
    print(f"Part 2: quality at an equal wall-clock budget of {args.budget:.0f} s; {len(x)} training images, "
          f"batch {args.batch_size}, {args.samples} samples scored against fashion_mnist:test; results in "
          f"{args.results_dir}", flush=True)
    outs = []
    for seed in args.seeds:
        out = quality_seed(args, seed, x)
        write_json(seed_path(args.results_dir, "wgan_gp", seed), out)
        outs.append(out)
    summarize(args.results_dir, [o["seed"] for o in outs])


# --------------------------------------------------------------------- summary
def summarize(results_dir, seeds=None):
    """Print the figures of bench/results/wgan_gp_seed*.json: per seed, mean ± sample sd, paired differences."""
    runs = load_seeds(results_dir, "wgan_gp", seeds)
    if not runs:
        print(f"no wgan_gp_seed*.json in {results_dir}")
        return None
    return summarize_keras_io_pairs(runs, "generator_steps")


# --------------------------------------------------------------------- main
def command_line():
    return "python bench/keras_io_wgan_gp.py " + " ".join(sys.argv[1:])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["speed", "quality", "both"], default="both")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--budget", type=float, default=150.0, help="part 2: seconds of training per side and seed")
    p.add_argument("--samples", type=int, default=2000, help="part 2: samples scored per side")
    p.add_argument("--ours", choices=sorted(OURS), default="bf16-noxla", help="part 2: our configuration")
    p.add_argument("--configs", choices=sorted(OURS), nargs="+", default=["f32-noxla", "bf16-noxla", "bf16-noxla-spe"],
                   help="part 1: our configurations")
    p.add_argument("--spe", type=int, default=2, help="steps_per_execution of the '-spe' configurations")
    p.add_argument("--no-drift-check", dest="drift_check", action="store_false",
                   help="part 1: leave out keras-io's second run")
    p.add_argument("--warmup", type=int, default=2, help="part 1: untimed steps")
    p.add_argument("--timed-steps", type=int, default=10, help="part 1: timed steps")
    p.add_argument("--batch-size", type=int, default=BATCH, help="both parts (keras-io's 512)")
    p.add_argument("--limit", type=int, default=None, help="part 2: train on the first N images")
    p.add_argument("--results-dir", default=None, help="default bench/results (a temporary folder with --quick)")
    p.add_argument("--json", default=None, help="part 1: also write its figures to this file")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: batch 64 on 2,560 images, keras-io once and ours bf16-noxla, 1 + 2 timed steps, "
                        "12 s budget, 200 samples")
    p.add_argument("--summarize", action="store_true", help="only print the summary of the seed files present")
    args = p.parse_args(argv)
    if args.results_dir is None:
        args.results_dir = tempfile.mkdtemp(prefix="wgan_gp_quick_") if args.quick else RESULTS
    if args.summarize:
        return 0 if summarize(args.results_dir) is not None else 1
    if args.quick:
        args.batch_size, args.warmup, args.timed_steps, args.budget, args.samples = 64, 1, 2, 12.0, 200
        args.configs, args.limit, args.drift_check = ["bf16-noxla"], 64 * 40, False
    if args.part in ("speed", "both"):
        speed(args)
    if args.part in ("quality", "both"):
        quality(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
