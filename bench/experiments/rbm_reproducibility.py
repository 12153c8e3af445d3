"""What changes a seeded run of bench/rbm_vs_sklearn.py: thread counts, oneDNN, the CPU's ISA, ...

    python bench/experiments/rbm_reproducibility.py                 # 1 epoch, weights compared
    python bench/experiments/rbm_reproducibility.py --epochs 5 --ais --settings default avx2

Trains ours (the benchmark's `build_ours`, seed `--seed`) and scikit-learn's
RBM (the benchmark's worker loop) once per setting, each in a fresh process
with the setting's environment, and compares the weights after `--epochs`
epochs with those of the first setting: identical bits, or the largest
difference. With `--ais`, also the test log-likelihood (the benchmark's AIS:
14,500 temperatures, 100 chains, seeded).

Settings (`--settings`, names from `SETTINGS`): the same command again;
TensorFlow's thread pools (`TF_NUM_INTRAOP_THREADS`, `TF_NUM_INTEROP_THREADS`:
the size of the pools XLA's CPU code and the graph executor run on; the
default is the number of cores, so another machine has other pools); oneDNN
off (`TF_ENABLE_ONEDNN_OPTS=0`); `OMP_NUM_THREADS=1`; op determinism
(`tf.config.experimental.enable_op_determinism()`); XLA's CPU code limited to
AVX2 (`XLA_FLAGS=--xla_cpu_max_isa=AVX2`, what a CPU without AVX-512 gets) and
the graph executor instead of XLA; for scikit-learn, OpenBLAS with one thread
or 4 threads (`OPENBLAS_NUM_THREADS`) and OpenBLAS's Haswell kernels
(`OPENBLAS_CORETYPE=Haswell`, what a CPU without AVX-512 gets).

PCD's samples are u < p comparisons: a difference in the last bit of one
p flips a sample now and then, and from there the two runs follow different
chains, i.e. another random stream. So a setting either leaves the run
bit-identical or changes it like another seed does.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from rbm_vs_sklearn import (
    DEFAULT_DIR,
    _read_split,
    add_ours_arguments,
    build_ours,
    ours_flags,
)

# name: (side, environment, extra child flags)
SETTINGS = {
    "default": ("ours", {}, []),
    "again": ("ours", {}, []),
    "intra1": ("ours", {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}, []),
    "intra4": ("ours", {"TF_NUM_INTRAOP_THREADS": "4", "TF_NUM_INTEROP_THREADS": "4"}, []),
    "onednn_off": ("ours", {"TF_ENABLE_ONEDNN_OPTS": "0"}, []),
    "omp1": ("ours", {"OMP_NUM_THREADS": "1"}, []),
    "determinism": ("ours", {}, ["--op-determinism"]),
    "avx2": ("ours", {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}, []),
    "no_xla": ("ours", {}, ["--jit-compile", "false"]),
    "sklearn": ("sklearn", {}, []),
    "sklearn_again": ("sklearn", {}, []),
    "sklearn_blas1": ("sklearn", {"OPENBLAS_NUM_THREADS": "1"}, []),
    "sklearn_blas4": ("sklearn", {"OPENBLAS_NUM_THREADS": "4"}, []),
    "sklearn_haswell": ("sklearn", {"OPENBLAS_CORETYPE": "Haswell"}, []),
}


def _fingerprint(arrays):
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()[:16]


def child(args):
    """Train one side in this process; print one JSON line; save the weights to `--out`."""
    x = _read_split(args.local_dir, "train")
    if args.side == "sklearn":
        from sklearn.neural_network import BernoulliRBM
        from sklearn.utils import check_random_state, gen_even_slices

        rbm = BernoulliRBM(n_components=500, learning_rate=0.01, batch_size=100, n_iter=0,
                           random_state=args.seed).fit(x)
        rng = check_random_state(args.seed)
        n_batches = int(np.ceil(x.shape[0] / 100))
        slices = list(gen_even_slices(n_batches * 100, n_batches, n_samples=x.shape[0]))
        for _ in range(args.epochs):
            for batch in slices:
                rbm._fit(x[batch], rng)
        w, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
        model = None
    else:
        import tensorflow as tf

        if args.op_determinism:
            tf.config.experimental.enable_op_determinism()
        model, _ = build_ours(args, args.seed, x)
        model.fit(x, batch_size=100, epochs=args.epochs, verbose=0)
        w, b, c = model.kernel.numpy(), model.visible_bias.numpy(), model.hidden_bias.numpy()
    np.savez(args.out, w=w, b=b, c=c)
    result = {"fingerprint": _fingerprint([w, b, c])}
    if args.ais:
        from keras_genmodels.rbm import BernoulliRBM as Ours
        from keras_genmodels.rbm import default_ais_schedule

        if model is None:
            model = Ours(784, 500)
            model.kernel.assign(w)
            model.visible_bias.assign(b)
            model.hidden_bias.assign(c)
        est = model.log_partition_ais(data=x, betas=default_ais_schedule(), n_chains=100, seed=args.seed)
        result["test_log_likelihood"] = model.log_likelihood(_read_split(args.local_dir, "test"), log_z=est)
        result["log_z_std"] = est.std
    print(json.dumps(result), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--ais", action="store_true", help="also the test log-likelihood by the benchmark's AIS")
    p.add_argument("--local-dir", default=DEFAULT_DIR)
    p.add_argument("--json", default=None)
    # What the benchmark's `build_ours` reads.
    p.add_argument("--hidden", type=int, default=500, help=argparse.SUPPRESS)
    p.add_argument("--batch-size", type=int, default=100, help=argparse.SUPPRESS)
    p.add_argument("--learning-rate", type=float, default=0.01, help=argparse.SUPPRESS)
    p.add_argument("--steps-per-execution", type=int, default=100, help=argparse.SUPPRESS)
    add_ours_arguments(p)
    p.add_argument("--jit-compile", default="auto", help=argparse.SUPPRESS)
    p.add_argument("--side", default=None, help=argparse.SUPPRESS)
    p.add_argument("--op-determinism", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.side:
        return child(args)

    import tempfile

    argv = list(argv if argv is not None else sys.argv[1:])
    passed = ["--seed", str(args.seed), "--epochs", str(args.epochs), "--local-dir", args.local_dir,
              *(["--ais"] if args.ais else []), *ours_flags(args)]
    results, reference = {}, {}
    with tempfile.TemporaryDirectory(prefix="rbm_repro_") as tmp:
        for name in args.settings:
            side, env, flags = SETTINGS[name]
            out = os.path.join(tmp, f"{name}.npz")
            cmd = [sys.executable, os.path.abspath(__file__), *passed, "--side", side, "--out", out, *flags]
            proc = subprocess.run(cmd, check=False, env={**os.environ, **env}, capture_output=True, text=True)
            if proc.returncode:
                print(f"{name}: failed\n{proc.stderr[-2000:]}", flush=True)
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            weights = np.load(out)
            if side not in reference:
                reference[side] = (name, {k: weights[k] for k in ("w", "b", "c")})
            ref_name, ref = reference[side]
            result["max_abs_difference_from_" + ref_name] = float(
                max(np.max(np.abs(weights[k] - ref[k])) for k in ("w", "b", "c"))
            )
            result.update(side=side, environment=env, flags=flags)
            results[name] = result
            ll = f"; test LL {result['test_log_likelihood']:.2f}" if "test_log_likelihood" in result else ""
            print(f"{name:16s} {side:8s} {result['fingerprint']}  max |dW| from {ref_name}: "
                  f"{result['max_abs_difference_from_' + ref_name]:.3g}{ll}   {env or ''} {' '.join(flags)}",
                  flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": "python bench/experiments/rbm_reproducibility.py " + " ".join(argv),
                       "epochs": args.epochs, "seed": args.seed, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
