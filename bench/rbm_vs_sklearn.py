"""scikit-learn's BernoulliRBM against keras_genmodels' BernoulliRBM (issue 3).

    python bench/rbm_vs_sklearn.py --epochs 5 --json rbm_bench.json

In one run, on binarised Fashion-MNIST (pixel > 127; 60,000 training and
10,000 test images), 500 hidden units, batch 100, equal epochs and equal
learning rate:

1. scikit-learn's `BernoulliRBM` (PCD-1, float32) trains in a child process
   that never imports TensorFlow (TensorFlow's idle thread pools and
   OpenBLAS's would otherwise compete for the same cores), one epoch at a
   time, interleaved with ours, so that both see the same machine load;
2. ours trains with PCD-1 as well (same step, same cost) in one call of
   `model.fit(x, epochs=E)`, as a user would run it: a callback times each of
   our epochs and, between them, lets scikit-learn run one of its own while
   our training waits. Ours adds what the literature knows: the centred
   gradient (Melchior et al. 2016), SGD momentum 0.5 (0.9 makes PCD-1
   unstable at this learning rate) and a learning rate that decays linearly
   to 0 over the run (Tieleman 2008's PCD decays it too: at a constant 0.01
   the model's test log-likelihood swings by ~20 nats from one few hundred
   updates to the next, so the figure depends on where the seed stops;
   `--no-decay` gives the constant rate, `--final-learning-rate` another end);
3. both models' test log-likelihoods are estimated by our AIS
   (Salakhutdinov & Murray's schedule, 100 chains; scikit-learn's weights are
   imported with `BernoulliRBM.from_sklearn`).

Printed: samples/second of each and their ratio (median epoch after the
first, which includes tracing and XLA compilation; the rate counting every
epoch and `fit`'s set-up is printed too); the achieved GFLOP/s of our
training step against the measured rate of one matmul at the step's shape
(batch x 784 x 500, the faster of TensorFlow's graph executor and XLA), and
the rate of a minimal hand-written PCD-1 step in raw TensorFlow compiled the
same two ways (a ceiling for any implementation here); both test
log-likelihoods; the AIS times, and our AIS's time as a multiple of the time its
two matmuls per temperature alone take at the matmul rate measured (its floor).
The machine's load average and a gauge of its speed
(NumPy's 1000^3 matmul rate, before and after training) are printed too: on
a shared machine, timings are only comparable within one run.
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _read_split(local_dir, split, limit=None):
    """Binarised (pixel > 127) images as float32 (N, 784), without importing TensorFlow."""
    import importlib.util

    # keras_genmodels/__init__ imports Keras; load the IDX reader on its own.
    spec = importlib.util.spec_from_file_location(
        "_idx", os.path.join(HERE, "..", "keras_genmodels", "idx.py")
    )
    idx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(idx)
    prefix = "train" if split == "train" else "t10k"
    images = idx.read_idx(os.path.join(local_dir, f"{prefix}-images-idx3-ubyte.gz"))
    images = images[:limit] if limit else images
    return (images.reshape(images.shape[0], -1) > 127).astype("float32")


def sklearn_worker(args):
    """Train scikit-learn's RBM one epoch per "epoch" line read from stdin.

    Runs exactly the loop of `BernoulliRBM.fit` (`_fit` on each mini-batch),
    one epoch at a time, so that the parent can interleave scikit-learn's
    epochs with ours: on a shared machine both then see the same load.
    Prints each epoch's seconds; on "machine", the machine's large-matmul
    rate (`_reference_gflops`); on "done", saves the weights.
    """
    from sklearn.neural_network import BernoulliRBM
    from sklearn.utils import check_random_state, gen_even_slices

    x = _read_split(args.local_dir, "train", args.limit)
    rbm = BernoulliRBM(
        n_components=args.hidden,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        n_iter=0,
        random_state=args.seed,
    ).fit(x)  # n_iter=0: fit initialises W ~ N(0, 0.01), zero biases and chains only
    rng = check_random_state(args.seed)
    n_batches = int(np.ceil(x.shape[0] / args.batch_size))
    slices = list(gen_even_slices(n_batches * args.batch_size, n_batches, n_samples=x.shape[0]))
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "machine":
            print(_reference_gflops(), flush=True)
            continue
        if line.strip() != "epoch":
            break
        start = time.perf_counter()
        for batch in slices:
            rbm._fit(x[batch], rng)
        print(time.perf_counter() - start, flush=True)
    np.savez(
        args.sklearn_worker,
        components=rbm.components_,
        intercept_hidden=rbm.intercept_hidden_,
        intercept_visible=rbm.intercept_visible_,
        dtype=str(rbm.components_.dtype),
    )


def numpy_ais(w, b, c, base_logits, betas, n_chains=100, seed=0):
    """An independent NumPy AIS of log Z (Salakhutdinov & Murray 2008), for comparison.

    The same algorithm as `log_partition_ais`, written directly: base-rate model
    p_A(v) from `base_logits`, one Gibbs sweep per temperature, float32 matmuls
    (OpenBLAS), float64 log weights with the softplus difference computed by
    `np.logaddexp` in float64. Returns (log Z, seconds).
    """
    rng = np.random.default_rng(seed)
    w, b, c, b_a = (np.asarray(t, "float32") for t in (w, b, c, base_logits))
    w_t = np.ascontiguousarray(w.T)
    n_hidden = w.shape[1]
    log_z_a = float(np.sum(np.logaddexp(0.0, b_a.astype("float64")))) + n_hidden * np.log(2.0)
    start = time.perf_counter()
    v = (rng.random((n_chains, w.shape[0]), dtype="float32") < 1.0 / (1.0 + np.exp(-b_a))).astype("float32")
    log_w = np.zeros(n_chains)
    ratio = (b - b_a).astype("float64")
    for beta_prev, beta in itertools.pairwise(betas):
        pre = (v @ w + c).astype("float64")
        log_w += (beta - beta_prev) * (v @ ratio) + np.sum(
            np.logaddexp(0.0, beta * pre) - np.logaddexp(0.0, beta_prev * pre), axis=1)
        p_h = 1.0 / (1.0 + np.exp(-beta * pre))
        h = (rng.random(p_h.shape) < p_h).astype("float32")
        p_v = 1.0 / (1.0 + np.exp(-(beta * (h @ w_t + b) + (1.0 - beta) * b_a)))
        v = (rng.random(p_v.shape, dtype="float32") < p_v).astype("float32")
    top = log_w.max()
    return log_z_a + top + float(np.log(np.mean(np.exp(log_w - top)))), time.perf_counter() - start


def _numpy_ais_worker(path):
    """Run `numpy_ais` on the weights saved at `path`; print one JSON line."""
    d = np.load(path)
    log_z, seconds = numpy_ais(d["w"], d["b"], d["c"], d["base_logits"], d["betas"],
                               int(d["n_chains"]), int(d["seed"]))
    print(json.dumps({"log_z": log_z, "seconds": seconds}), flush=True)


def _reference_gflops(seconds=3.0):
    """NumPy's (OpenBLAS's) median rate for 1000 x 1000 float32 matmuls over `seconds`.

    A gauge of the machine's state: on this shared virtual machine it moves
    between ~95 and ~160 GFLOP/s over the day, and every absolute time with it.
    """
    a = np.random.default_rng(0).random((1000, 1000), dtype="float32")
    rates, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        a @ a
        rates.append(2e9 / (time.perf_counter() - start) / 1e9)
    return float(np.median(rates))


def _median_seconds(loop, repeats):
    """Median wall time of `loop()` (a compiled function) after one warm-up call."""
    loop()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        loop().numpy()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _loop(body, steps, jit_compile):
    """`body(i)` (a scalar) summed over i < steps in one compiled while loop."""
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile)
    def loop():
        return tf.while_loop(lambda i, a: i < steps, lambda i, a: (i + 1, a + body(i)), [0, 0.0])[1]

    return loop


def _matmul_gflops(batch, n_visible, n_hidden, jit_compile, repeats=5, steps=300):
    """Median rate of a (batch, D) x (D, H) float32 matmul in a compiled loop.

    The median (as for our epochs), not the best, so that both are measured
    alike on a shared machine. The whole product is reduced, so that XLA
    cannot compute only the element it returns.
    """
    import tensorflow as tf

    w = tf.Variable(tf.random.normal((n_visible, n_hidden)) * 0.01)
    x = tf.random.uniform((batch, n_visible))

    def body(i):
        return tf.reduce_sum(tf.matmul(x + 1e-6 * tf.cast(i, tf.float32), w))

    seconds = _median_seconds(_loop(body, steps, jit_compile), repeats)
    return 2.0 * batch * n_visible * n_hidden * steps / seconds / 1e9


def _minimal_step_gflops(batch, n_visible, n_hidden, jit_compile, repeats=5, steps=300):
    """Rate of a hand-written minimal PCD-1 step in raw TensorFlow, in the same loop.

    Five matmul-equivalents per step (P(v|h) of the chains; [v_data; v_model] W;
    the kernel gradient, one (D, 2B) x (2B, H) matmul), 128,400 uniforms for
    the two samples (ThreeFry under XLA, as ours), the sigmoids and an
    SGD-momentum update of W only: no biases, metrics, centring, data checks,
    or Keras. It bounds what any TensorFlow implementation of the step
    reaches here, so the gap between it and the matmul rate is not Keras's or
    ours.
    """
    import tensorflow as tf

    alg = "threefry" if jit_compile else "philox"
    rng = np.random.default_rng(0)
    data = tf.constant((rng.random((30 * batch, n_visible)) < 0.3).astype("float32"))
    w = tf.Variable(tf.random.normal((n_visible, n_hidden)) * 0.01)
    momentum = tf.Variable(tf.zeros((n_visible, n_hidden)))
    chains = tf.Variable(tf.zeros((batch, n_hidden)))
    row_weight = tf.concat([-tf.ones((batch, 1)), tf.ones((batch, 1))], 0) / batch

    def uniform(shape, i, j):
        return tf.random.stateless_uniform(shape, tf.stack([i, j]), alg=alg)

    def body(i):
        v = tf.slice(data, [tf.math.floormod(i, 30) * batch, 0], [batch, n_visible])
        pv = tf.sigmoid(tf.matmul(chains, w, transpose_b=True))
        v_model = tf.cast(uniform(tf.shape(pv), i, 0) < pv, tf.float32)
        rows = tf.concat([v, v_model], 0)
        ph = tf.sigmoid(tf.matmul(rows, w))
        chains.assign(tf.cast(uniform(tf.shape(chains), i, 1) < ph[batch:], tf.float32))
        grad = tf.matmul(rows, ph * row_weight, transpose_a=True)
        momentum.assign(0.5 * momentum - 0.01 * grad)
        w.assign_add(momentum)
        return grad[0, 0]

    flops = 5 * 2.0 * batch * n_visible * n_hidden * steps
    return flops / _median_seconds(_loop(body, steps, jit_compile), repeats) / 1e9


def _step_flops(batch, n_visible, n_hidden, n_chains, k):
    """Multiply-adds x 2 of one PCD-k step of ours (see BernoulliRBM.train_step)."""
    rows = k * n_chains + (k - 1) * n_chains  # chain: k (h W^T), k - 1 (v W)
    rows += 2 * (batch + n_chains)  # [v_data; v_model] W and the kernel gradient
    rows += max(batch // 10, 1)  # reconstruction error on a tenth of the batch
    return 2 * rows * n_visible * n_hidden  # 2 flops per multiply-add


# Ours' recipe beyond what both libraries share (epochs, batch, learning rate,
# PCD-1, 500 hidden units): each can be changed on the command line.
OURS = {"momentum": 0.5, "final_learning_rate": 0.0, "centering": True, "init_visible_bias": False,
        "n_chains": None, "weight_decay": 0.0}


def build_ours(args, seed, x_train):
    """Our compiled `BernoulliRBM` for `seed`, and a one-line description of its recipe.

    `args` holds the shared settings (`hidden`, `batch_size`, `learning_rate`,
    `epochs`, `k`, `steps_per_execution`) and ours' own (`OURS`'s keys; `None`
    or a missing attribute means `OURS`'s value, and `n_chains=None` the batch
    size). The learning rate decays linearly, update by update, from
    `learning_rate` to `final_learning_rate` (`None`: no decay) over the
    `epochs` of `x_train`.
    """
    import keras

    from keras_genmodels.rbm import BernoulliRBM

    r = {key: getattr(args, key, None) for key in OURS}
    r = {key: OURS[key] if value is None else value for key, value in r.items()}
    if getattr(args, "no_centering", False):
        r["centering"] = False
    if getattr(args, "no_decay", False):
        r["final_learning_rate"] = None
    n_chains = r["n_chains"] or args.batch_size
    keras.utils.set_random_seed(seed)
    model = BernoulliRBM(784, args.hidden, k=args.k, persistent=True, n_chains=n_chains,
                         weight_decay=r["weight_decay"], centering=r["centering"], seed=seed)
    if r["init_visible_bias"]:
        model.initialize_visible_bias(x_train)
    steps = args.epochs * int(np.ceil(x_train.shape[0] / args.batch_size))
    final_lr = args.learning_rate if r["final_learning_rate"] is None else r["final_learning_rate"]
    schedule = keras.optimizers.schedules.PolynomialDecay(args.learning_rate, steps, end_learning_rate=final_lr)
    jit = {"auto": "auto", "true": True, "false": False}[getattr(args, "jit_compile", "auto")]
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=r["momentum"]),
                  steps_per_execution=args.steps_per_execution, jit_compile=jit)
    parts = [f"PCD-{args.k}", f"{n_chains} chains", f"momentum {r['momentum']}",
             f"learning rate {args.learning_rate} -> {final_lr}"]
    parts += ["centred"] if r["centering"] else []
    parts += ["b at the data's log-odds"] if r["init_visible_bias"] else []
    parts += [f"weight decay {r['weight_decay']}"] if r["weight_decay"] else []
    recipe = ", ".join(parts)
    return model, recipe


class _Interleave:
    """A Keras callback that times each epoch and runs `between()` after it.

    `fit` waits while `between()` runs (scikit-learn's next epoch), so both
    libraries train one epoch at a time in turn, under the same machine load.
    """

    def __new__(cls, between):
        import keras

        class Interleave(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.epoch_seconds, self.waited = [], 0.0

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.epoch_seconds.append(time.perf_counter() - self._start)
                print(f"  epoch {epoch + 1}: ours {self.epoch_seconds[-1]:.2f} s", flush=True)
                if epoch + 1 < self.params["epochs"]:
                    start = time.perf_counter()
                    between()
                    self.waited += time.perf_counter() - start

        return Interleave()


def add_recipe_arguments(p):
    """The benchmark's recipe flags (both models' sizes and rates, ours' settings), for the experiments too."""
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=0.01)
    add_ours_arguments(p)
    p.add_argument("--steps-per-execution", type=int, default=100)


def add_ours_arguments(p):
    """Ours' recipe flags (`OURS`; each defaults to `OURS`'s value)."""
    p.add_argument("--momentum", type=float, default=None, help=f"ours: SGD momentum (default {OURS['momentum']})")
    p.add_argument("--final-learning-rate", type=float, default=None,
                   help="ours: linear decay, update by update, to this value "
                   f"(default {OURS['final_learning_rate']}; none: no decay)")
    p.add_argument("--no-decay", action="store_true", help="ours: a constant learning rate")
    p.add_argument("--centering", action=argparse.BooleanOptionalAction, default=None,
                   help=f"ours: the centred gradient (default {OURS['centering']})")
    p.add_argument("--init-visible-bias", action=argparse.BooleanOptionalAction, default=None,
                   help=f"ours: start b at the data's log-odds (default {OURS['init_visible_bias']})")
    p.add_argument("--n-chains", type=int, default=None, help="ours: persistent chains (default: the batch size)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help=f"ours: L2 penalty on W (default {OURS['weight_decay']})")
    p.add_argument("--k", type=int, default=1, help="ours: Gibbs steps (PCD-k)")


def ours_flags(args):
    """The command-line flags of `add_ours_arguments` that `args` sets (to hand them on)."""
    flags = []
    for key in ("momentum", "final_learning_rate", "n_chains", "weight_decay", "k"):
        if getattr(args, key, None) is not None:
            flags += ["--" + key.replace("_", "-"), str(getattr(args, key))]
    for key in ("centering", "init_visible_bias"):
        if getattr(args, key, None) is not None:
            flags += [("--" if getattr(args, key) else "--no-") + key.replace("_", "-")]
    return flags + (["--no-decay"] if getattr(args, "no_decay", False) else [])


def _environment(x_train, x_test):
    """What a seeded run's bits depend on besides the seed: CPU, library versions, BLAS, data, settings.

    Two runs whose `environment` agree were bit-identical in every case seen
    (docs/rbm.md, "Why another machine gives other figures").
    """
    import hashlib
    import platform

    import keras
    import sklearn
    import tensorflow as tf
    import threadpoolctl

    cpu = platform.processor()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    blas = [{k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]
    variables = ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "XLA_FLAGS",
                 "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE")
    return {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__,
        "keras": keras.__version__, "numpy": np.__version__, "scikit_learn": sklearn.__version__, "blas": blas,
        "data_sha256": hashlib.sha256(x_train.tobytes() + x_test.tobytes()).hexdigest()[:16],
        "environment_variables": {k: os.environ[k] for k in variables if k in os.environ},
    }


def _summary(values):
    """(mean, sample standard deviation) of a list (sd 0 for one value)."""
    values = np.asarray(values, "float64")
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_recipe_arguments(p)
    p.add_argument("--jit-compile", choices=["auto", "true", "false"], default="auto",
                   help="ours: XLA (auto: the chunked NumPy loop is compiled by XLA)")
    p.add_argument("--ais-chains", type=int, default=100)
    p.add_argument("--ais-scale", type=float, default=1.0, help="AIS schedule length (1 = 14,500 steps)")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images (quick runs)")
    p.add_argument("--seed", type=int, default=0, help="the seed of both sides (one run)")
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="run the whole comparison once per seed (e.g. 0 1 2 3 4) and print the "
                   "per-seed figures and their mean and standard deviation; overrides --seed")
    p.add_argument("--local-dir", default=DEFAULT_DIR)
    p.add_argument("--blas-threads", type=int, default=None,
                   help="scikit-learn's OpenBLAS threads (OPENBLAS_NUM_THREADS; default: OpenBLAS's, one per "
                   "core). Its figures depend on it: fix it to compare machines with other core counts")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    p.add_argument("--numpy-ais", action="store_true",
                   help="also estimate our log Z by an independent NumPy AIS (~1 minute more)")
    p.add_argument("--summarize", nargs="+", default=None, metavar="JSON",
                   help="no training: read the --json files of earlier runs (one or more seeds each), "
                   "print their per-seed figures and mean ± sd, and with --json write them as one file")
    p.add_argument("--sklearn-worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--numpy-ais-worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.sklearn_worker:
        return sklearn_worker(args)
    if args.numpy_ais_worker:
        return _numpy_ais_worker(args.numpy_ais_worker)
    if args.summarize:
        return _summarize_files(args.summarize, args.json)

    command = "python bench/rbm_vs_sklearn.py " + " ".join(argv if argv is not None else sys.argv[1:])
    reports = []
    for seed in args.seeds if args.seeds is not None else [args.seed]:
        args.seed = seed
        # The files exchanged with the child processes live in a temporary folder, and
        # the scikit-learn worker is stopped if this run fails: nothing is left behind.
        with tempfile.TemporaryDirectory(prefix="rbm_bench_") as tmp:
            cmd = [sys.executable, os.path.abspath(__file__), "--sklearn-worker", os.path.join(tmp, "sklearn.npz"),
                   "--seed", str(seed), "--hidden", str(args.hidden), "--batch-size", str(args.batch_size),
                   "--learning-rate", str(args.learning_rate), "--local-dir", args.local_dir]
            cmd += ["--limit", str(args.limit)] if args.limit else []
            # scikit-learn runs in a process of its own, one epoch at a time on request.
            env = dict(os.environ, **({"OPENBLAS_NUM_THREADS": str(args.blas_threads)} if args.blas_threads else {}))
            worker = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
            try:
                reports.append(_compare(args, command, tmp, worker))
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
    if args.seeds is None:
        out = reports[0]
    else:
        out = {"command": command, "date": reports[0]["date"], "seeds": args.seeds, "runs": reports,
               "summary": _print_seed_summary(reports)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


def _summarize_files(paths, json_path=None):
    """Print (and write to `json_path`) the seed summary of the runs in earlier `--json` files."""
    reports = []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        reports += data.get("runs", [data])
    out = {"commands": sorted({r["command"] for r in reports}), "dates": sorted({r["date"] for r in reports}),
           "seeds": [r["seed"] for r in reports], "runs": reports, "summary": _print_seed_summary(reports)}
    if json_path:
        with open(json_path, "w") as f:
            json.dump(out, f, indent=2)
    return 0


def _print_seed_summary(reports):
    """Print the per-seed log-likelihoods and gains and their mean ± sd; return them."""
    rows = [(r["seed"], r["ours"]["test_log_likelihood"], r["sklearn"]["test_log_likelihood"],
             r["log_likelihood_gain"], r["ours"]["log_z_std"], r["sklearn"]["log_z_std"],
             r["throughput_ratio"], r["ours"]["ais_seconds"]) for r in reports]
    print(f"\n{'seed':>4}  {'ours (nats)':>16}  {'scikit-learn':>16}  {'gain':>6}  {'throughput':>10}  "
          f"{'our AIS':>7}")
    for seed, ours, sk, gain, ours_sd, sk_sd, ratio, ais in rows:
        print(f"{seed:>4}  {ours:8.2f} ± {ours_sd:4.2f}  {sk:8.2f} ± {sk_sd:4.2f}  {gain:+6.1f}  "
              f"{ratio:9.2f}x  {ais:6.1f}s")
    summary = {}
    for j, name in ((1, "ours"), (2, "sklearn"), (3, "gain"), (6, "throughput_ratio"), (7, "ours_ais_seconds")):
        mean, sd = _summary([row[j] for row in rows])
        summary[name] = {"mean": mean, "sd": sd, "min": min(row[j] for row in rows),
                         "max": max(row[j] for row in rows)}
    s = summary
    print(f"over {len(rows)} seeds (mean ± sample sd): ours {s['ours']['mean']:.2f} ± {s['ours']['sd']:.2f}, "
          f"scikit-learn {s['sklearn']['mean']:.2f} ± {s['sklearn']['sd']:.2f}, gain "
          f"{s['gain']['mean']:+.1f} ± {s['gain']['sd']:.1f} nats (smallest {s['gain']['min']:+.1f}; "
          f"target >= +10 on every seed); throughput {s['throughput_ratio']['mean']:.2f} ± "
          f"{s['throughput_ratio']['sd']:.2f}x")
    return summary


def _compare(args, command, tmp, worker):
    """Train both models (the scikit-learn one in `worker`), time, estimate log Z; print; return the figures."""
    load_start = os.getloadavg()
    out = os.path.join(tmp, "sklearn.npz")
    if worker.stdout.readline().strip() != "ready":
        raise RuntimeError("the scikit-learn worker failed to start (see its error above)")

    from keras_genmodels.rbm import BernoulliRBM, default_ais_schedule

    x_train = _read_split(args.local_dir, "train", args.limit)
    x_test = _read_split(args.local_dir, "test")
    n = x_train.shape[0]
    model, recipe = build_ours(args, args.seed, x_train)
    print(f"seed {args.seed}, {args.epochs} epoch(s) each, interleaved: scikit-learn BernoulliRBM (PCD-1, "
          f"learning rate {args.learning_rate}) and ours ({recipe}); {args.hidden} hidden, "
          f"batch {args.batch_size}", flush=True)
    sk_epochs = []

    def sklearn_epoch():
        worker.stdin.write("epoch\n")
        worker.stdin.flush()
        sk_epochs.append(float(worker.stdout.readline()))

    def machine_gflops():
        worker.stdin.write("machine\n")
        worker.stdin.flush()
        return float(worker.stdout.readline())

    machine = [machine_gflops()]
    timer = _Interleave(sklearn_epoch)
    sklearn_epoch()  # scikit-learn's first epoch, then ours, and so on
    start = time.perf_counter()
    model.fit(x_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0, callbacks=[timer])
    fit_seconds = time.perf_counter() - start - timer.waited
    ours_epochs = timer.epoch_seconds
    machine.append(machine_gflops())
    worker.stdin.write("done\n")
    worker.stdin.close()
    worker.wait()
    sk = dict(np.load(out))

    # Steady state: median epoch, without our first (it traces and compiles the step).
    steady = float(np.median(ours_epochs[1:])) if args.epochs > 1 else ours_epochs[0]
    sk_steady = float(np.median(sk_epochs))
    sk_rate = n / sk_steady
    ours_rate = n / steady
    ours_rate_total = args.epochs * n / fit_seconds
    flops = _step_flops(args.batch_size, 784, args.hidden, args.batch_size, args.k)
    achieved = flops * (n / args.batch_size) / steady / 1e9
    matmul_rates = {name: _matmul_gflops(args.batch_size, 784, args.hidden, jit)
                    for name, jit in (("graph", False), ("xla", True))}
    minimal_rates = {name: _minimal_step_gflops(args.batch_size, 784, args.hidden, jit)
                     for name, jit in (("graph", False), ("xla", True))}
    matmul = max(matmul_rates.values())
    minimal = max(minimal_rates.values())

    # 3. Test log-likelihoods by AIS.
    betas = default_ais_schedule(args.ais_scale)
    sk_model = BernoulliRBM(784, args.hidden)
    sk_model.kernel.assign(sk["components"].T)
    sk_model.visible_bias.assign(sk["intercept_visible"])
    sk_model.hidden_bias.assign(sk["intercept_hidden"])
    results = {}
    for name, m in [("sklearn", sk_model), ("ours", model)]:
        est = m.log_partition_ais(data=x_train, betas=betas, n_chains=args.ais_chains, seed=args.seed)
        results[name] = {
            "test_log_likelihood": m.log_likelihood(x_test, log_z=est),
            "log_z": est.log_z, "log_z_std": est.std, "log_z_lower": est.lower,
            "log_z_upper": est.upper, "ais_seconds": est.seconds,
        }
    if args.numpy_ais:
        # The same estimate of our model's log Z by an independent NumPy AIS, in a
        # process without TensorFlow, after ours: a check of the number and of the time.
        path = os.path.join(tmp, "numpy_ais.npz")
        np.savez(path, w=model.kernel.numpy(), b=model.visible_bias.numpy(),
                 c=model.hidden_bias.numpy(),
                 base_logits=np.asarray(model.ais_base(x_train)["logits"]), betas=betas,
                 n_chains=args.ais_chains, seed=args.seed)
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--numpy-ais-worker", path],
                              capture_output=True, text=True, check=True)
        results["ours"]["numpy_ais"] = json.loads(proc.stdout.strip().splitlines()[-1])
    load_end = os.getloadavg()

    report = {
        "command": command, "seed": args.seed, "recipe": recipe,
        "environment": dict(_environment(x_train, x_test), sklearn_blas_threads=args.blas_threads),
        "date": time.strftime("%Y-%m-%d"),
        "train_examples": n, "epochs": args.epochs, "hidden": args.hidden,
        "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "sklearn": {"epoch_seconds": sk_epochs, "samples_per_second": sk_rate,
                    "dtype": str(sk["dtype"]), **results["sklearn"]},
        "ours": {"epoch_seconds": ours_epochs, "fit_seconds": fit_seconds,
                 "samples_per_second": ours_rate, "samples_per_second_whole_fit": ours_rate_total,
                 "step_gflops": achieved, "jit_compile": args.jit_compile, **results["ours"]},
        "throughput_ratio": ours_rate / sk_rate,
        "throughput_ratio_whole_fit": ours_rate_total / sk_rate,
        "matmul_gflops": matmul, "matmul_gflops_by_compiler": matmul_rates,
        "fraction_of_matmul_rate": achieved / matmul,
        "minimal_step_gflops": minimal, "minimal_step_gflops_by_compiler": minimal_rates,
        "minimal_step_fraction_of_matmul_rate": minimal / matmul,
        # What the AIS cannot beat: its two (chains x 784 x hidden) matmuls per
        # temperature at the matmul rate measured above (at the batch size's rows).
        "ais_matmul_bound_seconds": 2 * (len(betas) - 1) * 2.0 * args.ais_chains * 784 * args.hidden
        / (matmul * 1e9),
        "log_likelihood_gain": results["ours"]["test_log_likelihood"]
        - results["sklearn"]["test_log_likelihood"],
        "load_average": {"start": load_start, "end": load_end},
        "machine_gflops_numpy_1000": machine,
    }
    s, o = report["sklearn"], report["ours"]
    print(f"\nload average at start {load_start[0]:.1f}, at end {load_end[0]:.1f} "
          f"({os.cpu_count()} CPUs); machine gauge (NumPy 1000^3 matmul) {machine[0]:.0f} GFLOP/s "
          f"before training, {machine[1]:.0f} after")
    print(f"scikit-learn: {s['samples_per_second']:8.0f} samples/s (median epoch {sk_steady:.2f} s, {s['dtype']})")
    print(f"ours:         {o['samples_per_second']:8.0f} samples/s (median epoch after the first "
          f"{steady:.2f} s; {o['samples_per_second_whole_fit']:.0f} samples/s over the whole fit, "
          f"first epoch and set-up included)")
    print(f"throughput ratio ours/scikit-learn: {report['throughput_ratio']:.2f}  (target >= 1.2; "
          f"{report['throughput_ratio_whole_fit']:.2f} over the whole fit)")
    print(f"our step: {achieved:.1f} GFLOP/s; one {args.batch_size}x784x{args.hidden} matmul: "
          f"{matmul_rates['graph']:.1f} GFLOP/s (graph), {matmul_rates['xla']:.1f} (XLA) -> "
          f"{100 * report['fraction_of_matmul_rate']:.0f}% of the faster  (target >= 80%)")
    print(f"a minimal hand-written PCD-1 step in raw TensorFlow: {minimal_rates['graph']:.1f} GFLOP/s "
          f"(graph), {minimal_rates['xla']:.1f} (XLA) -> "
          f"{100 * report['minimal_step_fraction_of_matmul_rate']:.0f}% of the matmul rate")
    for name in ("sklearn", "ours"):
        r = report[name]
        print(f"test log-likelihood {name:8s}: {r['test_log_likelihood']:8.2f} nats "
              f"(log Z {r['log_z']:.2f} ± {r['log_z_std']:.2f}; AIS {r['ais_seconds']:.1f} s, target < 25 s)")
    bound = report["ais_matmul_bound_seconds"]
    print(f"AIS bound: its {2 * (len(betas) - 1)} {args.ais_chains}x784x{args.hidden} matmuls alone, at the "
          f"matmul rate above, take {bound:.1f} s; our AIS took {o['ais_seconds'] / bound:.2f}x that")
    print(f"log-likelihood gain: {report['log_likelihood_gain']:.1f} nats  (target >= 10)")
    if "numpy_ais" in o:
        n = o["numpy_ais"]
        print(f"independent NumPy AIS of our model: log Z {n['log_z']:.2f} in {n['seconds']:.1f} s "
              f"(ours {o['log_z']:.2f} ± {o['log_z_std']:.2f} in {o['ais_seconds']:.1f} s: "
              f"{n['seconds'] / o['ais_seconds']:.2f}x faster)")
    return report


if __name__ == "__main__":
    sys.exit(main())
