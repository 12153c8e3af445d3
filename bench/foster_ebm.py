"""Foster's energy-based model recipe against `keras_genmodels.ebm.EnergyBasedModel`, in one process.

    python bench/foster_ebm.py --quick                                     # smoke run (~3 min)
    python bench/foster_ebm.py --part speed                                # ~3 min on 2 cores
    python bench/foster_ebm.py --part quality --seeds 0 1 2 3 4 --budget 300   # ~55 min
    python bench/foster_ebm.py --summarize                                 # bench/results/foster_ebm_seed*.json

Both sides train on Fashion-MNIST's 60,000 training images in [−1, 1],
padded to 32 x 32 (the remainder of 96 images is dropped, so that every batch
has 128: see `foster_ebm_recipe`'s docstring for the recipe's last-batch
flaw), with Foster's hyperparameters (60 Langevin steps of size 10, noise
0.005, gradient clip 0.03, α = 0.1, a buffer of 8,192 with 5% restarts,
Adam(1e-4), batch 128) and his network, from the same initial weights
(`conv_energy_network(seed=S)`):

- Foster's recipe (`bench/foster_ebm_recipe.py`): eager training step
  (`run_eagerly=True`), eager Langevin loop, Python-list buffer, his
  `tf.data` pipeline (file order);
- ours: `EnergyBasedModel((32, 32, 1), seed=S)` with its defaults (the same
  hyperparameters; its energy E is his score with the sign changed),
  `compile(Adam(1e-4))`, `fit` on the NumPy images, batch 128.

Part 1 (speed): training steps per second, after 2 warm-up steps (ours
traces and compiles its step in them), timed over the next 10 by the batch-end
times of one `fit` call (no set-up or tear-down in the figure), interleaved in
this order: Foster, ours (float32), ours (`mixed_bfloat16` policy while the
model is built: the network in bfloat16, the chains in float32), Foster again
(drift check). Prints steps/s and the ratio ours / Foster (mean of Foster's
two runs).

Part 2 (quality at an equal wall-clock budget): per seed, each side trains
for `--budget` seconds of wall clock (counted from the call of `fit`, so our
tracing is inside the budget; a callback stops `fit` at the first batch end
past it), the side that goes first alternating with the seed. Both are then
sampled by the same compiled sampler: Foster's trained network (its last
layer negated, E = −score) and his buffer list (the first min(len, 8192)
entries) are copied into an `EnergyBasedModel`, and each model draws
`model.sample(1000, seed=S, start="buffer", steps=60)`, scored by
`image_quality(to_unit_images(x), "fashion_mnist:test", n=1000, seed=0)`
(FD, KD, precision, recall in the library's Fashion-MNIST features). One
JSON per seed goes to bench/results/foster_ebm_seed{S}.json; `--summarize`
prints the per-seed figures and their mean ± sample sd.

The machine's load average is recorded: on a shared machine, timings are
only comparable within one run, which is why the two sides are interleaved.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from foster_ebm_recipe import preprocess, recipe_dataset, recipe_model
from seeded_runs import environment, load_seeds, mean_sd, seed_path, write_json

from keras_genmodels import datasets, training
from keras_genmodels.ebm import EnergyBasedModel
from keras_genmodels.ebm import data as ebm_data
from keras_genmodels.metrics.images import image_quality

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
BATCH = 128
LEARNING_RATE = 1e-4
LANGEVIN_STEPS = 60


def whole_batches(n):
    return (n // BATCH) * BATCH


def load_data(limit=None):
    """`(his images, our images)`: the same training images, each side's own preprocessing, whole batches."""
    raw = datasets.load_arrays("fashion_mnist", "train", with_labels=False)
    ours = ebm_data.load_images("fashion_mnist", "train")
    n = whole_batches(limit or len(raw))
    his, ours = preprocess(raw[:n]), ours[:n]
    gap = float(np.max(np.abs(his - ours)))
    assert gap < 1e-5, f"the two preprocessings differ by {gap}"
    return his, ours


def make_ours(seed, mixed_bf16=False):
    previous = keras.mixed_precision.global_policy()
    if mixed_bf16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = EnergyBasedModel((32, 32, 1), seed=seed)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), steps_per_execution=1)
    return model


def train_foster(x, seed, budget=None, epochs=1000):
    """Foster's model trained on `x` for `epochs`, or until `budget` seconds; `(model, clock)`."""
    keras.utils.set_random_seed(seed)
    model = recipe_model(seed=seed, learning_rate=LEARNING_RATE)
    clock = training.TrainingClock(time.perf_counter(), budget)
    # His `fit(..., shuffle=True)` is ignored for a dataset; False only silences Keras's warning.
    model.fit(recipe_dataset(x, BATCH), epochs=epochs, verbose=0, callbacks=[clock], shuffle=False)
    return model, clock


def train_ours(x, seed, budget=None, epochs=1000, mixed_bf16=False):
    """Our model (built and compiled inside the budget) trained on `x`; `(model, clock)`."""
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    model = make_ours(seed, mixed_bf16)
    clock = training.TrainingClock(start, budget)
    model.fit(x, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[clock])
    return model, clock


def steps_per_second(clock, warmup):
    t = clock.times
    return (len(t) - warmup) / (t[-1] - t[warmup - 1])


def chain_floor_seconds(repeats=3):
    """Median time of the 60 Langevin steps alone, for 128 images, in one raw TensorFlow graph.

    The chain of a training step (gradient of the network's output with
    respect to its input, clipped step, noise, clip to [−1, 1]) in a
    `tf.function` loop without XLA (here XLA makes this loop several times
    slower), with no buffer, optimizer step or Keras: a floor under both
    sides' steps, since a step is these 60 gradients plus one training pass.
    """
    from keras_genmodels.ebm.networks import conv_energy_network

    network = conv_energy_network((32, 32, 1), seed=0)
    x0 = tf.random.uniform((BATCH, 32, 32, 1), -1.0, 1.0, seed=0)

    @tf.function(jit_compile=False)
    def chain(x):
        for _ in tf.range(LANGEVIN_STEPS):
            with tf.GradientTape() as tape:
                tape.watch(x)
                energy = tf.reduce_sum(network(x))
            g = tf.clip_by_value(tape.gradient(energy, x), -0.03, 0.03)
            x = tf.clip_by_value(x - 10.0 * g + 0.005 * tf.random.normal(tf.shape(x)), -1.0, 1.0)
        return x

    chain(x0).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        chain(x0).numpy()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# --------------------------------------------------------------------- part 1
def speed(args):
    warm, timed = args.warmup, args.timed_steps
    his, ours = load_data(limit=(warm + timed) * BATCH)
    print(f"Part 1: training steps per second, {warm} warm-up + {timed} timed steps each, batch {BATCH}, "
          f"{LANGEVIN_STEPS} Langevin steps per training step; TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    runs = [("Foster's recipe (eager, list buffer)", lambda: train_foster(his, 0, epochs=1)),
            ("ours, float32", lambda: train_ours(ours, 0, epochs=1)),
            ("ours, mixed_bfloat16", lambda: train_ours(ours, 0, epochs=1, mixed_bf16=True)),
            ("Foster's recipe again (drift check)", lambda: train_foster(his, 0, epochs=1))]
    rows = []
    for name, run in runs:
        _, clock = run()
        rate = steps_per_second(clock, warm)
        rows.append({"name": name, "steps_per_second": rate, "seconds_per_step": 1.0 / rate,
                     "warmup_seconds": clock.times[warm - 1] - clock.start})
        print(f"  {name:38s} {rate:7.3f} steps/s ({1.0 / rate:6.2f} s/step)", flush=True)
    floor = chain_floor_seconds()
    print(f"  the 60 chain steps alone, raw TensorFlow graph: {floor:.2f} s (a floor under one step)", flush=True)
    base = 0.5 * (rows[0]["steps_per_second"] + rows[-1]["steps_per_second"])
    print(f"\n  {'':38s} {'steps/s':>8s}  {'ours / Foster':>13s}")
    for r in rows:
        r["ratio_to_foster"] = r["steps_per_second"] / base
        print(f"  {r['name']:38s} {r['steps_per_second']:8.3f}  {r['ratio_to_foster']:12.2f}x")
    print(f"  (Foster = mean of his two runs, {base:.3f} steps/s; drift between them "
          f"{100 * (rows[-1]['steps_per_second'] / rows[0]['steps_per_second'] - 1):+.0f}%; target: ours >= 5x)")
    print(f"  ours float32 spends {floor * rows[1]['steps_per_second']:.0%} of its step in the equivalent of "
          f"that raw chain; Foster's step takes {rows[0]['seconds_per_step'] / floor:.1f}x "
          f"({rows[-1]['seconds_per_step'] / floor:.1f}x in his second run) that floor, the most that the same "
          f"float32 computation, compiled, can gain over it here")
    out = {"date": time.strftime("%Y-%m-%d"), "command": command_line(), "warmup_steps": warm,
           "chain_floor_seconds": floor,
           "timed_steps": timed, "rows": rows, "foster_steps_per_second": base,
           "environment": environment()}
    if args.json:
        write_json(args.json, out)
    return out


# --------------------------------------------------------------------- part 2
def scoring_model(recipe, seed):
    """An `EnergyBasedModel` holding Foster's trained network (E = −score) and his buffer list."""
    examples = recipe.buffer.examples[: recipe.buffer.buffer_size]
    model = EnergyBasedModel((32, 32, 1), buffer_size=len(examples), seed=seed)
    model.energy_network.set_weights(recipe.network.get_weights())
    last = model.energy_network.get_layer("energy_out")
    last.set_weights([-w for w in last.get_weights()])  # E(x) = −s(x)
    model.buffer.assign(np.concatenate([np.asarray(e) for e in examples]))
    return model


def score(model, seed, n_samples):
    start = time.perf_counter()
    x = model.sample(n_samples, seed=seed, start="buffer", steps=LANGEVIN_STEPS)
    sample_seconds = time.perf_counter() - start
    q = image_quality(ebm_data.to_unit_images(x), "fashion_mnist:test", n=n_samples, seed=0)
    return dict(q, sample_seconds=sample_seconds)


def quality_seed(args, seed, his, ours):
    order = ["foster", "ours"] if seed % 2 == 0 else ["ours", "foster"]
    print(f"\nseed {seed}: {args.budget:.0f} s of training each, {' then '.join(order)}; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    load_start = os.getloadavg()
    trained, report = {}, {}
    for side in order:
        if side == "foster":
            model, clock = train_foster(his, seed, budget=args.budget)
        else:
            model, clock = train_ours(ours, seed, budget=args.budget)
        steps = len(clock.times)
        trained[side] = model
        report[side] = {"steps": steps, "images_seen": steps * BATCH,
                        "train_seconds": clock.times[-1] - clock.start if steps else 0.0,
                        "steps_per_second_after_first": (steps - 1) / (clock.times[-1] - clock.times[0])
                        if steps > 1 else None,
                        "last_metrics": clock.last_logs}
        print(f"  {side:6s}: {steps} steps ({steps * BATCH} images) in {report[side]['train_seconds']:.1f} s",
              flush=True)
    report["foster"]["buffer_entries"] = min(len(trained["foster"].buffer.examples), trained["foster"].buffer.buffer_size)
    samplers = {"foster": scoring_model(trained["foster"], seed), "ours": trained["ours"]}
    for side in ("foster", "ours"):
        q = score(samplers[side], seed, args.samples)
        report[side]["quality"] = q
        print(f"  {side:6s}: FD {q['fd']:.2f}, KD {q['kd_mean']:.4f} ± {q['kd_std']:.4f}, precision "
              f"{q['precision']:.3f}, recall {q['recall']:.3f} (sampling {q['sample_seconds']:.1f} s)", flush=True)
    out = {"seed": seed, "date": time.strftime("%Y-%m-%d"), "command": command_line(), "budget_seconds": args.budget,
           "order": order, "batch_size": BATCH, "train_images": len(ours), "n_samples": args.samples,
           "sampler": f"EnergyBasedModel.sample(n, seed={seed}, start='buffer', steps={LANGEVIN_STEPS})",
           "foster": report["foster"], "ours": report["ours"],
           "steps_ratio": report["ours"]["steps"] / max(report["foster"]["steps"], 1),
           "fd_difference": report["ours"]["quality"]["fd"] - report["foster"]["quality"]["fd"],
           "environment": dict(environment(), load_average_start=load_start)}
    print(f"  ours / Foster steps {out['steps_ratio']:.2f}x; FD ours − Foster {out['fd_difference']:+.2f}", flush=True)
    return out


def quality(args):
    his, ours = load_data(limit=args.limit)
    print(f"Part 2: quality at an equal wall-clock budget of {args.budget:.0f} s; {len(ours)} training images, "
          f"{args.samples} samples scored against fashion_mnist:test; results in {args.results_dir}")
    outs = []
    for seed in args.seeds:
        out = quality_seed(args, seed, his, ours)
        write_json(seed_path(args.results_dir, "foster_ebm", seed), out)
        outs.append(out)
    summarize(args.results_dir, [o["seed"] for o in outs])


# --------------------------------------------------------------------- summary
def summarize(results_dir, seeds=None):
    """Print the per-seed figures of bench/results/foster_ebm_seed*.json and their mean ± sample sd."""
    runs = load_seeds(results_dir, "foster_ebm", seeds)
    if not runs:
        print(f"no foster_ebm_seed*.json in {results_dir}")
        return None
    print(f"\n{'seed':>4}  {'first':>6}  {'steps F':>7}  {'steps ours':>10}  {'ratio':>6}  {'FD Foster':>9}  "
          f"{'FD ours':>8}  {'ours − F':>8}  {'prec F/ours':>11}  {'recall F/ours':>13}")
    for r in runs:
        f, o = r["foster"], r["ours"]
        print(f"{r['seed']:>4}  {r['order'][0]:>6}  {f['steps']:>7}  {o['steps']:>10}  {r['steps_ratio']:5.2f}x  "
              f"{f['quality']['fd']:9.2f}  {o['quality']['fd']:8.2f}  {r['fd_difference']:+8.2f}  "
              f"{f['quality']['precision']:5.3f}/{o['quality']['precision']:5.3f}  "
              f"{f['quality']['recall']:6.3f}/{o['quality']['recall']:6.3f}")
    keys = {"steps_foster": lambda r: r["foster"]["steps"], "steps_ours": lambda r: r["ours"]["steps"],
            "steps_ratio": lambda r: r["steps_ratio"],
            "fd_foster": lambda r: r["foster"]["quality"]["fd"], "fd_ours": lambda r: r["ours"]["quality"]["fd"],
            "fd_difference": lambda r: r["fd_difference"],
            "kd_foster": lambda r: r["foster"]["quality"]["kd_mean"], "kd_ours": lambda r: r["ours"]["quality"]["kd_mean"],
            "precision_foster": lambda r: r["foster"]["quality"]["precision"],
            "precision_ours": lambda r: r["ours"]["quality"]["precision"],
            "recall_foster": lambda r: r["foster"]["quality"]["recall"],
            "recall_ours": lambda r: r["ours"]["quality"]["recall"]}
    summary = {name: dict(zip(("mean", "sd"), mean_sd([get(r) for r in runs]))) for name, get in keys.items()}
    s = summary
    budgets = sorted({r["budget_seconds"] for r in runs})
    print(f"over {len(runs)} seed(s) {[r['seed'] for r in runs]} (mean ± sample sd; budget {budgets} s):")
    print(f"  steps: Foster {s['steps_foster']['mean']:.1f} ± {s['steps_foster']['sd']:.1f}, ours "
          f"{s['steps_ours']['mean']:.1f} ± {s['steps_ours']['sd']:.1f} (ratio {s['steps_ratio']['mean']:.2f} ± "
          f"{s['steps_ratio']['sd']:.2f}x)")
    print(f"  FD: Foster {s['fd_foster']['mean']:.2f} ± {s['fd_foster']['sd']:.2f}, ours {s['fd_ours']['mean']:.2f} ± "
          f"{s['fd_ours']['sd']:.2f}; paired difference ours − Foster {s['fd_difference']['mean']:+.2f} ± "
          f"{s['fd_difference']['sd']:.2f} (ours lower on {sum(r['fd_difference'] < 0 for r in runs)} of {len(runs)})")
    print(f"  KD: Foster {s['kd_foster']['mean']:.4f} ± {s['kd_foster']['sd']:.4f}, ours {s['kd_ours']['mean']:.4f} ± "
          f"{s['kd_ours']['sd']:.4f}; precision {s['precision_foster']['mean']:.3f} / {s['precision_ours']['mean']:.3f}, "
          f"recall {s['recall_foster']['mean']:.3f} / {s['recall_ours']['mean']:.3f} (Foster / ours)")
    return summary


# --------------------------------------------------------------------- main
def command_line():
    return "python bench/foster_ebm.py " + " ".join(sys.argv[1:])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["speed", "quality", "both"], default="both")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--budget", type=float, default=300.0, help="seconds of training per side and seed")
    p.add_argument("--samples", type=int, default=1000, help="samples scored per side")
    p.add_argument("--warmup", type=int, default=2, help="part 1: untimed steps")
    p.add_argument("--timed-steps", type=int, default=10, help="part 1: timed steps")
    p.add_argument("--limit", type=int, default=None, help="part 2: train on the first N images")
    p.add_argument("--results-dir", default=None, help="default bench/results (a temporary folder with --quick)")
    p.add_argument("--json", default=None, help="part 1: also write its figures to this file")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 + 2 timed steps, 20 s budget, 200 samples")
    p.add_argument("--summarize", action="store_true", help="only print the summary of the seed files present")
    args = p.parse_args(argv)
    if args.results_dir is None:
        args.results_dir = tempfile.mkdtemp(prefix="foster_ebm_quick_") if args.quick else RESULTS
    if args.summarize:
        return 0 if summarize(args.results_dir) is not None else 1
    if args.quick:
        args.warmup, args.timed_steps, args.budget, args.samples = 1, 2, 20.0, 200
    if args.part in ("speed", "both"):
        speed(args)
    if args.part in ("quality", "both"):
        quality(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
