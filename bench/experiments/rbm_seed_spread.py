"""Our RBM of bench/rbm_vs_sklearn.py over seeds: its test log-likelihood curve and its AIS.

    python bench/experiments/rbm_seed_spread.py --seeds 0 1 2 3 4
    python bench/experiments/rbm_seed_spread.py --seeds 0 3 --final-ais 1:100 1:1000 4:100
    python bench/experiments/rbm_seed_spread.py --seeds 0 1 --load-dir models --final-ais 1:100:7 3:100

For each seed, trains ours exactly as `bench/rbm_vs_sklearn.py` does (same
data, same seeds, same recipe flags: binarised Fashion-MNIST, 784 x 500,
PCD-k, batch 100, centred, SGD with momentum; no scikit-learn beside it) and
records, every `--curve-every` chunks of `steps_per_execution` updates, the
test log-likelihood by a short AIS (`--curve-ais-scale`, 100 chains; a
callback, which does not touch training's random stream), the free-energy gap
<F>_test - <F>_train on 10,000 images of each (log Z cancels), |W| and the
largest hidden logit's bound (the scale of the model's couplings).

At the end, the test log-likelihood by each AIS of `--final-ais`
(`scale:chains[:seed]`, e.g. `1:100` is the benchmark's 14,500 temperatures and
100 chains, `4:100` a schedule 4x as long, `1:1000` ten times the chains,
`1:100:7` the benchmark's AIS with another random stream; `--load-dir` runs
them on models saved by an earlier `--save-dir`), with
log Z's standard error and the spread of the chains' log weights (their
standard deviation, and the effective sample size (sum w)^2 / sum w^2): a
bad seed whose log Z is badly estimated shows a log Z that moves with the
schedule and the chains, and a wide log-weight spread; a bad model does not.

It answers the question of issue 17: are the seeds that end ~25 nats worse
than others bad models or bad AIS estimates, and which recipe removes them?
Prints one line per curve point and one JSON line per seed; `--json` writes
them all.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from rbm_vs_sklearn import DEFAULT_DIR, _read_split, add_recipe_arguments, build_ours


def log_weight_spread(log_weights):
    """(standard deviation of the log weights, effective sample size (sum w)^2 / sum w^2)."""
    lw = np.asarray(log_weights, "float64")
    w = np.exp(lw - lw.max())
    return float(np.std(lw)), float(w.sum() ** 2 / np.sum(w**2))


def ais_figures(model, x_train, x_test, scale, chains, seed):
    """Test log-likelihood by AIS with `scale` x the default schedule and `chains` chains."""
    from keras_genmodels.rbm import default_ais_schedule

    est = model.log_partition_ais(data=x_train, betas=default_ais_schedule(scale), n_chains=chains, seed=seed)
    spread, ess = log_weight_spread(est.log_weights)
    return {
        "scale": scale, "chains": chains, "test_log_likelihood": model.log_likelihood(x_test, log_z=est),
        "log_z": est.log_z, "log_z_std": est.std, "log_weight_std": spread, "ess": ess,
        "seconds": est.seconds,
    }


def curve_callback(model, x_train, x_test, every, scale, seed, record):
    """A callback that appends the curve's figures to `record` every `every` chunks."""
    import keras

    f_train_rows = x_train[:10000]

    class Curve(keras.callbacks.Callback):
        chunks = 0

        def point(self):
            updates = int(model.optimizer.iterations.numpy())
            gap = float(np.mean(model.free_energy(x_test)) - np.mean(model.free_energy(f_train_rows)))
            row = {
                "updates": updates, "free_energy_gap": gap,
                "kernel_norm": float(np.linalg.norm(model.kernel.numpy())),
                "max_hidden_logit": model.max_abs_hidden_logit(),
            }
            if scale:
                ais = ais_figures(model, x_train, x_test, scale, 100, seed)
                row.update(test_log_likelihood=ais["test_log_likelihood"], log_z_std=ais["log_z_std"])
            record.append(row)
            ll = f"{row['test_log_likelihood']:8.2f}" if scale else "       -"
            print(f"    {updates:6d} updates: test LL {ll}  gap {gap:6.2f}  |W| {row['kernel_norm']:6.2f}"
                  f"  max logit {row['max_hidden_logit']:6.1f}", flush=True)

        def on_train_batch_end(self, batch, logs=None):
            Curve.chunks += 1
            if every and Curve.chunks % every == 0:
                self.point()

    return Curve()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    add_recipe_arguments(p)
    p.add_argument("--curve-every", type=int, default=3, help="chunks between curve points (0: none)")
    p.add_argument("--curve-ais-scale", type=float, default=0.1, help="0: free-energy gap only")
    p.add_argument("--final-ais", nargs="*", default=["1:100"],
                   help="scale:chains[:seed] of each final AIS (seed: the training seed unless given)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--local-dir", default=DEFAULT_DIR)
    p.add_argument("--save-dir", default=None, help="save each seed's model here (seed_<S>.keras)")
    p.add_argument("--load-dir", default=None,
                   help="no training: load seed_<S>.keras from here (saved by --save-dir) and run the final AIS")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    x_train = _read_split(args.local_dir, "train", args.limit)
    x_test = _read_split(args.local_dir, "test")
    results = []
    for seed in args.seeds:
        start = time.perf_counter()
        record, history = [], {}
        if args.load_dir:
            from keras_genmodels import load_model

            model = load_model(os.path.join(args.load_dir, f"seed_{seed}.keras"))
            recipe = f"loaded from {args.load_dir}"
            print(f"seed {seed}: {recipe}", flush=True)
        else:
            model, recipe = build_ours(args, seed, x_train)
            callbacks = [curve_callback(model, x_train, x_test, args.curve_every, args.curve_ais_scale, seed,
                                        record)]
            print(f"seed {seed}: {recipe}", flush=True)
            history = model.fit(x_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
                                callbacks=callbacks).history
        train_seconds = time.perf_counter() - start
        if args.save_dir and not args.load_dir:
            from keras_genmodels import save_model

            os.makedirs(args.save_dir, exist_ok=True)
            save_model(model, os.path.join(args.save_dir, f"seed_{seed}.keras"))
        finals = []
        for spec in args.final_ais:
            scale, chains, ais_seed = (spec.split(":") + [seed])[:3]
            finals.append(ais_figures(model, x_train, x_test, float(scale), int(chains), int(ais_seed)))
            f = finals[-1]
            f["ais_seed"] = int(ais_seed)
            print(f"  AIS {scale}x, {chains} chains, seed {ais_seed}: test LL {f['test_log_likelihood']:.2f} "
                  f"(log Z {f['log_z']:.2f} ± {f['log_z_std']:.2f}; log-weight sd {f['log_weight_std']:.2f}, "
                  f"ESS {f['ess']:.1f} of {chains}; {f['seconds']:.0f} s)", flush=True)
        result = {"seed": seed, "recipe": recipe, "curve": record, "final": finals,
                  "history": {k: [float(v) for v in vals] for k, vals in history.items()},
                  "train_seconds": train_seconds}
        results.append(result)
        print(json.dumps({"seed": seed, "final": finals}), flush=True)
    lls = np.array([[f["test_log_likelihood"] for f in r["final"]] for r in results])
    for j, spec in enumerate(args.final_ais):
        col = lls[:, j]
        sd = col.std(ddof=1) if len(col) > 1 else 0.0
        print(f"AIS {spec}: test LL per seed {np.round(col, 2).tolist()}; mean {col.mean():.2f} ± {sd:.2f} (sd)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": "python bench/experiments/rbm_seed_spread.py "
                       + " ".join(argv if argv is not None else sys.argv[1:]), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
