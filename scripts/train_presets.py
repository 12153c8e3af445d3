#!/usr/bin/env python
"""Train, evaluate and register the pretrained presets of keras_genmodels.

    python scripts/train_presets.py --list                        # the recipes, one per preset
    python scripts/train_presets.py vae_fashion_mnist_keras_io    # -> keras_genmodels/presets/
    python scripts/train_presets.py all                           # every preset, one after another
    python scripts/train_presets.py rbm_ising_l4_tc --smoke --out /tmp/presets   # seconds
    python scripts/train_presets.py vae_fashion_mnist_keras_io --from-model saved_models/vae_fashion_mnist
        # evaluate and register the model of a `keras-genmodels train vae` run with the recipe

For each preset NAME the script trains the model of its recipe (`RECIPES`
below: every hyperparameter is there), evaluates it on held-out data, and
writes into the output folder (by default the package's data folder
`keras_genmodels/presets/`, so that the files ship in the wheel):

- `NAME.keras`: the model, without optimizer state (small; loads with
  `safe_mode=True`);
- `NAME.json`: its model card: data and split, the command, the training
  time on this machine, the held-out metrics, and a `check` (a metric on a
  fixed subset, seeded, with a tolerance) that `tests/test_presets.py`
  recomputes from the committed file;
- `NAME.md`: the same card for people;
- its entry in `manifest.json` (the registry read by
  `keras_genmodels.load_pretrained`).

Metrics (all in nats):

- image VAEs: the ELBO on the full test split (one draw per image) and the
  importance-weighted bound L_K (Burda et al. 2015) with K = 5000 on the
  first `iw_examples` test images, NLL ~= -L_5000;
- the Fashion-MNIST RBM: log Z by AIS (Salakhutdinov & Murray 2008, the
  14,501-step schedule, 100 chains) and the test log-likelihood
  -<F(v)> - log Z;
- Ising models (L = 4, 2^16 states, enumerated exactly; training data from
  `physics.sample_ising` at T = 1.8, T_c and 3.0): KL(p_T || q) against the
  exact Boltzmann distribution p_T, exact for the RBM (exact log Z, through
  `physics.analysis`) and an upper-bound estimate for the VAE (log q(s) >= L_K(s));
  thermodynamic observables of the model (from its distribution over all
  states, and from its samples with jackknife errors) beside the exact ones.

`--smoke` replaces the sizes by tiny ones (a few hundred examples, one epoch,
K = 8, a short AIS schedule): it checks the whole pipeline in seconds and
marks the card `"smoke": true`. It refuses to write into the package folder.
"""

import argparse
import copy
import datetime
import json
import math
import os
import platform
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_PRESETS = os.path.join(REPO, "keras_genmodels", "presets")
SCRIPT = "scripts/train_presets.py"
# The package of this checkout (the one whose `presets/` folder is written), also when
# `keras_genmodels` is not installed or an installed copy points elsewhere.
if REPO not in sys.path:
    sys.path.insert(0, REPO)

# ---------------------------------------------------------------------------
# The recipes: every hyperparameter of every preset.

_FASHION = {"dataset": "fashion_mnist", "train": "train (60,000 images)", "test": "test (10,000 images)"}
_GREY = "grey levels x = pixel / 255 in [0, 1]"

ISING_TEMPERATURES = {"t18": 1.8, "tc": 2.0 / math.log(1.0 + math.sqrt(2.0)), "t30": 3.0}

RECIPES = {
    "vae_fashion_mnist_keras_io": {
        "family": "vae",
        "kind": "image",
        "description": "The keras.io convolutional VAE (latent 2), 30 epochs on Fashion-MNIST grey levels",
        "data": {**_FASHION, "preprocessing": _GREY, "binarize": None},
        "model": {"architecture": "conv", "latent_dim": 2, "likelihood": "bernoulli"},
        "train": {"epochs": 30, "batch_size": 128, "learning_rate": 1e-3, "seed": 0},
        # 64 x 5000 conv decodes: about 5 minutes on 2 cores.
        "evaluate": {"iw_samples": 5000, "iw_examples": 64, "check_examples": 500, "seed": 0},
    },
    "vae_fashion_mnist_mlp": {
        "family": "vae",
        "kind": "image",
        "description": (
            "MLP VAE on Fashion-MNIST grey levels; latent size and depth chosen by "
            "validation importance-weighted NLL"
        ),
        "data": {**_FASHION, "preprocessing": _GREY, "binarize": None},
        # Chosen by `select` among the candidates (the card records the table).
        "model": None,
        "select": {
            "candidates": [
                {"architecture": "mlp", "latent_dim": d, "hidden_units": list(h), "likelihood": "bernoulli"}
                for h in ((512, 256), (512, 512, 256))
                for d in (8, 16, 32)
            ],
            "fit_split": "train[:50000]",
            "validation_split": "train[50000:] (first iw_examples)",
            "epochs": 5,
            "iw_samples": 1000,
            "iw_examples": 500,
            "note": (
                "Reduced sweep: 5 epochs per candidate and 500 validation images (planned: 10 and "
                "1000), and 40 final epochs (planned: 50), to fit the time available on a shared "
                "2-core machine on 2026-11-21; the ranking is by short runs"
            ),
        },
        "train": {"epochs": 40, "batch_size": 128, "learning_rate": 1e-3, "seed": 0},
        "evaluate": {"iw_samples": 5000, "iw_examples": 1000, "check_examples": 500, "seed": 0},
    },
    "rbm_fashion_mnist_500": {
        "family": "rbm",
        "kind": "image",
        "description": "Centred BernoulliRBM, 500 hidden units, PCD-1 on binarised Fashion-MNIST (pixel > 127)",
        "data": {**_FASHION, "preprocessing": "fixed binarisation b = 1[pixel / 255 > 0.5]", "binarize": "fixed"},
        "model": {"n_hidden": 500, "k": 1, "persistent": True, "n_chains": 100, "weight_decay": 1e-4,
                  "centering": True},
        "train": {"epochs": 30, "batch_size": 100, "learning_rate": 0.001, "momentum": 0.9,
                  "steps_per_execution": 50, "seed": 0},
        "evaluate": {"ais_chains": 100, "ais_schedule": "default", "check_examples": 1000, "seed": 0},
    },
}

for _key, _T in ISING_TEMPERATURES.items():
    _where = "T_c" if _key == "tc" else f"T = {_T}"
    _ising_data = {
        "L": 4,
        "temperature": _T,
        "sampler": "keras_genmodels.physics.sample_ising (method='auto')",
        "n_train": 50000,
        "n_test": 10000,
        "train_seed": 1,
        "test_seed": 2,
        "encoding": "binary b = (s + 1) / 2, flattened to 16 units (i = row * 4 + col)",
    }
    RECIPES[f"rbm_ising_l4_{_key}"] = {
        "family": "rbm",
        "kind": "ising",
        "description": (
            f"BernoulliRBM (32 hidden) fitted by exact maximum likelihood to 4x4 Ising "
            f"configurations at {_where}"
        ),
        # More samples than the VAEs: at T_c (2000 steps) 50,000 gave KL 0.0064, 200,000 0.0021.
        "data": dict(_ising_data, n_train=200000),
        "model": {"n_hidden": 32},
        # rbm.ising.fit_rbm_exact_likelihood: full-batch Adam (cosine decay) on the exact
        # NLL of the (symmetrised) empirical distribution of the training samples. Block Gibbs
        # (PCD-20, 30 epochs) reached KL = 0.40 nats at T = 1.8 and 0.18 at T_c; 1500 steps at
        # lr 0.02 on 50,000 samples (the first committed presets) 0.11 and 0.04; this recipe
        # (2026-11-21) 0.0015 / 0.0004 / 0.0003 at T = 1.8 / T_c / 3.0 (2000 steps: 0.0084 at 1.8).
        "train": {"method": "exact_likelihood", "steps": 4000, "learning_rate": 0.2,
                  "symmetrize": True, "seed": 0},
        "evaluate": {"sample_size": 10000, "gibbs_steps": 1000, "seed": 0},
    }
    RECIPES[f"vae_ising_l4_{_key}"] = {
        "family": "vae",
        "kind": "ising",
        "description": f"MLP VAE (latent 4) on 4x4 Ising configurations at {_where}",
        "data": dict(_ising_data),
        "model": {"architecture": "mlp", "latent_dim": 4, "hidden_units": [64, 64], "likelihood": "bernoulli"},
        "train": {"epochs": 60, "batch_size": 128, "learning_rate": 1e-3, "seed": 0},
        "evaluate": {"iw_samples": 1000, "check_examples": 500, "sample_size": 10000, "seed": 0},
    }

# Tiny sizes for `--smoke` (the pipeline end to end in seconds).
SMOKE = {
    "train_limit": 512,
    "test_limit": 256,
    "epochs": 1,
    "iw_samples": 8,
    "iw_examples": 16,
    "check_examples": 64,
    "select_candidates": 2,
    "select_examples": 32,
    "ais_betas": 200,
    "ais_chains": 8,
    "ising_n_train": 2000,
    "ising_n_test": 500,
    "sample_size": 200,
    "gibbs_steps": 20,
    "exact_steps": 20,
}


def recipe(name, smoke=False):
    """The recipe of preset `name`, with the `--smoke` sizes applied if asked."""
    if name not in RECIPES:
        raise ValueError(f"Unknown preset {name!r}. Available: {', '.join(sorted(RECIPES))}.")
    r = copy.deepcopy(RECIPES[name])
    r["name"] = name
    if not smoke:
        return r
    if "epochs" in r["train"]:
        r["train"]["epochs"] = SMOKE["epochs"]
    if "steps" in r["train"]:
        r["train"]["steps"] = SMOKE["exact_steps"]
    ev = r["evaluate"]
    if r["kind"] == "image":
        r["data"]["train_limit"] = SMOKE["train_limit"]
        r["data"]["test_limit"] = SMOKE["test_limit"]
    else:
        r["data"]["n_train"] = SMOKE["ising_n_train"]
        r["data"]["n_test"] = SMOKE["ising_n_test"]
    for key in ("iw_samples", "iw_examples", "check_examples", "sample_size", "gibbs_steps"):
        if key in ev:
            ev[key] = SMOKE[key]
    if "ais_chains" in ev:
        ev["ais_chains"] = SMOKE["ais_chains"]
        ev["ais_schedule"] = SMOKE["ais_betas"]
    if "select" in r:
        s = r["select"]
        s["candidates"] = s["candidates"][: SMOKE["select_candidates"]]
        s["epochs"] = SMOKE["epochs"]
        s["iw_samples"] = SMOKE["iw_samples"]
        s["iw_examples"] = SMOKE["select_examples"]
        s.pop("note", None)
    return r


# ---------------------------------------------------------------------------
# Data


def fashion_mnist(split, binarize=None, limit=None, local_dir=None):
    """Fashion-MNIST `split` as float32 (N, 28, 28, 1): grey levels or fixed-binarised."""
    from keras_genmodels import datasets

    images = datasets.load_arrays("fashion_mnist", split, local_dir=local_dir, with_labels=False)
    if limit is not None:
        images = images[:limit]
    x = images.astype("float32") / 255.0
    if binarize == "fixed":
        x = (x > 0.5).astype("float32")
    elif binarize is not None:
        raise ValueError(f"Expected binarize None or 'fixed'. Received: {binarize!r}")
    return x


def ising_data(data, split):
    """Configurations from `sample_ising`, binary, flattened: (n, L*L) float32."""
    from keras_genmodels.physics.sampler import sample_ising

    n = data["n_train"] if split == "train" else data["n_test"]
    seed = data["train_seed"] if split == "train" else data["test_seed"]
    result = sample_ising(data["L"], data["temperature"], n, seed=seed)
    return result.binary().reshape(n, -1).astype("float32"), result.summary()


def ising_exact(L, temperature):
    """Every state (2^N, N) float32 in the exact module's order, log p_T of each, and observables."""
    from keras_genmodels.physics import exact

    states = exact.all_configurations(L, encoding="binary").reshape(2 ** (L * L), -1)
    return states.astype("float32"), exact.log_probabilities(L, temperature), exact.exact_observables(L, temperature)


def distribution_observables(L, temperature, log_q):
    """Observables per spin of the distribution q over every state (given log q up to a constant).

    The definitions of `physics.exact.exact_observables`, with q in place of p_T:
    u = <E>/N, c = β² Var(E)/N, <|m|>, χ = β N (<m²> - <|m|>²), U_4 = 1 - <m⁴>/(3 <m²>²).
    """
    from keras_genmodels.physics import exact, lattice

    spins = exact.all_configurations(L, encoding="spin")
    n = L * L
    e = lattice.energy(spins).astype("float64") / n
    m = np.abs(lattice.magnetization(spins).astype("float64")) / n
    log_q = np.asarray(log_q, "float64")
    w = np.exp(log_q - log_q.max())
    w /= w.sum()
    beta = 1.0 / temperature
    mean = lambda f: float(np.sum(w * f))  # noqa: E731
    e1, e2, am, m2, m4 = mean(e), mean(e**2), mean(m), mean(m**2), mean(m**4)
    return {
        "energy": e1,
        "abs_magnetization": am,
        "heat_capacity": beta**2 * n * (e2 - e1**2),
        "susceptibility": beta * n * (m2 - am**2),
        "binder_cumulant": 1.0 - m4 / (3.0 * m2**2),
    }


def exact_sample(log_p, n, seed):
    """Indices of `n` states drawn from exp(log_p) with NumPy's generator `seed`."""
    p = np.exp(np.asarray(log_p, "float64"))
    return np.random.default_rng(seed).choice(p.size, size=n, p=p / p.sum())


# ---------------------------------------------------------------------------
# Evaluation (shared with tests/test_presets.py through `compute_check`)


def reseed_vae(model, seed):
    """Restart the VAE's reparameterisation noise at the seed pair [seed, 0]."""
    from keras import ops

    state = model.sampling.seed_generator.state
    state.assign(ops.convert_to_tensor([int(seed), 0], dtype=state.dtype))


def _stderr(values):
    values = np.asarray(values, "float64")
    return float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else float("nan")


def vae_elbo(model, x, seed):
    from keras_genmodels.vae import elbo

    reseed_vae(model, seed)
    return elbo(model, x, batch_size=500)


def vae_iw(model, x, num_samples, seed, batch_size=100, max_decodes=8192):
    from keras_genmodels.vae import importance_weighted_bound

    reseed_vae(model, seed)
    return importance_weighted_bound(
        model, x, num_samples=num_samples, batch_size=batch_size, max_decodes=max_decodes
    )


def compute_check(model, check, local_dir=None):
    """Recompute the card's `check` metric of `model`: returns `(value, stderr)`.

    Kinds (`check["metric"]`):
    - `elbo`: mean ELBO on the first `n` images of the test split (noise seed `seed`);
    - `log_likelihood`: mean -F(v) - log Z on the first `n` binarised test images, with
      the card's log Z;
    - `exact_kl`: KL(p_T || q) over every Ising state, exact (RBM);
    - `kl_estimate`: mean of log p_T(s) - L_K(s) over `n` states s ~ p_T drawn with
      NumPy's generator `state_seed`, noise seed `seed` (VAE on Ising data).
    """
    metric = check["metric"]
    if metric == "elbo":
        x = fashion_mnist("test", check.get("binarize"), limit=check["n"], local_dir=local_dir)
        out = vae_elbo(model, x, check["seed"])
        return out["mean"], out["stderr"]
    if metric == "log_likelihood":
        x = fashion_mnist("test", check.get("binarize"), limit=check["n"], local_dir=local_dir)
        values = -model.free_energy(x.reshape(x.shape[0], -1)).astype("float64") - check["log_z"]
        return float(values.mean()), _stderr(values)
    if metric == "exact_kl":
        from keras_genmodels.physics import analysis

        return analysis.rbm_exact_kl(model, check["temperature"]), 0.0
    if metric == "kl_estimate":
        states, log_p, _ = ising_exact(check["L"], check["temperature"])
        idx = exact_sample(log_p, check["n"], check["state_seed"])
        iw = vae_iw(model, states[idx], check["iw_samples"], check["seed"], batch_size=check["n"],
                    max_decodes=2**18)
        values = log_p[idx] - iw["per_example"].astype("float64")
        return float(values.mean()), _stderr(values)
    raise ValueError(f"Unknown check metric {metric!r}.")


# ---------------------------------------------------------------------------
# Training


def _fit_vae(model_kwargs, train, x, verbose):
    import keras

    from keras_genmodels.vae import VAE

    keras.utils.set_random_seed(train["seed"])
    kwargs = dict(model_kwargs)
    if "hidden_units" in kwargs:
        kwargs["hidden_units"] = tuple(kwargs["hidden_units"])
    data_shape = x.shape[1:]
    model = VAE(data_shape=data_shape, seed=train["seed"], **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(train["learning_rate"]))
    start = time.perf_counter()
    history = model.fit(x, epochs=train["epochs"], batch_size=train["batch_size"], shuffle=True,
                        verbose=verbose)
    seconds = time.perf_counter() - start
    return model, seconds, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _fit_rbm(model_kwargs, train, x, verbose):
    import keras

    from keras_genmodels.rbm import BernoulliRBM

    keras.utils.set_random_seed(train["seed"])
    model = BernoulliRBM(x.shape[1], seed=train["seed"], **model_kwargs)
    model.initialize_visible_bias(x)
    model.compile(
        optimizer=keras.optimizers.SGD(train["learning_rate"], momentum=train["momentum"]),
        steps_per_execution=train["steps_per_execution"],
    )
    start = time.perf_counter()
    history = model.fit(x, epochs=train["epochs"], batch_size=train["batch_size"], shuffle=True,
                        verbose=verbose)
    seconds = time.perf_counter() - start
    return model, seconds, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _strip(model):
    """A copy of `model` without optimizer state (and identical outputs)."""
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def _select_vae(r, local_dir, verbose):
    """Train each candidate on train[:50000]; pick the best validation L_K (NLL)."""
    s = r["select"]
    limit = r["data"].get("train_limit")
    x_all = fashion_mnist("train", r["data"]["binarize"], local_dir=local_dir)
    n_fit = 50000 if limit is None else limit
    x_fit = x_all[:n_fit]
    x_val = x_all[50000:][: s["iw_examples"]]
    train = dict(r["train"], epochs=s["epochs"])
    table = []
    start = time.perf_counter()
    for candidate in s["candidates"]:
        model, seconds, _ = _fit_vae(candidate, train, x_fit, verbose)
        iw = vae_iw(model, x_val, s["iw_samples"], r["evaluate"]["seed"])
        row = {**candidate, "val_iw_bound": iw["mean"], "val_iw_stderr": iw["stderr"],
               "val_nll": -iw["mean"], "train_seconds": seconds}
        table.append(row)
        print(f"  candidate {candidate}: validation NLL ~= {-iw['mean']:.2f} "
              f"+- {iw['stderr']:.2f} nats ({seconds:.0f} s)", flush=True)
    best = max(table, key=lambda row: row["val_iw_bound"])
    chosen = {k: best[k] for k in s["candidates"][0]}
    settings = {k: v for k, v in s.items() if k != "candidates"}
    return chosen, {"settings": settings, "table": table, "chosen": chosen,
                    "seconds": time.perf_counter() - start}


def trained_by_cli(r, folder):
    """The `keras-genmodels train vae` run in `folder` that trained recipe `r`'s model.

    Reads `folder/history.json` (written by `keras-genmodels train vae`) and
    checks that its arguments are the recipe's (data, model, training); returns
    `(model, train_seconds, history, command)` with the model loaded from
    `folder/model.keras` with `safe_mode=True`.
    """
    from keras_genmodels.saving import load_model

    with open(os.path.join(folder, "history.json")) as f:
        record = json.load(f)
    args, d, m, t = record["args"], r["data"], r["model"], r["train"]
    expected = {
        "dataset": d["dataset"], "binarize": "none" if d["binarize"] is None else d["binarize"],
        "limit": d.get("train_limit"), "architecture": m["architecture"], "latent_dim": m["latent_dim"],
        "likelihood": m["likelihood"], "epochs": t["epochs"], "batch_size": t["batch_size"],
        "learning_rate": t["learning_rate"], "seed": t["seed"], "beta": 1.0,
        "lr_schedule": "constant", "mixed_precision": False,
    }
    received = {k: args.get(k, expected[k] if k in ("lr_schedule", "mixed_precision") else None)
                for k in expected}
    if received != expected or record.get("resumed_from_epoch", 0):
        raise ValueError(
            f"Expected a `keras-genmodels train vae` run with the recipe of {r['name']!r}: {expected}. "
            f"Received from {os.path.join(folder, 'history.json')!r}: {received} "
            f"(resumed_from_epoch={record.get('resumed_from_epoch', 0)})."
        )
    model = load_model(os.path.join(folder, "model.keras"), safe_mode=True, compile=False)
    command = (
        f"keras-genmodels train vae --dataset {args['dataset']} --architecture {args['architecture']} "
        f"--latent-dim {args['latent_dim']} --likelihood {args['likelihood']} --epochs {args['epochs']} "
        f"--batch-size {args['batch_size']} --learning-rate {args['learning_rate']} --seed {args['seed']} "
        f"--out {args['out']}"
    )
    history = {k: [float(x) for x in vals] for k, vals in record["history"].items()}
    return model, float(record["train_seconds"]), history, command


def _train_image_vae(r, local_dir, verbose):
    d, ev = r["data"], r["evaluate"]
    selection = None
    if r.get("select"):
        r["model"], selection = _select_vae(r, local_dir, verbose)
    x_train = fashion_mnist("train", d["binarize"], limit=d.get("train_limit"), local_dir=local_dir)
    x_test = fashion_mnist("test", d["binarize"], limit=d.get("test_limit"), local_dir=local_dir)
    if r.get("from_model"):
        model, seconds, history, r["trained_by"] = trained_by_cli(r, r["from_model"])
    else:
        model, seconds, history = _fit_vae(r["model"], r["train"], x_train, verbose)
    model = _strip(model)
    start = time.perf_counter()
    e = vae_elbo(model, x_test, ev["seed"])
    iw = vae_iw(model, x_test[: ev["iw_examples"]], ev["iw_samples"], ev["seed"])
    metrics = {
        "test_examples": e["n"],
        "elbo": e["mean"],
        "elbo_stderr": e["stderr"],
        "reconstruction_loss": e["reconstruction_loss"],
        "kl_loss": e["kl_loss"],
        "iw_samples": ev["iw_samples"],
        "iw_examples": iw["n"],
        "iw_bound": iw["mean"],
        "iw_bound_stderr": iw["stderr"],
        "nll": -iw["mean"],
        "elbo_on_iw_examples": float(e["per_example"][: iw["n"]].mean()),
    }
    check = {"metric": "elbo", "split": "test", "n": min(ev["check_examples"], len(x_test)),
             "binarize": d["binarize"], "seed": ev["seed"], "tolerance": 0.05}
    return model, seconds, history, metrics, check, time.perf_counter() - start, selection


def _train_image_rbm(r, local_dir, verbose):
    d, ev = r["data"], r["evaluate"]
    x_train = fashion_mnist("train", d["binarize"], limit=d.get("train_limit"), local_dir=local_dir)
    x_test = fashion_mnist("test", d["binarize"], limit=d.get("test_limit"), local_dir=local_dir)
    x_train = x_train.reshape(len(x_train), -1)
    x_test = x_test.reshape(len(x_test), -1)
    model, seconds, history = _fit_rbm(r["model"], r["train"], x_train, verbose)
    model = _strip(model)
    start = time.perf_counter()
    betas = None
    if ev["ais_schedule"] != "default":
        betas = np.linspace(0.0, 1.0, int(ev["ais_schedule"]))
    ais = model.log_partition_ais(betas=betas, n_chains=ev["ais_chains"], seed=ev["seed"])
    f_test = model.free_energy(x_test).astype("float64")
    f_train = model.free_energy(x_train[: len(x_test)]).astype("float64")
    metrics = {
        "log_z_ais": ais.log_z,
        "log_z_ais_stderr": ais.std,
        "log_z_ais_lower_3se": ais.lower,
        "log_z_ais_upper_3se": ais.upper,
        "ais_chains": ais.n_chains,
        "ais_betas": ais.n_betas,
        "ais_seconds": ais.seconds,
        "test_examples": len(x_test),
        "test_log_likelihood": float(-f_test.mean() - ais.log_z),
        "test_log_likelihood_stderr": _stderr(-f_test),
        "train_log_likelihood_first_n": float(-f_train.mean() - ais.log_z),
        "test_nll": float(f_test.mean() + ais.log_z),
        "test_pseudo_log_likelihood": float(model.pseudo_log_likelihood(x_test, seed=ev["seed"]).mean()),
    }
    check = {"metric": "log_likelihood", "split": "test", "n": min(ev["check_examples"], len(x_test)),
             "binarize": d["binarize"], "log_z": ais.log_z, "tolerance": 0.05}
    return model, seconds, history, metrics, check, time.perf_counter() - start, None


def _ising_common(r):
    d = r["data"]
    x_train, train_summary = ising_data(d, "train")
    x_test, test_summary = ising_data(d, "test")
    d["train_sampler_summary"] = train_summary
    d["test_sampler_summary"] = test_summary
    states, log_p, exact_obs = ising_exact(d["L"], d["temperature"])
    return x_train, x_test, states, log_p, exact_obs


def _exact_subset(obs):
    keys = ("energy", "abs_magnetization", "heat_capacity", "susceptibility", "binder_cumulant")
    return {k: float(obs[k]) for k in keys}


def _sample_observables(model, temperature, ev):
    from keras_genmodels.physics import analysis

    estimates = analysis.sample_observables(model, ev["sample_size"], temperature, seed=ev["seed"],
                                            gibbs_steps=ev.get("gibbs_steps", 1000))
    return {k: {"value": e.value, "error": e.error} for k, e in estimates.items()}


def _train_ising_rbm(r, local_dir, verbose):
    import keras

    from keras_genmodels.physics import analysis
    from keras_genmodels.rbm import BernoulliRBM, fit_rbm_exact_likelihood

    d, ev, train = r["data"], r["evaluate"], r["train"]
    x_train, x_test, states, log_p, exact_obs = _ising_common(r)
    keras.utils.set_random_seed(train["seed"])
    model = BernoulliRBM(x_train.shape[1], seed=train["seed"], **r["model"])
    start = time.perf_counter()
    fit = fit_rbm_exact_likelihood(
        model, x_train.reshape(-1, d["L"], d["L"]), steps=train["steps"],
        learning_rate=train["learning_rate"], symmetrize=train["symmetrize"], encoding="binary",
    )
    seconds = time.perf_counter() - start
    history = {"nll": fit["nll"], "nll_floor": [fit["nll_floor"]]}
    start = time.perf_counter()
    log_z = model.log_partition_exact()
    log_q = analysis.rbm_log_marginal(model)
    p, q = np.exp(log_p), np.exp(log_q)
    f_test = model.free_energy(x_test).astype("float64")
    metrics = {
        "log_z_exact": log_z,
        "kl_exact": analysis.rbm_exact_kl(model, d["temperature"]),
        "reverse_kl_exact": float(np.sum(q * (log_q - log_p))),
        "test_examples": len(x_test),
        "test_log_likelihood_exact": float(-f_test.mean() - log_z),
        "test_log_likelihood_stderr": _stderr(-f_test),
        "train_nll_floor": fit["nll_floor"],
        "data_entropy_exact": float(-np.sum(p * log_p)),
        "observables_exact": _exact_subset(exact_obs),
        "observables_model_exact": _exact_subset(analysis.rbm_exact_observables(model, d["temperature"])),
        "observables_model_samples": _sample_observables(model, d["temperature"], ev),
        "observables_samples_info": f"{ev['sample_size']} chains, {ev['gibbs_steps']} Gibbs sweeps, seed {ev['seed']}",
    }
    check = {"metric": "exact_kl", "L": d["L"], "temperature": d["temperature"], "tolerance": 1e-4}
    return model, seconds, history, metrics, check, time.perf_counter() - start, None


def _train_ising_vae(r, local_dir, verbose):
    d, ev = r["data"], r["evaluate"]
    x_train, x_test, states, log_p, exact_obs = _ising_common(r)
    model, seconds, history = _fit_vae(r["model"], r["train"], x_train, verbose)
    model = _strip(model)
    start = time.perf_counter()
    p = np.exp(log_p)
    iw_all = vae_iw(model, states, ev["iw_samples"], ev["seed"], batch_size=1024, max_decodes=2**18)
    log_q = iw_all["per_example"].astype("float64")  # L_K(s) <= log q(s) in expectation
    e = vae_elbo(model, x_test, ev["seed"])
    metrics = {
        "iw_samples": ev["iw_samples"],
        "kl_upper_estimate": float(np.sum(p * (log_p - log_q))),
        "kl_note": "sum_s p_T(s) (log p_T(s) - L_K(s)) over all 2^16 states; L_K <= log q, so this overestimates KL(p_T || q)",
        "model_total_probability_iw": float(np.exp(log_q).sum()),
        "test_examples": e["n"],
        "test_elbo": e["mean"],
        "test_elbo_stderr": e["stderr"],
        "test_nll_iw": float(-np.mean(log_q[_state_indices(x_test)])),
        "data_entropy_exact": float(-np.sum(p * log_p)),
        "observables_exact": _exact_subset(exact_obs),
        "observables_model_iw": distribution_observables(d["L"], d["temperature"], log_q),
        "observables_model_samples": _sample_observables(model, d["temperature"], ev),
        "observables_samples_info": f"{ev['sample_size']} samples x ~ Bernoulli(E[x|h]), h ~ N(0, I), seed {ev['seed']}",
    }
    check = {"metric": "kl_estimate", "L": d["L"], "temperature": d["temperature"],
             "n": ev["check_examples"], "state_seed": ev["seed"], "iw_samples": ev["iw_samples"],
             "seed": ev["seed"], "tolerance": 0.02}
    return model, seconds, history, metrics, check, time.perf_counter() - start, None


def _state_indices(bits):
    """State index k = sum_i b_i 2^i of flattened binary configurations."""
    b = np.asarray(bits).astype("int64")
    return (b << np.arange(b.shape[1])).sum(axis=1)


TRAINERS = {
    ("vae", "image"): _train_image_vae,
    ("rbm", "image"): _train_image_rbm,
    ("rbm", "ising"): _train_ising_rbm,
    ("vae", "ising"): _train_ising_vae,
}

HEADLINE = {
    "elbo": "elbo",
    "log_likelihood": "test_log_likelihood",
    "exact_kl": "kl_exact",
    "kl_estimate": "kl_upper_estimate",
}


def timing_note(load_start, load_end, cpu_count=None):
    """A line for the card on how far the measured times are from an idle machine's."""
    cpu_count = cpu_count or os.cpu_count() or 1
    if max(load_start, load_end) <= 0.75 * cpu_count:
        return None
    return (
        f"the machine was shared with other jobs (1-min load average {load_start:.1f} at the start "
        f"and {load_end:.1f} at the end, on {cpu_count} cores; this job ran under `nice -n 19`): "
        f"the times are as measured, longer than on an idle machine"
    )


def _timing_note_of(r, load_start, load_end):
    note = timing_note(load_start, load_end)
    if not r.get("trained_by"):
        return note
    return (
        f"the training time is the one that `{r['trained_by'].split(' --')[0]}` recorded in "
        f"{r['from_model']}/history.json (on this machine; see saved_models/README.md); "
        + ("the evaluation ran here, where " + note if note else "the evaluation ran here")
    )


def _machine():
    import keras
    import tensorflow as tf

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def train_preset(name, out=None, smoke=False, local_dir=None, verbose=0, from_model=None):
    """Train, evaluate and register preset `name` in `out`; returns its card (a dict).

    `from_model`: instead of training, take the model that `keras-genmodels
    train vae ... --out FROM_MODEL` trained with the same recipe (image VAEs
    without a selection sweep only); the card then records that command and
    its training time.
    """
    import keras_genmodels
    from keras_genmodels import presets
    from keras_genmodels.saving import save_model

    r = recipe(name, smoke=smoke)
    if from_model is not None:
        if (r["family"], r["kind"]) != ("vae", "image") or r.get("select") or smoke:
            raise ValueError(f"--from-model applies to image VAE presets without a selection sweep, "
                             f"not to {name!r}{' with --smoke' if smoke else ''}.")
        r["from_model"] = from_model
    out = os.path.abspath(out or PACKAGE_PRESETS)
    if smoke and out == os.path.abspath(PACKAGE_PRESETS):
        raise ValueError("--smoke writes toy models: pass --out DIR outside the package folder.")
    os.makedirs(out, exist_ok=True)
    if from_model is not None:
        print(f"[{name}] taking the model trained in {from_model}; evaluating it", flush=True)
    else:
        print(f"[{name}] training ({'smoke' if smoke else 'full'} settings)", flush=True)
    trainer = TRAINERS[(r["family"], r["kind"])]
    load_start = os.getloadavg()[0]
    model, train_seconds, history, metrics, check, eval_seconds, selection = trainer(r, local_dir, verbose)
    load_end = os.getloadavg()[0]
    # The check, computed by the very function the tests call.
    check["value"], check["stderr"] = compute_check(model, check, local_dir=local_dir)
    check["headline"] = HEADLINE[check["metric"]]

    file = f"{name}.keras"
    save_model(model, os.path.join(out, file))
    os.chmod(os.path.join(out, file), 0o644)
    command = f"python {SCRIPT} {name}"
    if out != os.path.abspath(PACKAGE_PRESETS):
        command += f" --out {out}"
    if smoke:
        command += " --smoke"
    if r.get("trained_by"):
        command = f"{r['trained_by']} && {command} --from-model {r['from_model']}"
    card = {
        "name": name,
        "description": r["description"],
        "class": type(model).__name__,
        "family": r["family"],
        "file": file,
        "smoke": smoke,
        "command": command,
        "trained_by": r.get("trained_by"),
        "data": r["data"],
        "model": r["model"],
        "train": r["train"],
        "evaluate": r["evaluate"],
        "selection": selection,
        "train_seconds": train_seconds,
        "selection_seconds": None if selection is None else selection["seconds"],
        "eval_seconds": eval_seconds,
        "history_last": {k: v[-1] for k, v in history.items()},
        "metrics": metrics,
        "check": check,
        "parameters": int(model.count_params()),
        "machine": dict(_machine(), load_average_1min={"start": load_start, "end": load_end}),
        "timing_note": _timing_note_of(r, load_start, load_end),
        "keras_genmodels_version": keras_genmodels.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(card, f, indent=2, default=_json_default)
        f.write("\n")
    with open(os.path.join(out, f"{name}.md"), "w") as f:
        f.write(markdown_card(card))
    presets.register_preset(
        out, name, file=file, class_name=card["class"], family=r["family"],
        description=r["description"], card=f"{name}.json", card_markdown=f"{name}.md",
    )
    print(f"[{name}] wrote {os.path.join(out, file)} ({os.path.getsize(os.path.join(out, file))} bytes); "
          f"trained in {train_seconds:.0f} s, evaluated in {eval_seconds:.0f} s", flush=True)
    return card


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.1f}"
    return str(value)


def markdown_card(card):
    """The model card as Markdown."""
    lines = [
        f"# {card['name']}",
        "",
        card["description"] + ".",
        "",
        f"- class: `{card['class']}` ({card['parameters']:,} parameters), file `{card['file']}`",
        "- load: `keras_genmodels.load_pretrained(\"%s\")`" % card["name"],
        f"- reproduce: `{card['command']}`",
        f"- training time: {card['train_seconds']:.0f} s"
        + (f" (by `{card['trained_by']}`)" if card.get("trained_by") else "")
        + (f" (+ {card['selection_seconds']:.0f} s model selection)" if card["selection_seconds"] else "")
        + f", evaluation {card['eval_seconds']:.0f} s, on {card['machine']['cpu_count']} CPU core(s) "
        f"({card['machine']['processor']}; TensorFlow {card['machine']['tensorflow']}, "
        f"Keras {card['machine']['keras']})",
    ]
    if card.get("timing_note"):
        lines.append(f"- timing: {card['timing_note']}")
    lines += [
        f"- created: {card['created']}" + (" — SMOKE SETTINGS, not a real preset" if card["smoke"] else ""),
        "",
        "## Data",
        "",
    ]
    lines += [f"- {k}: {_fmt(v)}" for k, v in card["data"].items()]
    lines += ["", "## Hyperparameters", ""]
    lines += [f"- model: `{json.dumps(card['model'])}`", f"- training: `{json.dumps(card['train'])}`",
              f"- evaluation: `{json.dumps(card['evaluate'])}`"]
    if card["selection"]:
        settings = card["selection"].get("settings", {})
        lines += ["", "## Model selection (validation NLL ~= -L_K, nats)", ""]
        if settings:
            lines += [f"- settings: `{json.dumps({k: v for k, v in settings.items() if k != 'note'})}`"]
            if settings.get("note"):
                lines += [f"- {settings['note']}."]
            lines += [""]
        lines += ["The s.e. is over the validation images; the candidates share them, so their "
                  "differences are known more precisely than the s.e. suggests.", "",
                  "| candidate | validation NLL | s.e. | training time |", "|---|---|---|---|"]
        for row in card["selection"]["table"]:
            cand = {k: v for k, v in row.items() if not k.startswith("val_") and k != "train_seconds"}
            lines.append(f"| `{json.dumps(cand)}` | {row['val_nll']:.2f} | {row['val_iw_stderr']:.2f} | "
                         f"{row['train_seconds']:.0f} s |")
        lines.append(f"\nChosen: `{json.dumps(card['selection']['chosen'])}`")
    lines += ["", "## Held-out metrics (nats)", "", "| metric | value |", "|---|---|"]
    for k, v in card["metrics"].items():
        if not isinstance(v, dict):
            lines.append(f"| {k} | {_fmt(v)} |")
    obs = {k: v for k, v in card["metrics"].items() if k.startswith("observables_") and isinstance(v, dict)}
    if obs:
        names = list(card["metrics"]["observables_exact"])
        cols = list(obs)
        lines += ["", "## Observables per spin", "", "| observable | " + " | ".join(cols) + " |",
                  "|---" * (len(cols) + 1) + "|"]
        for n in names:
            cells = []
            for c in cols:
                val = obs[c][n]
                cells.append(f"{val['value']:.4f} ± {val['error']:.4f}" if isinstance(val, dict) else f"{val:.4f}")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
    c = card["check"]
    lines += ["", "## Check (recomputed by tests/test_presets.py)", "",
              f"`{c['metric']}` = {c['value']:.4f} (± {c['stderr']:.3g} s.e.) on the subset "
              f"`{json.dumps({k: v for k, v in c.items() if k not in ('value', 'stderr', 'tolerance', 'headline')})}`; "
              f"tolerance {c['tolerance']} nats.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="preset names, or 'all'")
    parser.add_argument("--list", action="store_true", help="print the recipes and exit")
    parser.add_argument("--out", default=None, help=f"output folder (default: {os.path.relpath(PACKAGE_PRESETS, REPO)})")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to test the pipeline")
    parser.add_argument("--local-dir", default=None, help="folder of the Fashion-MNIST IDX .gz files")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity: 0, 1 or 2")
    parser.add_argument("--from-model", default=None,
                        help="take the model of a `keras-genmodels train vae --out DIR` run with the "
                             "preset's recipe instead of training (image VAEs; checked against its "
                             "history.json)")
    args = parser.parse_args(argv)
    if args.list or not args.names:
        for name in sorted(RECIPES):
            r = RECIPES[name]
            print(f"{name}: {r['description']}\n    data={json.dumps(r['data'])}\n"
                  f"    model={json.dumps(r['model'])}\n    train={json.dumps(r['train'])}\n"
                  f"    evaluate={json.dumps(r['evaluate'])}")
            if r.get("select"):
                print(f"    select={json.dumps(r['select'])}")
        return 0
    names = sorted(RECIPES) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        print(f"train_presets.py: error: unknown preset(s) {unknown}. Available: {', '.join(sorted(RECIPES))}",
              file=sys.stderr)
        return 2
    for name in names:
        train_preset(name, out=args.out, smoke=args.smoke, local_dir=args.local_dir, verbose=args.verbose,
                     from_model=args.from_model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
