"""The VAE presets: their recipes, how they are trained and evaluated, and their checks.

The preset hooks of the VAE family (see `keras_genmodels.preset_training`):
`RECIPES` (every hyperparameter of every VAE preset), `train(recipe,
local_dir, verbose) -> preset_training.Trained`, `compute_check(model, check,
local_dir) -> (value, stderr)` and `from_cli_run(recipe, folder)` (take a
`keras-genmodels train vae` run instead of training).

Metrics (nats): on images, the ELBO on the full test split (one draw per
image) and the importance-weighted bound L_K (Burda et al. 2015) with
K = 5000 on the first `iw_examples` test images, NLL ~= -L_5000; on Ising
configurations (L = 4, every state enumerated), an upper-bound estimate of
KL(p_T || q) (log q(s) >= L_K(s)) and the model's observables beside the
exact ones.
"""

import json
import os
import time

import numpy as np

from keras_genmodels import preset_training as pt
from keras_genmodels.physics import references

_FASHION = {"dataset": "fashion_mnist", "train": "train (60,000 images)", "test": "test (10,000 images)"}
_GREY = "grey levels x = pixel / 255 in [0, 1]"

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
        # Chosen by `_select` among the candidates (the card records the table).
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
}

for _key, _T in references.ISING_TEMPERATURES.items():
    _where = "T_c" if _key == "tc" else f"T = {_T}"
    RECIPES[f"vae_ising_l4_{_key}"] = {
        "family": "vae",
        "kind": "ising",
        "description": f"MLP VAE (latent 4) on 4x4 Ising configurations at {_where}",
        "data": references.ising_recipe_data(_T),
        "model": {"architecture": "mlp", "latent_dim": 4, "hidden_units": [64, 64], "likelihood": "bernoulli"},
        "train": {"epochs": 60, "batch_size": 128, "learning_rate": 1e-3, "seed": 0},
        "evaluate": {"iw_samples": 1000, "check_examples": 500, "sample_size": 10000, "seed": 0},
    }

# The card's headline metric for each kind of check.
HEADLINE = {"elbo": "elbo", "kl_estimate": "kl_upper_estimate"}


# ---------------------------------------------------------------------------
# Evaluation (shared with tests/test_presets.py through `compute_check`)


def vae_elbo(model, x, seed):
    """The ELBO of `x`, one reparameterisation draw per image from the noise seed `seed`."""
    from keras_genmodels.vae import elbo

    model.reseed(seed)
    return elbo(model, x, batch_size=500)


def vae_iw(model, x, num_samples, seed, batch_size=100, max_decodes=8192):
    """The importance-weighted bound L_K of `x`, K = `num_samples`, noise seed `seed`."""
    from keras_genmodels.vae import importance_weighted_bound

    model.reseed(seed)
    return importance_weighted_bound(
        model, x, num_samples=num_samples, batch_size=batch_size, max_decodes=max_decodes
    )


def compute_check(model, check, local_dir=None):
    """Recompute the card's `check` metric of a VAE: returns `(value, stderr)`.

    Kinds (`check["metric"]`):
    - `elbo`: mean ELBO on the first `n` images of the test split (noise seed `seed`);
    - `kl_estimate`: mean of log p_T(s) - L_K(s) over `n` states s ~ p_T drawn with
      NumPy's generator `state_seed`, noise seed `seed` (Ising data).
    """
    from keras_genmodels import datasets

    metric = check["metric"]
    if metric == "elbo":
        x = datasets.load_unit_images("fashion_mnist", "test", binarize=check.get("binarize"),
                                      limit=check["n"], local_dir=local_dir)
        out = vae_elbo(model, x, check["seed"])
        return out["mean"], out["stderr"]
    if metric == "kl_estimate":
        states, log_p, _ = references.exact_states(check["L"], check["temperature"])
        idx = references.exact_sample(log_p, check["n"], check["state_seed"])
        iw = vae_iw(model, states[idx], check["iw_samples"], check["seed"], batch_size=check["n"],
                    max_decodes=2**18)
        values = log_p[idx] - iw["per_example"].astype("float64")
        return float(values.mean()), pt.stderr(values)
    raise ValueError(f"Unknown check metric of a VAE preset {metric!r}. Expected one of {sorted(HEADLINE)}.")


# ---------------------------------------------------------------------------
# Training


def _fit(model_kwargs, train, x, verbose):
    import keras

    from keras_genmodels.vae import VAE

    keras.utils.set_random_seed(train["seed"])
    kwargs = dict(model_kwargs)
    if "hidden_units" in kwargs:
        kwargs["hidden_units"] = tuple(kwargs["hidden_units"])
    model = VAE(data_shape=x.shape[1:], seed=train["seed"], **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(train["learning_rate"]))
    start = time.perf_counter()
    history = model.fit(x, epochs=train["epochs"], batch_size=train["batch_size"], shuffle=True, verbose=verbose)
    seconds = time.perf_counter() - start
    return model, seconds, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _select(r, local_dir, verbose):
    """Train each candidate on train[:50000]; pick the best validation L_K (NLL)."""
    from keras_genmodels import datasets

    s = r["select"]
    limit = r["data"].get("train_limit")
    x_all = datasets.load_unit_images("fashion_mnist", "train", binarize=r["data"]["binarize"], local_dir=local_dir)
    x_fit = x_all[: 50000 if limit is None else limit]
    x_val = x_all[50000:][: s["iw_examples"]]
    train = dict(r["train"], epochs=s["epochs"])
    table = []
    start = time.perf_counter()
    for candidate in s["candidates"]:
        model, seconds, _ = _fit(candidate, train, x_fit, verbose)
        iw = vae_iw(model, x_val, s["iw_samples"], r["evaluate"]["seed"])
        table.append({**candidate, "val_iw_bound": iw["mean"], "val_iw_stderr": iw["stderr"],
                      "val_nll": -iw["mean"], "train_seconds": seconds})
        print(f"  candidate {candidate}: validation NLL ~= {-iw['mean']:.2f} "
              f"+- {iw['stderr']:.2f} nats ({seconds:.0f} s)", flush=True)
    best = max(table, key=lambda row: row["val_iw_bound"])
    chosen = {k: best[k] for k in s["candidates"][0]}
    settings = {k: v for k, v in s.items() if k != "candidates"}
    return chosen, {"settings": settings, "table": table, "chosen": chosen,
                    "seconds": time.perf_counter() - start}


def accepts_cli_run(r):
    """Why `--from-model` cannot take a CLI run for recipe `r`, or `None` if it can."""
    if r["kind"] != "image" or r.get("select"):
        return "--from-model applies to image VAE presets without a selection sweep"
    return None


def from_cli_run(r, folder):
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
        "lr_schedule": "constant", "mixed_precision": False, "warmup_epochs": 0,
    }
    received = {k: args.get(k, expected[k] if k in ("lr_schedule", "mixed_precision", "warmup_epochs") else None)
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


def train(r, local_dir, verbose):
    """Train (or take, `r["from_model"]`) and evaluate the VAE of recipe `r`: a `preset_training.Trained`."""
    return _train_image(r, local_dir, verbose) if r["kind"] == "image" else _train_ising(r, verbose)


def _train_image(r, local_dir, verbose):
    from keras_genmodels import datasets

    d, ev = r["data"], r["evaluate"]
    selection = None
    if r.get("select"):
        r["model"], selection = _select(r, local_dir, verbose)
    common = dict(binarize=d["binarize"], local_dir=local_dir)
    x_train = datasets.load_unit_images("fashion_mnist", "train", limit=d.get("train_limit"), **common)
    x_test = datasets.load_unit_images("fashion_mnist", "test", limit=d.get("test_limit"), **common)
    if r.get("from_model"):
        model, seconds, history, r["trained_by"] = from_cli_run(r, r["from_model"])
    else:
        model, seconds, history = _fit(r["model"], r["train"], x_train, verbose)
    model = pt.strip_optimizer(model)
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
    return pt.Trained(model, seconds, history, metrics, check, time.perf_counter() - start, selection)


def _train_ising(r, verbose):
    from keras_genmodels.physics import analysis

    d, ev = r["data"], r["evaluate"]
    x_train, x_test, states, log_p, exact_obs = references.ising_splits(r)
    model, seconds, history = _fit(r["model"], r["train"], x_train, verbose)
    model = pt.strip_optimizer(model)
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
        "test_nll_iw": float(-np.mean(log_q[references.state_indices(x_test)])),
        "data_entropy_exact": float(-np.sum(p * log_p)),
        "observables_exact": references.observable_subset(exact_obs),
        "observables_model_iw": references.observable_subset(
            analysis.observables_of_distribution(log_q, d["L"], d["temperature"])
        ),
        "observables_model_samples": references.sample_observables_card(model, d["temperature"], ev),
        "observables_samples_info": f"{ev['sample_size']} samples x ~ Bernoulli(E[x|h]), h ~ N(0, I), seed {ev['seed']}",
    }
    check = {"metric": "kl_estimate", "L": d["L"], "temperature": d["temperature"],
             "n": ev["check_examples"], "state_seed": ev["seed"], "iw_samples": ev["iw_samples"],
             "seed": ev["seed"], "tolerance": 0.02}
    return pt.Trained(model, seconds, history, metrics, check, time.perf_counter() - start)
