"""Does a generative model learn the 2D Ising model? The scans, as functions and a CLI.

Each study trains models on Monte Carlo configurations and compares what they
learned with Monte Carlo and, where the lattice is small enough (L <= 4),
with exact enumeration (used by `notebooks/ising_physics.ipynb` and the
figures of `docs/physics.md`):

- `rbm_temperature_scan`: at each temperature, Monte Carlo data, an RBM
  trained on them, and the observables of the RBM's samples next to those of
  Monte Carlo (and the exact values for L <= 4; for L <= 4 also the exact KL).
  `fit="cd"` trains with `rbm.ising.fit_rbm_ising` (CD-k through
  `BernoulliRBM.fit`, SGD with momentum, symmetry-augmented data: the
  recipe that works at L = 8, `CD_RECIPE`); `fit="pcd"` with
  `BernoulliRBM.fit` (PCD-k, Adam); `fit="exact"` (L <= 4 only) with
  `rbm.ising.fit_rbm_exact_likelihood`.
- `hidden_units_scan`: exact KL(p_T || q) of L = 4 RBMs (exact-likelihood
  fits) for several numbers of hidden units at each temperature, and the
  fewest hidden units that reach a KL threshold: how the needed capacity
  grows near T_c (Torlai & Melko 2016, arXiv:1606.02718).
- `hidden_units_scan_sampled`: the same question for any L (8), with CD:
  relative errors of the sampled e, <|m|>, c, chi against Monte Carlo and
  KL(p_T || q) per spin (Kaufman's log Z_T, exact or AIS log Z_q), for
  each number of hidden units and temperature.
- `monte_carlo_check`: every Monte Carlo method against exact enumeration.
- `vae_scan`: a VAE trained on configurations from the whole temperature
  grid; its latent means against m and its reconstruction loss against T
  (Wetzel 2017, arXiv:1703.02435).

Command line (prints a JSON summary):

    python -m keras_genmodels.physics.studies check
    python -m keras_genmodels.physics.studies rbm --L 8 --fit cd --n-hidden 64
    python -m keras_genmodels.physics.studies rbm --L 8 --fit cd --n-hidden 64 --seeds 0 1 2 3 4
    python -m keras_genmodels.physics.studies hidden --steps 2000
    python -m keras_genmodels.physics.studies hidden --L 8 --hidden 4 8 16 32 64
    python -m keras_genmodels.physics.studies vae --L 16

Each flag applies where it says: at L = 4, `hidden` runs the exact-likelihood
scan (`--steps`, `--learning-rate`, `--n-train`), at L > 4 the CD scan
(`--epochs`, `--k`, `--batch-size`, `--learning-rate`, `--momentum`,
`--n-train`, `--n-model-samples`, `--gibbs-steps`); a flag given where it does
not apply is refused rather than ignored.
"""

import argparse
import json
import sys
import time

import numpy as np

from keras_genmodels.physics import analysis, data, exact, lattice, sampler

SCAN_OBSERVABLES = ("energy", "abs_magnetization", "heat_capacity", "susceptibility")


def _fit_rbm_pcd(x, n_hidden, epochs, seed, learning_rate=1e-2, batch_size=100, k=10):
    import keras

    from keras_genmodels.rbm import BernoulliRBM

    rbm = BernoulliRBM(x.shape[1], n_hidden, k=k, persistent=True, n_chains=batch_size, seed=seed)
    rbm.initialize_visible_bias(x)
    steps = epochs * max(1, len(x) // batch_size)
    rbm.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.02)
        ),
        steps_per_execution=50,
    )
    rbm.fit(x, batch_size=batch_size, epochs=epochs, verbose=0)
    return rbm


# The L = 8 recipe (docs/physics.md): CD-10, SGD with momentum, augmented data,
# 60 epochs of batch 100 (12,000 updates of 20,000 configurations).
CD_RECIPE = {"k": 10, "epochs": 60, "batch_size": 100, "learning_rate": 0.1, "momentum": 0.9}


def _fit_rbm_cd(spins, n_hidden, seed, **recipe):
    from keras_genmodels.rbm import BernoulliRBM
    from keras_genmodels.rbm.ising import fit_rbm_ising

    r = {**CD_RECIPE, **{k: v for k, v in recipe.items() if v is not None}}
    L = spins.shape[1]
    rbm = BernoulliRBM(L * L, n_hidden, k=r["k"], seed=seed)
    fit_rbm_ising(
        rbm, spins, epochs=r["epochs"], batch_size=r["batch_size"],
        learning_rate=r["learning_rate"], momentum=r["momentum"], seed=seed,
    )
    return rbm


def _pairs(est):
    return {k: (float(est[k].value), float(est[k].error)) for k in SCAN_OBSERVABLES}


def rbm_temperature_scan(
    L,
    temperatures,
    *,
    n_hidden=16,
    n_train=20000,
    n_model_samples=10000,
    fit="pcd",
    epochs=None,
    steps=2000,
    learning_rate=None,
    k=None,
    batch_size=None,
    momentum=None,
    gibbs_steps=500,
    from_data=None,
    kl=None,
    seed=0,
    cache_dir=None,
):
    """Observables of RBM samples vs Monte Carlo (and exact) across temperatures.

    Args:
        L: lattice size (`fit="exact"` needs L <= 4).
        temperatures: the grid.
        n_hidden: RBM hidden units. Defaults to `16`.
        n_train: Monte Carlo training configurations per T. Defaults to `20000`.
        n_model_samples: RBM samples (independent Gibbs chains) per T.
            Defaults to `10000`.
        fit: "cd" (`rbm.ising.fit_rbm_ising`: CD-k, SGD with momentum and
            symmetry augmentation; defaults in `CD_RECIPE`), "pcd"
            (`BernoulliRBM.fit`, PCD-10, Adam with a cosine-decayed learning
            rate) or "exact". Defaults to "pcd".
        epochs: CD/PCD epochs. Defaults to `None` (60).
        steps: exact-likelihood steps. Defaults to `2000`.
        learning_rate: Defaults to `None`: `CD_RECIPE["learning_rate"]` (0.1)
            for CD, 1e-2 (Adam) for PCD, 0.2 (Adam) for exact.
        k: CD-k / PCD-k Gibbs steps. Defaults to `None` (10 for both,
            `CD_RECIPE["k"]` for CD).
        batch_size: CD/PCD batch size. Defaults to `None` (100 for both).
        momentum: SGD momentum, CD only. Defaults to `None` (`CD_RECIPE`, 0.9).
        gibbs_steps: sweeps of each RBM sampling chain. Defaults to `500`.
        from_data: also run chains started at Monte Carlo configurations
            (`rbm_from_data`), to check that the sampler has mixed. Defaults
            to `None` (for L > 4).
        kl: for L > 4, estimate KL(p_T || q) per spin on held-out Monte Carlo
            samples (`analysis.rbm_kl_estimate`). Defaults to `None` (for L > 4).
        seed: int. Defaults to `0`.
        cache_dir: for the Monte Carlo data. Defaults to `None`.

    Returns:
        A list with one dict per temperature: `temperature`, `mc` and `rbm`
        (name -> (value, error)), `exact`, `rbm_exact` and `kl` (L <= 4),
        `rbm_from_data` and `kl_per_spin` (L > 4 by default), `train_seconds`,
        `seconds`.
    """
    temps = lattice.check_temperatures(temperatures)
    big = L > exact.MAX_EXACT_L
    from_data = big if from_data is None else bool(from_data)
    kl = big if kl is None else bool(kl)
    train = data.generate(L, temps, n_train, seed=seed, cache_dir=cache_dir)
    rows = []
    for T in temps:
        start = time.perf_counter()
        spins = train.at(T)
        x = ((spins + 1) // 2).reshape(len(spins), -1).astype("float32")
        if fit == "exact":
            from keras_genmodels.rbm import BernoulliRBM
            from keras_genmodels.rbm.ising import fit_rbm_exact_likelihood

            rbm = BernoulliRBM(L * L, n_hidden, seed=seed)
            fit_rbm_exact_likelihood(rbm, spins, steps=steps, learning_rate=learning_rate or 0.2)
        elif fit == "pcd":
            rbm = _fit_rbm_pcd(
                x, n_hidden, epochs or 60, seed, learning_rate or 1e-2,
                batch_size=batch_size or 100, k=k or 10,
            )
        elif fit == "cd":
            rbm = _fit_rbm_cd(
                spins, n_hidden, seed, k=k, epochs=epochs, batch_size=batch_size,
                learning_rate=learning_rate, momentum=momentum,
            )
        else:
            raise ValueError(f"`fit` must be 'cd', 'pcd' or 'exact'. Received: fit={fit!r}")
        train_seconds = time.perf_counter() - start
        held_out = sampler.sample_ising(L, T, n_model_samples, seed=seed + 1)
        mc = held_out.observables()
        est = analysis.sample_observables(rbm, n_model_samples, T, seed=seed + 2, gibbs_steps=gibbs_steps)
        row = {"temperature": float(T), "mc": _pairs(mc), "rbm": _pairs(est)}
        if from_data:
            start_states = (held_out.spins + 1) // 2
            row["rbm_from_data"] = _pairs(
                analysis.sample_observables(
                    rbm, n_model_samples, T, seed=seed + 3, gibbs_steps=gibbs_steps,
                    initial=start_states,
                )
            )
        if L <= exact.MAX_EXACT_L:
            ex = exact.exact_observables(L, T)
            row["exact"] = {k: float(ex[k]) for k in SCAN_OBSERVABLES}
            row["rbm_exact"] = {
                k: float(v) for k, v in analysis.rbm_exact_observables(rbm, T).items() if k in SCAN_OBSERVABLES
            }
            row["kl"] = analysis.rbm_exact_kl(rbm, T)
        elif kl:
            row.update(_kl_per_spin(rbm, held_out.spins, T, seed))
        row["train_seconds"] = train_seconds
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
    return rows


def relative_errors(row, key="rbm"):
    """{observable: RBM / Monte Carlo - 1} of one temperature's row of `rbm_temperature_scan`.

    `key` is `"rbm"` (chains started from the base rate) or `"rbm_from_data"`
    (chains started at held-out Monte Carlo configurations).
    """
    return {name: row[key][name][0] / row["mc"][name][0] - 1.0 for name in SCAN_OBSERVABLES}


def summarize_seeds(runs):
    """Mean and standard deviation over seeds of the scans' relative errors, per temperature.

    Args:
        runs: `{seed: rows}`, each `rows` one `rbm_temperature_scan` result
            over the same temperatures.

    Returns:
        A list with one dict per temperature: `temperature`, and for each of
        `"rbm"` and `"rbm_from_data"` (where the rows have it) `{observable:
        {"mean", "sd", "values"}}` of RBM / Monte Carlo - 1 over the seeds
        (`sd` the sample standard deviation, ddof = 1; 0 for one seed), and
        `kl_per_spin` likewise where the rows have it.
    """

    def stats(values):
        values = np.asarray(values, "float64")
        sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        return {"mean": float(values.mean()), "sd": sd, "values": values.tolist()}

    seeds = list(runs)
    out = []
    for i, first in enumerate(runs[seeds[0]]):
        rows = [runs[seed][i] for seed in seeds]
        entry = {"temperature": first["temperature"]}
        for key in ("rbm", "rbm_from_data"):
            if key in first:
                errors = [relative_errors(row, key) for row in rows]
                entry[key] = {name: stats([e[name] for e in errors]) for name in SCAN_OBSERVABLES}
        if "kl_per_spin" in first:
            entry["kl_per_spin"] = stats([row["kl_per_spin"] for row in rows])
        out.append(entry)
    return out


def _kl_per_spin(rbm, spins, T, seed):
    from keras_genmodels.rbm import default_ais_schedule

    est = analysis.rbm_kl_estimate(
        rbm, spins, T, betas=default_ais_schedule(0.3), n_chains=200, seed=seed
    )
    n = spins.shape[1] ** 2
    return {
        "kl_per_spin": est["kl_per_spin"],
        "kl_per_spin_error": float(np.hypot(est["kl_error"], est["log_z_error"]) / n),
    }


def hidden_units_scan_sampled(
    L,
    temperatures,
    hidden_sizes=(4, 8, 16, 32, 64),
    *,
    n_train=20000,
    n_model_samples=5000,
    gibbs_steps=500,
    seed=0,
    cache_dir=None,
    **recipe,
):
    """Accuracy of CD-trained RBMs vs hidden units and temperature, any L.

    For each T: `n_train` Monte Carlo configurations, one RBM per number of
    hidden units trained by `rbm.ising.fit_rbm_ising` (`CD_RECIPE`, overridable
    by `recipe`: k, epochs, batch_size, learning_rate, momentum); then the
    relative error (RBM samples / Monte Carlo - 1) of e, <|m|>, c and chi, and
    KL(p_T || q) per spin on held-out Monte Carlo samples
    (`analysis.rbm_kl_estimate`: Kaufman's log Z_T; log Z_q exact for <= 20
    hidden units, else AIS).

    Returns:
        A dict: `temperatures` (n_T,), `hidden_sizes` (n_H,), `mc` (per T,
        name -> (value, error)), `relative_error` name -> (n_T, n_H),
        `error_bar` name -> (n_T, n_H) (the statistical error of that
        relative error), `kl_per_spin` and `kl_per_spin_error` (n_T, n_H),
        `seconds` (n_T, n_H).
    """
    temps = lattice.check_temperatures(temperatures)
    hidden_sizes = [int(h) for h in hidden_sizes]
    train = data.generate(L, temps, n_train, seed=seed, cache_dir=cache_dir)
    shape = (len(temps), len(hidden_sizes))
    rel = {k: np.full(shape, np.nan) for k in SCAN_OBSERVABLES}
    bar = {k: np.full(shape, np.nan) for k in SCAN_OBSERVABLES}
    kl, kl_err, seconds = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape)
    mc_rows = []
    for i, T in enumerate(temps):
        held_out = sampler.sample_ising(L, T, n_model_samples, seed=seed + 1)
        mc = held_out.observables()
        mc_rows.append(_pairs(mc))
        for j, h in enumerate(hidden_sizes):
            start = time.perf_counter()
            rbm = _fit_rbm_cd(train.at(T), h, seed, **recipe)
            est = analysis.sample_observables(rbm, n_model_samples, T, seed=seed + 2, gibbs_steps=gibbs_steps)
            for k in SCAN_OBSERVABLES:
                # (a ± σ_a) / (b ± σ_b) - 1, error sqrt(σ_a² + (a/b)² σ_b²) / |b|.
                a, b = np.float64(est[k].value), np.float64(mc[k].value)
                rel[k][i, j] = a / b - 1
                bar[k][i, j] = np.hypot(est[k].error, a / b * mc[k].error) / abs(b)
            d = _kl_per_spin(rbm, held_out.spins, T, seed)
            kl[i, j], kl_err[i, j] = d["kl_per_spin"], d["kl_per_spin_error"]
            seconds[i, j] = time.perf_counter() - start
    return {
        "temperatures": temps,
        "hidden_sizes": np.asarray(hidden_sizes),
        "mc": mc_rows,
        "relative_error": rel,
        "error_bar": bar,
        "kl_per_spin": kl,
        "kl_per_spin_error": kl_err,
        "seconds": seconds,
    }


def hidden_units_scan(
    temperatures,
    hidden_sizes=(2, 4, 8, 16),
    *,
    n_train=200_000,
    steps=2000,
    learning_rate=0.2,
    kl_threshold=0.01,
    seed=0,
):
    """Exact KL of L = 4 RBMs vs hidden units and temperature.

    For each T: `n_train` Monte Carlo configurations; for each number of
    hidden units H, a `BernoulliRBM(16, H)` fitted by
    `rbm.ising.fit_rbm_exact_likelihood` (full-batch Adam, exact negative
    phase) and its exact KL(p_T || q) = sum_s p_T(s) (log p_T(s) - log q(s))
    (`analysis.rbm_exact_kl`).

    Args:
        temperatures: the grid.
        hidden_sizes: numbers of hidden units. Defaults to `(2, 4, 8, 16)`.
        n_train: Monte Carlo configurations per T. Defaults to `200_000`.
        steps: full-batch Adam steps of each fit. Defaults to `2000`.
        learning_rate: Adam's initial (cosine-decayed) learning rate.
            Defaults to `0.2`.
        kl_threshold: the KL (nats) for `needed`. Defaults to `0.01`.
        seed: int. Defaults to `0`.

    Returns:
        A dict: `temperatures`, `hidden_sizes`, `kl` (n_T, n_H) in nats, and
        `needed` (n_T,): the fewest hidden units in the grid with KL below
        `kl_threshold` (NaN if none).
    """
    from keras_genmodels.rbm import BernoulliRBM
    from keras_genmodels.rbm.ising import fit_rbm_exact_likelihood

    temps = lattice.check_temperatures(temperatures)
    kl = np.full((len(temps), len(hidden_sizes)), np.nan)
    for i, T in enumerate(temps):
        spins = sampler.sample_ising(4, T, n_train, seed=seed).spins
        for j, h in enumerate(hidden_sizes):
            rbm = BernoulliRBM(16, int(h), seed=seed)
            fit_rbm_exact_likelihood(rbm, spins, steps=steps, learning_rate=learning_rate)
            kl[i, j] = analysis.rbm_exact_kl(rbm, T)
    needed = np.array(
        [
            next((float(h) for h, k in zip(hidden_sizes, row) if k < kl_threshold), np.nan)
            for row in kl
        ]
    )
    return {
        "temperatures": temps,
        "hidden_sizes": np.asarray(hidden_sizes),
        "kl": kl,
        "needed": needed,
        "kl_threshold": kl_threshold,
    }


def vae_scan(
    L,
    temperatures,
    *,
    n_per_temperature=1000,
    latent_dim=2,
    hidden_units=(256, 64),
    epochs=30,
    seed=0,
    cache_dir=None,
):
    """Wetzel's experiment: one VAE on all temperatures; latent vs m, loss vs T.

    Returns:
        A dict: `vae`, `data` (`IsingData`), `latent` (from
        `analysis.vae_latent_vs_magnetization`), `reconstruction` (from
        `analysis.vae_reconstruction_vs_temperature`), `history`.
    """
    import keras

    from keras_genmodels.vae import VAE

    d = data.generate(L, temperatures, n_per_temperature, seed=seed, cache_dir=cache_dir)
    vae = VAE(
        architecture="mlp",
        data_shape=(L, L),
        latent_dim=latent_dim,
        hidden_units=hidden_units,
        likelihood="bernoulli",
        seed=seed,
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = vae.fit(d.binary().astype("float32"), epochs=epochs, batch_size=128, verbose=0)
    return {
        "vae": vae,
        "data": d,
        "latent": analysis.vae_latent_vs_magnetization(vae, d.spins),
        "reconstruction": analysis.vae_reconstruction_vs_temperature(vae, d.spins, d.temperatures),
        "history": history.history,
    }


def monte_carlo_check(temperatures=(1.5, 2.269, 3.0), n_samples=100_000, L=4, seed=0):
    """Monte Carlo (every method) against exact enumeration at L <= 4.

    Returns:
        A list of dicts: `temperature`, `method`, `backend`, and per
        observable `(value, error, exact, deviation in errors)`.
    """
    rows = []
    for T in lattice.check_temperatures(temperatures):
        ex = exact.exact_observables(L, T)
        for method, backend in (("metropolis", "multispin"), ("metropolis", "numpy"), ("wolff", "auto")):
            r = sampler.sample_ising(L, T, n_samples, method=method, backend=backend, seed=seed)
            est = r.observables(n_blocks=50)
            rows.append(
                {
                    "temperature": float(T),
                    "method": r.method,
                    "backend": r.backend,
                    "tau": r.info.tau,
                    "seconds": r.info.seconds,
                    **{
                        k: (est[k].value, est[k].error, float(ex[k]), est[k].deviation(ex[k]))
                        for k in ("energy", "abs_magnetization", "heat_capacity", "susceptibility", "binder_cumulant")
                    },
                }
            )
    return rows


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return None if not np.isfinite(x) else round(float(x), 6)
    if isinstance(x, np.integer):
        return int(x)
    return x


def _flag(name):
    return "--" + name.replace("_", "-")


def _refuse(parser, args, names, applies_to):
    """`parser.error` naming each of `names` given on the command line (not None)."""
    given = [n for n in names if getattr(args, n) is not None]
    if given:
        flags = ", ".join(_flag(n) for n in given)
        received = " ".join(f"{_flag(n)} {getattr(args, n)}" for n in given)
        parser.error(
            f"{flags} {'applies' if len(given) == 1 else 'apply'} to {applies_to} only. "
            f"Received: {received}"
        )


def _or(value, default):
    return default if value is None else value


# Flags of the CD scan of `hidden` (L > 4) and of the exact scan (L = 4).
_HIDDEN_CD_ONLY = ("epochs", "k", "batch_size", "momentum", "n_model_samples", "gibbs_steps")
_HIDDEN_EXACT_ONLY = ("steps",)


def main(argv=None):
    """The command line: `python -m keras_genmodels.physics.studies {rbm,hidden,check,vae} ...`."""
    parser = argparse.ArgumentParser(
        description="Does a generative model learn the 2D Ising model? RBMs and VAEs trained on "
        "Monte Carlo configurations, compared with Monte Carlo and exact enumeration."
    )
    sub = parser.add_subparsers(dest="study", required=True)
    temps = [1.5, 2.0, lattice.T_C, 2.5, 3.0]
    cd = CD_RECIPE

    rbm = sub.add_parser("rbm", help="RBM observables vs Monte Carlo across temperatures")
    rbm.add_argument("--L", type=int, default=8, help="lattice size (default %(default)s)")
    rbm.add_argument("--temperatures", type=float, nargs="+", default=temps,
                     help="default %(default)s")
    rbm.add_argument("--n-hidden", type=int, default=64, help="hidden units (default %(default)s)")
    rbm.add_argument("--fit", choices=["cd", "pcd", "exact"], default="cd",
                     help="CD-k with SGD (CD_RECIPE), PCD-k with Adam, or the exact likelihood "
                     "(L <= 4) (default %(default)s)")
    rbm.add_argument("--n-train", type=int, default=20000,
                     help="Monte Carlo training configurations per T (default %(default)s)")
    rbm.add_argument("--n-model-samples", type=int, default=10000,
                     help="RBM samples per T (default %(default)s)")
    rbm.add_argument("--gibbs-steps", type=int, default=None,
                     help="sweeps of each RBM sampling chain (default 500 for L <= 4, else 1000)")
    rbm.add_argument("--steps", type=int, default=None,
                     help="full-batch Adam steps, --fit exact only (default 2000)")
    rbm.add_argument("--epochs", type=int, default=None,
                     help=f"epochs, --fit cd or pcd only (default {cd['epochs']})")
    rbm.add_argument("--k", type=int, default=None,
                     help=f"Gibbs steps of CD-k / PCD-k, --fit cd or pcd only (default {cd['k']})")
    rbm.add_argument("--batch-size", type=int, default=None,
                     help=f"--fit cd or pcd only (default {cd['batch_size']})")
    rbm.add_argument("--learning-rate", type=float, default=None,
                     help=f"default {cd['learning_rate']} (SGD, CD_RECIPE) for --fit cd, "
                     "0.01 (Adam) for pcd, 0.2 (Adam) for exact")
    rbm.add_argument("--momentum", type=float, default=None,
                     help=f"SGD momentum, --fit cd only (default {cd['momentum']})")

    hid = sub.add_parser(
        "hidden",
        help="RBM accuracy vs hidden units and T: exact-likelihood fits and exact KL at L = 4, "
        "CD fits and sampled observables at L > 4",
    )
    hid.add_argument("--L", type=int, default=4,
                     help="4: the exact scan; > 4: the CD scan (default %(default)s)")
    hid.add_argument("--temperatures", type=float, nargs="+", default=temps,
                     help="default %(default)s")
    hid.add_argument("--hidden", type=int, nargs="+", default=None,
                     help="numbers of hidden units (default 2 4 8 16 at L = 4, 4 8 16 32 64 otherwise)")
    hid.add_argument("--n-train", type=int, default=None,
                     help="Monte Carlo training configurations per T (default 200000 at L = 4, "
                     "20000 at L > 4)")
    hid.add_argument("--learning-rate", type=float, default=None,
                     help="default 0.2 (Adam) for the exact scan at L = 4, "
                     f"{cd['learning_rate']} (SGD, CD_RECIPE) for the CD scan at L > 4")
    hid.add_argument("--steps", type=int, default=None,
                     help="full-batch Adam steps, exact scan (L = 4) only (default 2000)")
    hid.add_argument("--epochs", type=int, default=None,
                     help=f"CD scan (L > 4) only (default {cd['epochs']})")
    hid.add_argument("--k", type=int, default=None,
                     help=f"Gibbs steps of CD-k, CD scan (L > 4) only (default {cd['k']})")
    hid.add_argument("--batch-size", type=int, default=None,
                     help=f"CD scan (L > 4) only (default {cd['batch_size']})")
    hid.add_argument("--momentum", type=float, default=None,
                     help=f"SGD momentum, CD scan (L > 4) only (default {cd['momentum']})")
    hid.add_argument("--n-model-samples", type=int, default=None,
                     help="RBM samples per T and size, CD scan (L > 4) only (default 5000)")
    hid.add_argument("--gibbs-steps", type=int, default=None,
                     help="sweeps of each RBM sampling chain, CD scan (L > 4) only (default 500)")

    chk = sub.add_parser("check", help="Monte Carlo vs exact enumeration at L = 4")
    chk.add_argument("--temperatures", type=float, nargs="+", default=[1.5, 2.269, 3.0],
                     help="default %(default)s")
    chk.add_argument("--n", type=int, default=100_000,
                     help="samples per method and temperature (default %(default)s)")
    vae = sub.add_parser("vae", help="VAE latent vs m and reconstruction vs T")
    vae.add_argument("--L", type=int, default=16, help="lattice size (default %(default)s)")
    vae.add_argument("--n", type=int, default=1000,
                     help="configurations per temperature (default %(default)s)")
    vae.add_argument("--epochs", type=int, default=30, help="default %(default)s")
    for p in (rbm, hid, chk, vae):
        p.add_argument("--seed", type=int, default=0, help="default %(default)s")
    rbm.add_argument("--seeds", type=int, nargs="+", default=None,
                     help="run the scan once per seed (Monte Carlo data, RBM and its samples all "
                     "seeded by it) and add the mean and standard deviation of the relative errors "
                     "over the seeds; overrides --seed")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.study == "rbm":
        if args.fit == "exact":
            _refuse(rbm, args, ("epochs", "k", "batch_size", "momentum"),
                    "the CD and PCD fits (--fit cd or pcd)")
        else:
            _refuse(rbm, args, ("steps",), "the exact fit (--fit exact)")
        if args.fit == "pcd":
            _refuse(rbm, args, ("momentum",), "the CD fit (--fit cd)")
        runs = {}
        for seed in args.seeds if args.seeds is not None else [args.seed]:
            runs[seed] = rbm_temperature_scan(
                args.L, args.temperatures, n_hidden=args.n_hidden, fit=args.fit, epochs=args.epochs,
                steps=_or(args.steps, 2000), n_train=args.n_train,
                n_model_samples=args.n_model_samples, seed=seed, k=args.k,
                batch_size=args.batch_size, learning_rate=args.learning_rate, momentum=args.momentum,
                gibbs_steps=_or(args.gibbs_steps, 500 if args.L <= exact.MAX_EXACT_L else 1000),
            )
            if args.seeds is not None:  # a progress line per seed, the JSON at the end
                print(json.dumps({"seed": seed, "result": _jsonable(runs[seed])}), file=sys.stderr, flush=True)
        if args.seeds is None:
            out = runs[args.seed]
        else:
            out = {"seeds": args.seeds, "summary": summarize_seeds(runs),
                   "runs": {str(seed): rows for seed, rows in runs.items()}}
    elif args.study == "check":
        out = monte_carlo_check(args.temperatures, args.n, seed=args.seed)
    elif args.study == "hidden" and args.L <= exact.MAX_EXACT_L:
        if args.L != 4:
            hid.error(f"the exact hidden-units scan is for L = 4. Received: --L {args.L}")
        _refuse(hid, args, _HIDDEN_CD_ONLY, "the CD scan (L > 4)")
        out = hidden_units_scan(
            args.temperatures, args.hidden or [2, 4, 8, 16], n_train=_or(args.n_train, 200_000),
            steps=_or(args.steps, 2000), learning_rate=_or(args.learning_rate, 0.2),
            seed=args.seed,
        )
    elif args.study == "hidden":
        _refuse(hid, args, _HIDDEN_EXACT_ONLY, "the exact scan (L = 4)")
        out = hidden_units_scan_sampled(
            args.L, args.temperatures, args.hidden or [4, 8, 16, 32, 64],
            n_train=_or(args.n_train, 20000), n_model_samples=_or(args.n_model_samples, 5000),
            gibbs_steps=_or(args.gibbs_steps, 500), seed=args.seed, k=args.k, epochs=args.epochs,
            batch_size=args.batch_size, learning_rate=args.learning_rate, momentum=args.momentum,
        )
    else:
        res = vae_scan(args.L, data.temperature_grid(16, 1.0, 3.5), n_per_temperature=args.n,
                       epochs=args.epochs, seed=args.seed)
        out = {
            "correlation_with_m": res["latent"]["correlation"],
            "abs_correlation_with_abs_m": res["latent"]["abs_correlation"],
            "reconstruction": res["reconstruction"],
        }
    print(json.dumps({"seconds": round(time.perf_counter() - start, 1), "result": _jsonable(out)}, indent=1))


if __name__ == "__main__":
    main()
