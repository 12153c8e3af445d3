"""AIS of the 784 x 500 RBM with and without the series form of its log-weight increment.

    python bench/experiments/ais_log_weight.py             # ~5 minutes; use a quiet machine

Trains the model of `bench/rbm_vs_sklearn.py` (PCD-1, centred, momentum 0.5,
learning rate 0.01, batch 100, 500 hidden units, seed 0, binarised
Fashion-MNIST; `--epochs 5`), or loads `--model FILE`, and compares two forms
of `log_partition_ais`:

- "series": as shipped; steps whose bound on |(beta_k - beta_{k-1}) a_j| is at
  most `partition._SERIES_RANGE` use the fourth-order Taylor series of the
  increment, the others the expm1/log1p form;
- "expm1/log1p": `_SERIES_RANGE` set to 0, every step in the expm1/log1p form
  (the code before the series).

1. Per operation: one AIS of each form over `--trace-steps` equal steps of
   beta (all in the series form for a model whose bound allows it) under
   TensorFlow's profiler, with XLA's per-operation trace events on; prints
   the mean time per temperature of each XLA operation of the loop, the two
   matmuls and the rest summed. These per-operation times are far steadier
   than wall-clock times on this machine, whose speed drifts by tens of
   per cent within minutes.
2. Wall clock: `--repeats` pairs of full AISs (default schedule, 100 chains),
   alternating the forms (order swapped every other pair), the same seed
   within a pair; prints each run's seconds (`AISEstimate.seconds`, the
   compilation included) and log Z.
"""

import argparse
import collections
import glob
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # bench/, for rbm_vs_sklearn

from rbm_vs_sklearn import DEFAULT_DIR, _read_split

FORMS = ("series", "expm1/log1p")


def _per_op_microseconds(log_dir):
    """{XLA operation: total microseconds} from the profile written under `log_dir`."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    (path,) = glob.glob(os.path.join(log_dir, "plugins", "profile", "*", "*.xplane.pb"))
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    totals = collections.defaultdict(float)
    skip = ("end:", "Threadpool", "ThunkExecutor", "SlinkyThreadPool")
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            if "Eigen" not in line.name:  # the threads that run XLA's operations
                continue
            for event in line.events:
                name = names.get(event.metadata_id, "?")
                if not name.startswith(skip):
                    totals[name] += event.duration_ps / 1e6
    return totals


def bench_model(path, local_dir, epochs):
    """The saved BernoulliRBM at `path`, or, if `path` is None, the 784 x 500 model of
    `bench/rbm_vs_sklearn.py` trained for `epochs` on binarised Fashion-MNIST."""
    import keras

    from keras_genmodels import load_model
    from keras_genmodels.rbm import BernoulliRBM

    if path:
        return load_model(path)
    x = _read_split(local_dir, "train")
    keras.utils.set_random_seed(0)
    model = BernoulliRBM(784, 500, persistent=True, n_chains=100, centering=True, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.5), steps_per_execution=100)
    model.fit(x, batch_size=100, epochs=epochs, verbose=0)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--trace-steps", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=2, help="wall-clock pairs (0: none)")
    p.add_argument("--model", default=None, help="a saved BernoulliRBM (.keras) instead of training")
    p.add_argument("--local-dir", default=DEFAULT_DIR)
    args = p.parse_args(argv)

    # XLA emits per-operation trace events only when asked before it starts.
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true").strip()
    import tensorflow as tf

    from keras_genmodels.rbm import default_ais_schedule, partition

    model = bench_model(args.model, args.local_dir, args.epochs)
    bound = model.max_abs_hidden_logit()
    shipped = partition._SERIES_RANGE

    def ais(form, betas, seed):
        partition._SERIES_RANGE = shipped if form == "series" else 0.0
        try:
            return model.log_partition_ais(betas=betas, seed=seed)
        finally:
            partition._SERIES_RANGE = shipped

    def in_series(betas):
        return int(np.sum(bound * np.diff(betas) <= shipped))

    traced = np.linspace(0.0, 1.0, args.trace_steps + 1)
    print(f"model {model.n_visible} x {model.n_hidden}; bound on |a_j| over binary v: {bound:.2f}")
    print(f"1. per operation, one AIS of {args.trace_steps} equal steps each "
          f"({in_series(traced)} of them in the series form when shipped), microseconds per temperature:")
    for form in FORMS:
        ais(form, traced, 0)  # compiled and run once untraced
        with tempfile.TemporaryDirectory() as log_dir:
            tf.profiler.experimental.start(log_dir)
            est = ais(form, traced, 0)
            tf.profiler.experimental.stop()
            totals = _per_op_microseconds(log_dir)
        n = len(traced) - 1
        matmuls = sum(t for name, t in totals.items() if name.startswith("MatMul")) / n
        rest = sum(t for name, t in totals.items() if not name.startswith("MatMul")) / n
        top = ", ".join(f"{name} {t / n:.0f}" for name, t in sorted(totals.items(), key=lambda kv: -kv[1])[:8])
        print(f"  {form:12s} matmuls {matmuls:6.0f}, all other operations {rest:5.0f}  "
              f"(log Z {est.log_z:.5f})\n      largest: {top}", flush=True)

    if args.repeats:
        betas = default_ais_schedule()
        print(f"2. wall clock, default schedule ({len(betas)} temperatures, {in_series(betas)} of "
              f"{len(betas) - 1} steps in the series form when shipped), 100 chains:")
        seconds = {form: [] for form in FORMS}
        for repeat in range(args.repeats):
            for form in FORMS if repeat % 2 == 0 else FORMS[::-1]:
                est = ais(form, betas, repeat)
                seconds[form].append(est.seconds)
                print(f"  pair {repeat + 1}, {form:12s} {est.seconds:6.2f} s   log Z {est.log_z:.5f} "
                      f"+- {est.std:.3f}", flush=True)
        ratios = np.array(seconds["series"]) / np.array(seconds["expm1/log1p"])
        print(f"  series / expm1-log1p per pair: {', '.join(f'{r:.3f}' for r in ratios)}")


if __name__ == "__main__":
    main()
