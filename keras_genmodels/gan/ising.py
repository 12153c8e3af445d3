"""Does a GAN learn the 2D Ising model? Training a WGAN-GP on Monte Carlo and the physics report.

Published GANs on the 2D Ising model collapse onto one sign of the
magnetisation below T_c and get the heat capacity wrong near T_c (Lee et al.
2024, arXiv 2412.03764). Here a `WGANGP` with periodic lattice networks
(`networks.lattice_generator`, `networks.lattice_critic`) is trained on
configurations of the library's Monte Carlo (`gan.data.ising_data`) and its
samples are compared with fresh Monte Carlo samples (`physics.sample_ising`,
another seed) by `metrics.ising_distances`.

The model. The generator's tanh output m(z, T) ∈ (−1, 1)^(L x L) is the mean
spin of each site; a sample draws s_i = ±1 with P(s_i = +1) = (1 + m_i) / 2,
independently given z. With `symmetric=True` each generated configuration is
multiplied by a sign σ = ±1 drawn with probability 1/2, in training and in
sampling, so the model's law is invariant under s → −s by construction, as the
Ising Hamiltonian H(s) = −Σ_<ij> s_i s_j is: P(m > 0) = P(m < 0) =
(1 − P(m = 0)) / 2 whatever the generator does (1/2 below T_c, where m = 0
is rare; the fraction of n samples scatters by √(1/(4n))), and the mode
collapse onto one sign reported by Lee et al. cannot happen.
A temperature-conditional model (several training temperatures) sees
c = (T − T_min) / (T_max − T_min) as an input of both networks.

The report (`physics_report`, the family-neutral `metrics.ising_study`), per
temperature, with e = E/N and m = M/N per configuration (N = L²):

- W1(e), W1(m): the 1-Wasserstein distances W1 = ∫ |F(x) − G(x)| dx of the
  empirical laws of the model's and Monte Carlo's e and m (D'Angelo &
  Böttcher 2020, Phys. Rev. Research 2, 023266);
- the fraction of samples with m > 0 (1/2 in equilibrium; below T_c the
  target is 0.5 ± 0.05, "no mode collapse");
- e, <|m|>, c = β² N var(e), χ = β N (<m²> − <|m|>²) of both sets with
  jackknife errors, and the relative errors r = model / Monte Carlo − 1.

Targets, where the issue defines them: |fraction(m > 0) − 1/2| ≤ 0.05 below
T_c; at L = 32, T = 2.5, W1(m) and W1(e) below the best of D'Angelo &
Böttcher's RBM (W1(m) 0.099, W1(e) 0.02) and convolutional VAE (W1(m)
0.047, W1(e) 0.06), i.e. W1(m) < 0.047 and W1(e) < 0.02 (`PUBLISHED_W1`).

Commands (one JSON per seed, `gan_ising_L{L}_seed{S}.json`, in `--out`):

    python -m keras_genmodels.gan.ising --L 16 --temperatures 1.8 2.269 3.0 --seeds 0 1 2 3 4 \\
        --budget-seconds 240 --out bench/results
    python -m keras_genmodels.gan.ising --L 32 --temperatures 2.5 --seeds 0 1 2 3 4 \\
        --budget-seconds 240 --out bench/results
    python -m keras_genmodels.gan.ising --summarize bench/results     # mean ± sd over the seeds

What the study found (2026-12-03, 5 seeds, `bench/results/gan_ising_*.json`,
docs/gan.md): no mode collapse (fraction(m > 0) = 0.50 ± 0.01 at every T);
within a CPU budget of ~4 minutes a seed the GAN is far from converged: W1(e)
0.05-0.09 and c wrong by +63% at T_c (L = 16); W1(e) 0.048, W1(m) 0.17 at
L = 32, T = 2.5, above both published models. `lattice_critic` sees 12 x 12
patches and averages them, so it cannot measure the global |m| of a 32 x 32
lattice: its generators overshoot <|m|> (+82%); a critic given N m² as a
feature brought W1(m) to 0.06-0.07 on two seeds.

Several `--temperatures` train one temperature-conditional model on the grid
`--train-temperatures` (default `TRAINING_GRID`, which holds 1.8, T_c and
3.0); one trains an unconditional model at that temperature. The recipe's
defaults are `RECIPES[L]` (`recipe`).
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
from keras_genmodels.gan import data as gan_data
from keras_genmodels.gan import networks
from keras_genmodels.gan.model import WGANGP
from keras_genmodels.metrics import ising_study
from keras_genmodels.metrics.ising_study import (
    FIGURES,
    MODE_BALANCE_TOLERANCE,
    OBSERVABLES,
    PUBLISHED_W1,
    format_summary,
    summarize_reports,
    targets,
)
from keras_genmodels.physics import lattice

__all__ = [
    "FIGURES",
    "MODE_BALANCE_TOLERANCE",
    "OBSERVABLES",
    "PUBLISHED_W1",
    "RECIPES",
    "TRAINING_GRID",
    "T_C",
    "default_report_temperatures",
    "format_summary",
    "main",
    "physics_report",
    "recipe",
    "run_seed",
    "summarize_folder",
    "summarize_reports",
    "targets",
    "train_ising_gan",
]

T_C = lattice.T_C

# The conditional model's training grid: 9 temperatures in [1.5, 3.5] with
# the report's 1.8, T_c and 3.0 among them.
TRAINING_GRID = (1.5, 1.8, 2.0, T_C, 2.5, 2.75, 3.0, 3.25, 3.5)

# The training recipes of the study (docs/gan.md), by lattice size, sized for 4-10 CPU minutes a
# seed on 2 cores (not converged); `train_ising_gan`'s defaults are those of L = 16.
RECIPES = {
    16: {"n_per_temperature": 2000, "epochs": 3, "batch_size": 64, "latent_dim": 64, "filters": 16,
         "learning_rate": 5e-4, "final_learning_rate": 2.5e-5, "d_steps": 3, "gp_weight": 10.0,
         "magnetization_feature": True, "straight_through": True},
    32: {"n_per_temperature": 4000, "epochs": 8, "batch_size": 32, "latent_dim": 64, "filters": 16,
         "learning_rate": 5e-4, "final_learning_rate": 2.5e-5, "d_steps": 3, "gp_weight": 10.0,
         "magnetization_feature": True, "straight_through": True},
}


def recipe(L):
    """The study's training recipe for lattice size L (`RECIPES`; L = 16's for other sizes), a new dict."""
    return dict(RECIPES.get(int(L), RECIPES[16]))


def _schedule(learning_rate, final_learning_rate, steps):
    """A constant rate, or a cosine decay from `learning_rate` to `final_learning_rate` over `steps` updates."""
    if final_learning_rate is None:
        return learning_rate
    return keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=final_learning_rate / learning_rate)


def train_ising_gan(
    L,
    temperatures,
    n_per_temperature=RECIPES[16]["n_per_temperature"],
    epochs=RECIPES[16]["epochs"],
    batch_size=RECIPES[16]["batch_size"],
    seed=0,
    latent_dim=RECIPES[16]["latent_dim"],
    budget_seconds=None,
    verbose=0,
    *,
    filters=RECIPES[16]["filters"],
    learning_rate=RECIPES[16]["learning_rate"],
    d_steps=RECIPES[16]["d_steps"],
    final_learning_rate=RECIPES[16]["final_learning_rate"],
    magnetization_feature=RECIPES[16]["magnetization_feature"],
    straight_through=RECIPES[16]["straight_through"],
    cache_dir=None,
    callbacks=None,
    **model_kwargs,
):
    """Train a spin-flip symmetric WGAN-GP on Monte Carlo configurations of the L x L Ising model.

    The data are `n_per_temperature` configurations at each temperature
    (`gan.data.ising_data`, seeded by `seed`, cached). With several
    temperatures the model is temperature-conditional, with
    `temperature_range = (min, max)` of them; with one it is unconditional.
    The networks are `networks.lattice_generator` and
    `networks.lattice_critic` with `filters` channels (periodic padding);
    the critic minimises D(x̃) − D(x) + λ (‖∇_x̂ D(x̂)‖₂ − 1)², the generator
    −D(x̃), with `d_steps` critic updates per generator update and
    Adam(η, β₁ = 0.5, β₂ = 0.9) for both, η decayed from `learning_rate`
    to `final_learning_rate` by a cosine, η(t) = η_f + (η_0 − η_f)(1 + cos(π t / t_max)) / 2.

    Args:
        L: the lattice size, a multiple of 4.
        temperatures: the training temperatures (one: an unconditional model).
        n_per_temperature: Monte Carlo configurations per temperature. Defaults to `2000`.
        epochs: passes over the data. Defaults to `3`.
        batch_size: configurations per step. Defaults to `64`.
        seed: int ≥ 0: the data, the weights and every random draw. Defaults to `0`.
        latent_dim: the size of z. Defaults to `64`.
        budget_seconds: stop after the first step that ends this many
            seconds after training began (the epoch is then cut short), or
            `None`. Defaults to `None`.
        verbose: `fit`'s verbosity. Defaults to `0`.
        filters: channels of the networks' last stage (`networks.lattice_*`).
            Defaults to `16`.
        learning_rate: Adam's (initial) learning rate, both networks. Defaults to `5e-4`.
        final_learning_rate: the rate that a cosine decay reaches after
            `epochs` epochs (each optimizer over its own updates), or `None`
            for a constant rate. Defaults to `2.5e-5`.
        d_steps: critic updates per generator update. Defaults to `3`.
        magnetization_feature: whether the critic's read-out sees N m²
            (`networks.lattice_critic`). Defaults to `True`.
        straight_through: whether the critic sees spin draws in training
            (`GAN`'s `straight_through`). Defaults to `True`.
        cache_dir: the Monte Carlo cache folder, or `None` for the default.
        callbacks: more Keras callbacks, or `None`.
        **model_kwargs: more `WGANGP` arguments (`gp_weight`, ...).

    Returns:
        `(model, history)`: the trained `WGANGP` and `fit`'s history dict
        (one value per epoch run; `"seconds"`: the wall-clock seconds since
        training began at the end of each epoch).

    Example:

    ```python
    from keras_genmodels.gan.ising import physics_report, train_ising_gan
    model, history = train_ising_gan(16, [1.8, 2.269, 3.0], epochs=2, seed=0)
    report = physics_report(model, 16, [1.8, 2.269, 3.0], seed=0)
    report["temperatures"][0]["positive_magnetization_fraction"]   # ≈ 0.5
    ```
    """
    L = v.check_positive_int("L", L)
    temps = np.unique(lattice.check_temperatures(temperatures))
    n_per_temperature = v.check_positive_int("n_per_temperature", n_per_temperature)
    epochs = v.check_positive_int("epochs", epochs)
    batch_size = v.check_positive_int("batch_size", batch_size)
    seed = v.check_seed("seed", seed, allow_none=False, non_negative=True)
    learning_rate = v.check_positive_float("learning_rate", learning_rate)
    if budget_seconds is not None:
        budget_seconds = v.check_positive_float("budget_seconds", budget_seconds)
    for name in ("generator", "discriminator", "data_shape", "spins", "symmetric", "temperature_range", "seed"):
        if name in model_kwargs:
            raise ValueError(f"`train_ising_gan` sets `{name}` itself. Received: {name}={model_kwargs[name]!r}")
    conditional = len(temps) > 1
    condition_dim = 1 if conditional else None
    if final_learning_rate is not None:
        final_learning_rate = v.check_positive_float("final_learning_rate", final_learning_rate, allow_zero=True)
    # The networks first: a bad L or width fails before the Monte Carlo runs.
    model = WGANGP(
        networks.lattice_generator(L, latent_dim, condition_dim, filters=filters, seed=seed),
        networks.lattice_critic(L, condition_dim, filters=filters, seed=seed,
                                magnetization_feature=magnetization_feature),
        data_shape=(L, L, 1),
        latent_dim=latent_dim,
        d_steps=d_steps,
        temperature_range=(float(temps[0]), float(temps[-1])) if conditional else None,
        spins=True,
        symmetric=True,
        straight_through=straight_through,
        seed=seed,
        **model_kwargs,
    )
    x, t = gan_data.ising_data(L, temps, n_per_temperature, seed=seed, cache_dir=cache_dir)
    steps = epochs * -(-len(x) // batch_size)  # generator updates planned; the critic makes d_steps as many
    model.compile(optimizer={
        name: keras.optimizers.Adam(_schedule(learning_rate, final_learning_rate, k * steps), beta_1=0.5, beta_2=0.9)
        for name, k in (("generator", 1), ("discriminator", model.d_steps))
    })
    clock = training.TrainingClock(budget_seconds=budget_seconds)
    history = model.fit(x, t if conditional else None, batch_size=batch_size, epochs=epochs, verbose=verbose,
                        callbacks=[clock] + list(callbacks or []))
    out = {k: [float(a) for a in vals] for k, vals in history.history.items()}
    out["seconds"] = [float(s) for s in clock.seconds]
    return model, out


def _check_report_temperatures(model, L, temperatures):
    """The report's temperatures (a float64 array), checked against the model."""
    L = v.check_positive_int("L", L)
    if tuple(model.data_shape) != (L, L, 1) or not model.spins:
        raise ValueError(
            f"Expected a GAN of L x L spins with L = {L}, data_shape ({L}, {L}, 1) and spins=True. "
            f"Received: data_shape={model.data_shape}, spins={model.spins}"
        )
    temps = lattice.check_temperatures(temperatures)
    if model.temperature_range is None:
        if len(np.unique(temps)) > 1:
            raise ValueError(
                "An unconditional model was trained at one temperature: report it at that one. "
                f"Received: temperatures={temps.tolist()}"
            )
        return temps
    lo, hi = model.temperature_range
    outside = temps[(temps < lo - 1e-6 * hi) | (temps > hi + 1e-6 * hi)]
    if outside.size:
        raise ValueError(
            f"`temperatures` must lie in the model's training range [{lo}, {hi}]. Received: {outside.tolist()}"
        )
    return temps


def default_report_temperatures(model):
    """The report's temperatures of a conditional model: T_min, T_c (where inside) and T_max.

    An unconditional model does not record its temperature: pass it.
    """
    if model.temperature_range is None:
        raise ValueError("An unconditional GAN does not record the temperature it was trained at: pass the "
                         "report's temperature explicitly. Received: temperature_range=None")
    lo, hi = model.temperature_range
    return [lo, T_C, hi] if lo < T_C < hi else [lo, hi]


def physics_report(model, L, temperatures, n_samples=4000, reference_n=4000, seed=0):
    """The model's samples against fresh Monte Carlo at each temperature (module docstring).

    The model draws `n_samples` configurations at T (seed `seed + 2`);
    `physics.sample_ising` draws `reference_n` (seed `seed + 1`: the training
    data of `train_ising_gan` come from other streams, `gan.data.ising_data`);
    `metrics.ising_distances` compares them (`metrics.ising_study.physics_report`).

    Args:
        model: a spin `GAN` of L x L configurations (`train_ising_gan`).
        L: the lattice size.
        temperatures: where to report; inside the model's `temperature_range`
            (conditional), or one temperature (unconditional: the one it was
            trained at).
        n_samples: model samples per temperature, ≥ 2. Defaults to `4000`.
        reference_n: Monte Carlo configurations per temperature, ≥ 2. Defaults to `4000`.
        seed: int ≥ 0. Defaults to `0`.

    Returns:
        A dict: `L`, `n_samples`, `reference_n`, `seed`, `temperatures` (one
        dict per temperature: `temperature`; `positive_magnetization_fraction`
        and the reference's; `energy_w1`, `magnetization_w1`,
        `abs_magnetization_w1`; for each of e, <|m|>, c, χ (`energy`,
        `abs_magnetization`, `heat_capacity`, `susceptibility`) the model's
        value, `reference_<name>`, `<name>_relative_error`, each with its
        standard error `<...>_sigma`; `targets` (`targets`); `seconds`), and
        `targets_met`: whether every target is met (`None` where none applies).
        All numbers are plain floats (`None` for NaN).
    """
    temps = _check_report_temperatures(model, L, temperatures)
    conditional = model.temperature_range is not None

    def draw(T, n, seed):
        condition = {"temperature": T} if conditional else {}
        return gan_data.spins_of(model.sample(n, seed=seed + 2, **condition))

    return ising_study.physics_report(draw, L, temps, n_samples=n_samples, reference_n=reference_n, seed=seed)


# ------------------------------------------------------------------ seeds
def _result_path(out, L, seed):
    return os.path.join(out, f"gan_ising_L{L}_seed{seed}.json")


def summarize_folder(folder):
    """`{L: summarize_reports(...)}` of the `gan_ising_L*_seed*.json` files in `folder` (`ising_study`)."""
    return ising_study.summarize_folder(folder, "gan_ising_L*_seed*.json")


def run_seed(L, temperatures, seed, train_temperatures=None, n_samples=4000, reference_n=4000, verbose=0,
             **training):
    """Train (`train_ising_gan`) and report (`physics_report`) one seed: a JSON-able dict."""
    import tensorflow as tf

    temps = lattice.check_temperatures(temperatures)
    if train_temperatures is None:
        train_temperatures = TRAINING_GRID if len(np.unique(temps)) > 1 else temps
    grid = lattice.check_temperatures(train_temperatures, "train_temperatures")
    if temps.min() < grid.min() or temps.max() > grid.max():
        raise ValueError(f"The report's temperatures must lie in the training range [{grid.min()}, {grid.max()}] "
                         f"(an unconditional model's one T). Received: temperatures={temps.tolist()}")
    settings = {**recipe(L), **{k: val for k, val in training.items() if val is not None}}
    start = time.perf_counter()
    model, history = train_ising_gan(L, train_temperatures, seed=seed, verbose=verbose, **settings)
    train_seconds = time.perf_counter() - start
    report = physics_report(model, L, temps, n_samples=n_samples, reference_n=reference_n, seed=seed)
    steps = int(model.optimizers["generator"].iterations.numpy())
    return {
        "L": L, "seed": seed, "date": time.strftime("%Y-%m-%d"),
        "recipe": {**settings, "train_temperatures": [float(T) for T in np.unique(train_temperatures)],
                   "conditional": model.temperature_range is not None},
        "generator_steps": steps, "train_seconds": train_seconds,
        "final": {k: vals[-1] for k, vals in history.items() if vals},
        "report": report,
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_genmodels.gan.ising",
        description="Train spin-flip symmetric WGAN-GPs on Ising Monte Carlo and report the physics per seed.",
    )
    parser.add_argument("--L", type=int, default=16, help="lattice size, a multiple of 4 (default %(default)s)")
    parser.add_argument("--temperatures", type=v.positive_float_flag, nargs="+", default=[1.8, 2.269, 3.0],
                        help="the report's temperatures; several: one conditional model on --train-temperatures, "
                             "one: an unconditional model there (default %(default)s)")
    parser.add_argument("--train-temperatures", type=v.positive_float_flag, nargs="+", default=None,
                        help="the conditional model's grid (default: 9 in [1.5, 3.5] with 1.8, T_c, 3.0)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="default %(default)s")
    parser.add_argument("--out", default=None, help="folder of the JSON files (one per seed)")
    parser.add_argument("--summarize", metavar="FOLDER", default=None,
                        help="print mean ± sd over the seeds of the JSON files in FOLDER, and stop")
    for flag, kind in (("n-per-temperature", int), ("epochs", int), ("batch-size", int), ("latent-dim", int),
                       ("filters", int), ("learning-rate", float),
                       ("final-learning-rate", float), ("d-steps", int), ("gp-weight", float),
                       ("budget-seconds", float)):
        parser.add_argument(f"--{flag}", type=kind, default=None, help="default: the recipe of --L (RECIPES)")
    for flag, what in (("magnetization-feature", "the critic reads N m^2"),
                       ("straight-through", "the critic sees spin draws in training (straight-through)")):
        parser.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None,
                            help=f"{what} (default: the recipe of --L)")
    parser.add_argument("--n-samples", type=int, default=4000, help="model samples per T (default %(default)s)")
    parser.add_argument("--reference-n", type=int, default=4000,
                        help="Monte Carlo configurations per T (default %(default)s)")
    parser.add_argument("--verbose", type=int, default=0, help="fit's verbosity (default %(default)s)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.summarize is not None:
        summaries = summarize_folder(args.summarize)
        if not summaries:
            parser.error(f"no gan_ising_L*_seed*.json files in {args.summarize}")
        for L, summary in summaries.items():
            print(format_summary(L, summary))
        return summaries
    if args.out is None:
        parser.error("--out is required (unless --summarize)")
    names = ("n_per_temperature", "epochs", "batch_size", "latent_dim", "filters", "learning_rate",
             "final_learning_rate", "d_steps", "gp_weight", "budget_seconds", "magnetization_feature",
             "straight_through")
    training = {k: getattr(args, k) for k in names}
    for seed in args.seeds:
        result = run_seed(args.L, args.temperatures, seed, args.train_temperatures, args.n_samples,
                          args.reference_n, args.verbose, **training)
        result["command"] = " ".join(["python -m keras_genmodels.gan.ising"] + argv)
        path = _result_path(args.out, args.L, seed)
        atomic_write_json(path, result)
        rows = result["report"]["temperatures"]
        print(f"seed {seed}: {result['train_seconds']:.0f} s, {result['generator_steps']} steps -> {path}; "
              + "; ".join(f"T={r['temperature']:.4g} f(m>0) {r['positive_magnetization_fraction']:.3f} "
                          f"W1(e) {r['energy_w1']:.4f} W1(m) {r['magnetization_w1']:.4f}" for r in rows),
              flush=True)
    return None


if __name__ == "__main__":
    main()
