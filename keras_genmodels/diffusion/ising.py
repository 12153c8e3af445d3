"""Does a diffusion model learn the 2D Ising model? Training a DDPM on Monte Carlo and the physics report.

A `DiffusionModel(data="spins")` with the periodic ε-network
`networks.lattice_network` (no edge sites, as on the torus of the Ising
model) is trained at one temperature T on n configurations s = ±1 of the
library's Monte Carlo (`physics.data.generate`, seeded by the run's seed,
cached), by the ε-prediction loss of Ho et al. 2020,

    L_simple = E_{t, x_0, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²,

with AdamW and EMA weights; it samples by DDIM (Song et al. 2021) with
`steps` steps and η (η = 1: the ancestral noise of DDPM on the coarser grid
of steps), and a sample's sites are mapped back to ±1 by their sign. The
model is unconditional: one model per temperature, reported at that
temperature only. Nothing in the network makes its law invariant under
s → −s, as the Ising Hamiltonian H(s) = −Σ_<ij> s_i s_j is: the fraction of
samples with m > 0 measures how well it learnt that symmetry from the data.

The report (`physics_report`) is the family-neutral one of
`metrics.ising_study`: the model's samples (seed `seed + 2`) against fresh
Monte Carlo (`physics.sample_ising`, seed `seed + 1`; the training data come
from other streams), per temperature, with e = E/N and m = M/N per
configuration (N = L²):

- W1(e), W1(m), W1(|m|): the 1-Wasserstein distances of the empirical laws
  of the model's and Monte Carlo's e, m and |m| (D'Angelo & Böttcher 2020,
  Phys. Rev. Research 2, 023266);
- the fraction of samples with m > 0 (1/2 in equilibrium; below T_c the
  target is 0.5 ± 0.05, `ising_study.MODE_BALANCE_TOLERANCE`);
- e, <|m|>, c = β² N var(e), χ = β N (<m²> − <|m|>²) of both sets with
  jackknife errors, and the relative errors r = model / Monte Carlo − 1;
- at L = 32, T = 2.5: W1(m) < 0.047 and W1(e) < 0.02, below the best of
  D'Angelo & Böttcher's RBM and convolutional VAE (`ising_study.PUBLISHED_W1`).

Commands (one JSON per seed, `diffusion_ising_L{L}_seed{S}.json`, in `--out`):

    python -m keras_genmodels.diffusion.ising --L 16 --temperatures 1.8 2.269 3.0 --seeds 0 1 \\
        --out bench/results
    python -m keras_genmodels.diffusion.ising --L 32 --temperatures 2.5 --seeds 0 1 --out bench/results
    python -m keras_genmodels.diffusion.ising --summarize bench/results     # mean ± sd over the seeds

The recipe's defaults (training, sampling and the report's sample sizes)
are `RECIPES[L]` (`recipe`), sized for a CPU (not converged); each entry has
a flag that overrides it.
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels import training
from keras_genmodels._files import atomic_write_json
from keras_genmodels.diffusion import networks, process
from keras_genmodels.diffusion.model import METHODS, SCHEDULES, DiffusionModel
from keras_genmodels.metrics import ising_study
from keras_genmodels.physics import data as physics_data
from keras_genmodels.physics import lattice

# The recipes of the study by lattice size (training, sampling, the report's sample sizes);
# `train_ising_diffusion`'s defaults are those of L = 16.
RECIPES = {
    16: {"n_configurations": 8000, "epochs": 16, "batch_size": 64, "widths": (32, 64), "block_depth": 2,
         "timesteps": 1000, "schedule": "linear", "learning_rate": 1e-3, "weight_decay": 1e-4, "ema_decay": 0.999,
         "method": "ddim", "steps": 100, "eta": 1.0, "n_samples": 2000, "reference_n": 4000},
    32: {"n_configurations": 8000, "epochs": 8, "batch_size": 64, "widths": (32, 64), "block_depth": 2,
         "timesteps": 1000, "schedule": "linear", "learning_rate": 1e-3, "weight_decay": 1e-4, "ema_decay": 0.999,
         "method": "ddim", "steps": 100, "eta": 1.0, "n_samples": 1000, "reference_n": 4000},
}
TRAINING_KEYS = ("n_configurations", "epochs", "batch_size", "widths", "block_depth", "timesteps", "schedule",
                 "learning_rate", "weight_decay", "ema_decay")
SAMPLING_KEYS = ("method", "steps", "eta")
REPORT_KEYS = ("n_samples", "reference_n")
RESULT_PATTERN = "diffusion_ising_L*_seed*.json"


def recipe(L):
    """The study's recipe for lattice size L (`RECIPES`; L = 16's for other sizes), a new dict."""
    return dict(RECIPES.get(int(L), RECIPES[16]))


def train_ising_diffusion(
    L,
    temperature,
    seed=0,
    n_configurations=RECIPES[16]["n_configurations"],
    epochs=RECIPES[16]["epochs"],
    batch_size=RECIPES[16]["batch_size"],
    widths=RECIPES[16]["widths"],
    block_depth=RECIPES[16]["block_depth"],
    timesteps=RECIPES[16]["timesteps"],
    schedule=RECIPES[16]["schedule"],
    learning_rate=RECIPES[16]["learning_rate"],
    weight_decay=RECIPES[16]["weight_decay"],
    ema_decay=RECIPES[16]["ema_decay"],
    budget_seconds=None,
    verbose=0,
    *,
    cache_dir=None,
    callbacks=None,
):
    """Train an unconditional diffusion model on Monte Carlo configurations of the L x L Ising model at T.

    The data are `n_configurations` configurations s = ±1 at `temperature`
    (`physics.data.generate`, seeded by `seed`, cached), float32 of shape
    (n, L, L, 1). The model is `DiffusionModel(data="spins")` with the
    ε-network `networks.lattice_network(L, widths, block_depth)`, trained by
    `fit` on L_simple = E ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖² with
    AdamW(`learning_rate`, `weight_decay`); its EMA weights
    w_ema ← d w_ema + (1 − d) w (d = `ema_decay`) are the ones that sample.

    Args:
        L: the lattice size, a multiple of 2^(len(widths) − 1).
        temperature: the temperature T > 0 of the training configurations.
        seed: int ≥ 0: the data, the weights and every random draw. Defaults to `0`.
        n_configurations: Monte Carlo configurations to train on. Defaults to `8000`.
        epochs: passes over the data. Defaults to `16`.
        batch_size: configurations per step. Defaults to `64`.
        widths: the network's channels per resolution, highest first. Defaults to `(32, 64)`.
        block_depth: residual blocks per resolution. Defaults to `2`.
        timesteps: the diffusion steps T of the process. Defaults to `1000`.
        schedule: `"linear"` or `"cosine"` β_t. Defaults to `"linear"`.
        learning_rate: AdamW's learning rate. Defaults to `1e-3`.
        weight_decay: AdamW's weight decay, ≥ 0. Defaults to `1e-4`.
        ema_decay: d in [0, 1) of the EMA weights. Defaults to `0.999`.
        budget_seconds: stop after the first step that ends this many
            seconds after training began (the epoch is then cut short), or
            `None`. Defaults to `None`.
        verbose: `fit`'s verbosity. Defaults to `0`.
        cache_dir: the Monte Carlo cache folder, or `None` for the default.
        callbacks: more Keras callbacks, or `None`.

    Returns:
        `(model, history)`: the trained `DiffusionModel`, whose attribute
        `training_temperature` holds T (not saved with the model), and
        `fit`'s history dict (one value per epoch run; `"seconds"`: the
        wall-clock seconds since training began at the end of each epoch).

    Example:

    ```python
    from keras_genmodels.diffusion.ising import physics_report, train_ising_diffusion
    model, history = train_ising_diffusion(16, 1.8, epochs=2, seed=0)
    report = physics_report(model, 16, 1.8, seed=0)
    report["temperatures"][0]["energy_w1"]
    ```
    """
    L = v.check_positive_int("L", L)
    T = lattice.check_temperature(temperature)
    seed = v.check_seed("seed", seed, allow_none=False, non_negative=True)
    n_configurations = v.check_positive_int("n_configurations", n_configurations)
    epochs = v.check_positive_int("epochs", epochs)
    batch_size = v.check_positive_int("batch_size", batch_size)
    learning_rate = v.check_positive_float("learning_rate", learning_rate)
    weight_decay = v.check_positive_float("weight_decay", weight_decay, allow_zero=True)
    if budget_seconds is not None:
        budget_seconds = v.check_positive_float("budget_seconds", budget_seconds)
    # The model first: a bad L, width or schedule fails before the Monte Carlo runs.
    model = DiffusionModel(
        network=networks.lattice_network(L, widths=widths, block_depth=block_depth, seed=seed),
        data_shape=(L, L, 1),
        timesteps=timesteps,
        schedule=schedule,
        data="spins",
        ema_decay=ema_decay,
        seed=seed,
    )
    d = physics_data.generate(L, [T], n_configurations, seed=seed, cache_dir=cache_dir)
    x = d.spins.astype("float32")[..., None]  # (n, L, L, 1), ±1
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay))
    clock = training.TrainingClock(budget_seconds=budget_seconds)
    history = model.fit(x, batch_size=batch_size, epochs=epochs, verbose=verbose,
                        callbacks=[clock] + list(callbacks or []))
    model.training_temperature = T
    out = {k: [float(a) for a in vals] for k, vals in history.history.items()}
    out["seconds"] = [float(s) for s in clock.seconds]
    return model, out


def _sampler_settings(L, timesteps, method, steps, eta):
    """`(method, steps, eta)`: `None`s filled from the recipe of L (DDIM's steps at most T); none for DDPM."""
    r = recipe(L)
    method = r["method"] if method is None else method
    if method == "ddim":
        steps = min(r["steps"], timesteps) if steps is None else steps
        eta = r["eta"] if eta is None else eta
    return method, steps, eta


def _check_sampler(method, steps, eta, timesteps):
    """The sampler's settings checked as `DiffusionModel.sampling_schedule` will, before any training."""
    v.check_choice("method", method, METHODS)
    if method == "ddpm" and (steps not in (None, timesteps) or eta is not None):
        raise ValueError(f"Expected no steps (or T = {timesteps}) and no eta for method='ddpm' (every step). "
                         f"Received: steps={steps!r}, eta={eta!r}")
    if method == "ddim":
        v.check_positive_int("steps", steps, max_value=timesteps)
        process.check_eta(eta)


def _check_report_temperatures(model, L, temperatures):
    """The report's temperature (a float64 array of one), checked against the model."""
    L = v.check_positive_int("L", L)
    if tuple(model.data_shape) != (L, L, 1) or model.data != "spins":
        raise ValueError(
            f"Expected a diffusion model of L x L spins with L = {L}: data_shape ({L}, {L}, 1) and data='spins'. "
            f"Received: data_shape={model.data_shape}, data={model.data!r}"
        )
    temps = lattice.check_temperatures(temperatures)
    trained = getattr(model, "training_temperature", None)
    if len(np.unique(temps)) > 1 or (trained is not None and abs(temps[0] - trained) > 1e-6 * trained):
        expected = "the one it was trained at" if trained is None else f"[{trained}], the one it was trained at"
        raise ValueError(
            f"An unconditional model is reported at one temperature. Expected: temperatures={expected}. "
            f"Received: temperatures={temps.tolist()}"
        )
    return temps[:1]


def physics_report(model, L, temperatures, n_samples=None, reference_n=None, seed=0, method=None, steps=None,
                   eta=None):
    """The model's samples against fresh Monte Carlo at the temperature it was trained at (module docstring).

    The model draws `n_samples` configurations (`model.sample`, seed
    `seed + 2`, the channel axis dropped); `physics.sample_ising` draws
    `reference_n` (seed `seed + 1`); `metrics.ising_study.physics_report`
    compares them.

    Args:
        model: a spin `DiffusionModel` of L x L configurations
            (`train_ising_diffusion`).
        L: the lattice size.
        temperatures: one temperature (a float or a sequence of one): the
            one the model was trained at (checked where the model records it,
            `training_temperature`).
        n_samples: model samples, ≥ 2, or `None` for the recipe's
            (`recipe(L)`). Defaults to `None`.
        reference_n: Monte Carlo configurations, ≥ 2, or `None` for the
            recipe's. Defaults to `None`.
        seed: int ≥ 0. Defaults to `0`.
        method: `"ddim"` or `"ddpm"`, or `None` for the recipe's. Defaults to `None`.
        steps: DDIM's steps, or `None` (DDIM: the recipe's, at most T; DDPM: all T).
            Defaults to `None`.
        eta: DDIM's η in [0, 1], or `None` (DDIM: the recipe's; DDPM: none). Defaults to `None`.

    Returns:
        `metrics.ising_study.physics_report`'s dict (`L`, `n_samples`,
        `reference_n`, `seed`, `temperatures`: one row, `targets_met`) and
        `sampler`: `{"method", "steps", "eta"}`.
    """
    temps = _check_report_temperatures(model, L, temperatures)
    r = recipe(L)
    n_samples = r["n_samples"] if n_samples is None else n_samples
    reference_n = r["reference_n"] if reference_n is None else reference_n
    method, steps, eta, _, _ = model.sampling_schedule(*_sampler_settings(L, model.timesteps, method, steps, eta))

    def draw(T, n, seed):
        return model.sample(n, seed=seed + 2, method=method, steps=steps, eta=eta)[..., 0]  # (n, L, L)

    report = ising_study.physics_report(draw, L, temps, n_samples=n_samples, reference_n=reference_n, seed=seed)
    report["sampler"] = {"method": method, "steps": steps, "eta": eta}
    return report


# ------------------------------------------------------------------ seeds
def _result_path(out, L, seed):
    return os.path.join(out, f"diffusion_ising_L{L}_seed{seed}.json")


def summarize_folder(folder):
    """`{L: summarize_reports(...)}` of the `diffusion_ising_L*_seed*.json` files in `folder` (`ising_study`)."""
    return ising_study.summarize_folder(folder, RESULT_PATTERN)


def run_seed(L, temperatures, seed, verbose=0, budget_seconds=None, cache_dir=None, **settings):
    """Train (`train_ising_diffusion`) and report (`physics_report`) one model per temperature: a JSON-able dict.

    Args:
        L: the lattice size.
        temperatures: the temperatures, distinct; one model is trained and
            reported at each.
        seed: int ≥ 0, of every model, its data and its report.
        verbose: `fit`'s verbosity. Defaults to `0`.
        budget_seconds: each model's training budget (`train_ising_diffusion`),
            or `None`. Defaults to `None`.
        cache_dir: the Monte Carlo cache folder, or `None` for the default.
        **settings: recipe entries that override `recipe(L)` (`None`: the
            recipe's). With `method="ddpm"`, DDIM's `steps` and `eta` are
            dropped unless given; the recipe's DDIM `steps` are at most
            `timesteps`. The sampler is checked before any training.

    Returns:
        A dict: `L`, `seed`, `date`, `recipe` (the settings used, with
        `budget_seconds`), `training` (per temperature: `temperature`,
        `steps`, `epochs`, `seconds`, `final`: the last epoch's metrics),
        `train_seconds` (all models), `report` (`physics_report`'s, one row
        per temperature, in the order given), `versions`.
    """
    import tensorflow as tf

    temps = lattice.check_temperatures(temperatures)
    if len(np.unique(temps)) != len(temps):
        raise ValueError(f"Expected distinct temperatures (one model each). Received: temperatures={temps.tolist()}")
    unknown = sorted(set(settings) - set(RECIPES[16]))
    if unknown:
        raise ValueError(f"Expected recipe entries among {sorted(RECIPES[16])}. Received: {unknown}")
    given = {k: val for k, val in settings.items() if val is not None}
    s = {**recipe(L), **given}
    if s["method"] == "ddpm":
        s["steps"], s["eta"] = given.get("steps"), given.get("eta")
    else:
        s["steps"], s["eta"] = _sampler_settings(L, s["timesteps"], "ddim", given.get("steps"), s["eta"])[1:]
    _check_sampler(s["method"], s["steps"], s["eta"], v.check_positive_int("timesteps", s["timesteps"]))
    s["budget_seconds"] = budget_seconds
    runs, reports = [], []
    start = time.perf_counter()
    for T in temps:
        begin = time.perf_counter()
        model, history = train_ising_diffusion(L, float(T), seed=seed, budget_seconds=budget_seconds,
                                               verbose=verbose, cache_dir=cache_dir,
                                               **{k: s[k] for k in TRAINING_KEYS})
        runs.append({"temperature": float(T), "steps": int(model.optimizer.iterations.numpy()),
                     "epochs": len(history["seconds"]), "seconds": time.perf_counter() - begin,
                     "final": {k: vals[-1] for k, vals in history.items() if vals}})
        reports.append(physics_report(model, L, float(T), seed=seed, **{k: s[k] for k in SAMPLING_KEYS + REPORT_KEYS}))
    train_seconds = sum(run["seconds"] for run in runs)
    rows = [row for report in reports for row in report["temperatures"]]
    met = [t["met"] for row in rows for t in row["targets"].values()]
    report = {**reports[0], "temperatures": rows, "targets_met": all(met) if met else None}
    return {
        "L": L, "seed": seed, "date": time.strftime("%Y-%m-%d"),
        "recipe": {k: list(val) if isinstance(val, tuple) else val for k, val in s.items()},
        "training": runs, "train_seconds": train_seconds, "seconds": time.perf_counter() - start,
        "report": report,
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_genmodels.diffusion.ising",
        description="Train unconditional diffusion models on Ising Monte Carlo and report the physics per seed.",
    )
    parser.add_argument("--L", type=v.positive_int_flag, default=16,
                        help="lattice size, a multiple of 2^(number of widths - 1) (default %(default)s)")
    parser.add_argument("--temperatures", type=v.positive_float_flag, nargs="+", default=[1.8, 2.269, 3.0],
                        help="one model trained and reported at each (default %(default)s)")
    parser.add_argument("--seeds", type=v.non_negative_int_flag, nargs="+", default=[0], help="default %(default)s")
    parser.add_argument("--out", default=None, help="folder of the JSON files (one per seed)")
    parser.add_argument("--summarize", metavar="FOLDER", default=None,
                        help="print mean ± sd over the seeds of the JSON files in FOLDER, and stop")
    recipe_flags = (
        ("n-configurations", v.positive_int_flag, None, "Monte Carlo configurations per temperature"),
        ("epochs", v.positive_int_flag, None, "passes over the data"),
        ("batch-size", v.positive_int_flag, None, "configurations per step"),
        ("widths", v.positive_int_flag, "+", "the network's channels per resolution, highest first"),
        ("block-depth", v.positive_int_flag, None, "residual blocks per resolution"),
        ("timesteps", v.positive_int_flag, None, "the diffusion steps T"),
        ("learning-rate", v.positive_float_flag, None, "AdamW's learning rate"),
        ("weight-decay", v.non_negative_float_flag, None, "AdamW's weight decay"),
        ("ema-decay", v.non_negative_float_flag, None, "decay of the EMA weights, in [0, 1)"),
        ("steps", v.positive_int_flag, None, "DDIM's sampling steps"),
        ("eta", v.non_negative_float_flag, None, "DDIM's eta, in [0, 1]"),
        ("n-samples", v.positive_int_flag, None, "model samples per temperature in the report"),
        ("reference-n", v.positive_int_flag, None, "Monte Carlo configurations per temperature in the report"),
    )
    for flag, kind, nargs, what in recipe_flags:
        parser.add_argument(f"--{flag}", type=kind, nargs=nargs, default=None,
                            help=f"{what} (default: the recipe of --L, RECIPES)")
    parser.add_argument("--schedule", choices=SCHEDULES, default=None,
                        help="beta_t (default: the recipe of --L)")
    parser.add_argument("--method", choices=METHODS, default=None,
                        help="the sampler of the report (default: the recipe of --L)")
    parser.add_argument("--budget-seconds", type=v.positive_float_flag, default=None,
                        help="stop each model's training after this many seconds (default: none)")
    parser.add_argument("--cache-dir", default=None, help="the Monte Carlo cache folder (default: the library's)")
    parser.add_argument("--verbose", type=int, default=0, help="fit's verbosity (default %(default)s)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.summarize is not None:
        summaries = summarize_folder(args.summarize)
        if not summaries:
            parser.error(f"no {RESULT_PATTERN} files in {args.summarize}")
        for L, summary in summaries.items():
            print(ising_study.format_summary(L, summary))
        return summaries
    if args.out is None:
        parser.error("--out is required (unless --summarize)")
    settings = {k: getattr(args, k) for k in RECIPES[16]}
    if settings["widths"] is not None:
        settings["widths"] = tuple(settings["widths"])
    for seed in args.seeds:
        result = run_seed(args.L, args.temperatures, seed, args.verbose, args.budget_seconds, args.cache_dir,
                          **settings)
        result["command"] = " ".join(["python -m keras_genmodels.diffusion.ising"] + argv)
        path = _result_path(args.out, args.L, seed)
        atomic_write_json(path, result)
        steps = sum(run["steps"] for run in result["training"])
        rows = result["report"]["temperatures"]
        print(f"seed {seed}: {result['train_seconds']:.0f} s, {steps} steps -> {path}; "
              + "; ".join(f"T={r['temperature']:.4g} f(m>0) {r['positive_magnetization_fraction']:.3f} "
                          f"W1(e) {r['energy_w1']:.4f} W1(m) {r['magnetization_w1']:.4f}" for r in rows),
              flush=True)
    return None


if __name__ == "__main__":
    main()
