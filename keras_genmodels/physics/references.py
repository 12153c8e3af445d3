"""Ising data and exact references for the presets' recipes (L <= 4).

A preset trained on Ising configurations needs Monte Carlo training and test
samples, every state of the lattice with its exact Boltzmann probability, and
the exact observables: `monte_carlo_split`, `exact_states`, `exact_sample`,
`state_indices`. The VAE and RBM presets (`keras_genmodels.vae.presets`,
`keras_genmodels.rbm.presets`) share them.
"""

import math

import numpy as np

OBSERVABLES = ("energy", "abs_magnetization", "heat_capacity", "susceptibility", "binder_cumulant")

# The temperatures of the Ising presets: below, at and above T_c = 2 / ln(1 + sqrt 2).
ISING_TEMPERATURES = {"t18": 1.8, "tc": 2.0 / math.log(1.0 + math.sqrt(2.0)), "t30": 3.0}


def ising_recipe_data(temperature, L=4):
    """The `data` block of an Ising preset's recipe at `temperature`."""
    return {
        "L": L,
        "temperature": temperature,
        "sampler": "keras_genmodels.physics.sample_ising (method='auto')",
        "n_train": 50000,
        "n_test": 10000,
        "train_seed": 1,
        "test_seed": 2,
        "encoding": f"binary b = (s + 1) / 2, flattened to {L * L} units (i = row * {L} + col)",
    }


def ising_splits(recipe):
    """`(x_train, x_test, states, log_p, exact observables)` of an Ising preset's recipe.

    Records the samplers' summaries in `recipe["data"]`.
    """
    d = recipe["data"]
    x_train, d["train_sampler_summary"] = monte_carlo_split(d, "train")
    x_test, d["test_sampler_summary"] = monte_carlo_split(d, "test")
    states, log_p, exact_obs = exact_states(d["L"], d["temperature"])
    return x_train, x_test, states, log_p, exact_obs


def monte_carlo_split(data, split):
    """Configurations from `sample_ising` for a recipe's `data`, binary, flattened: (n, L*L) float32.

    `data` holds `L`, `temperature`, and `n_train`/`train_seed` or
    `n_test`/`test_seed`. Returns `(x, sampler summary)`.
    """
    from keras_genmodels.physics.sampler import sample_ising

    n = data["n_train"] if split == "train" else data["n_test"]
    seed = data["train_seed"] if split == "train" else data["test_seed"]
    result = sample_ising(data["L"], data["temperature"], n, seed=seed)
    return result.binary().reshape(n, -1).astype("float32"), result.summary()


def exact_states(L, temperature):
    """Every state (2^N, N) float32 in `exact`'s order, log p_T of each, and the exact observables."""
    from keras_genmodels.physics import exact

    states = exact.all_configurations(L, encoding="binary").reshape(2 ** (L * L), -1)
    return states.astype("float32"), exact.log_probabilities(L, temperature), exact.exact_observables(L, temperature)


def exact_sample(log_p, n, seed):
    """Indices of `n` states drawn from exp(log_p) with NumPy's generator `seed`."""
    p = np.exp(np.asarray(log_p, "float64"))
    return np.random.default_rng(seed).choice(p.size, size=n, p=p / p.sum())


def state_indices(bits):
    """State index k = sum_i b_i 2^i of flattened binary configurations (`exact`'s order)."""
    b = np.asarray(bits).astype("int64")
    return (b << np.arange(b.shape[1])).sum(axis=1)


def observable_subset(obs):
    """The observables of `OBSERVABLES` from a dict of them, as floats."""
    return {k: float(obs[k]) for k in OBSERVABLES}


def sample_observables_card(model, temperature, evaluate):
    """The observables of `evaluate["sample_size"]` model samples with their jackknife errors, for a card."""
    from keras_genmodels.physics import analysis

    estimates = analysis.sample_observables(
        model, evaluate["sample_size"], temperature, seed=evaluate["seed"],
        gibbs_steps=evaluate.get("gibbs_steps", 1000),
    )
    return {k: {"value": e.value, "error": e.error} for k, e in estimates.items()}
