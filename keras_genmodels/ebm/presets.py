"""The energy-based presets: their recipes, how they are trained and evaluated, and their checks.

    python scripts/train_presets.py ebm_gaussian_mixture
    python scripts/train_presets.py ebm_fashion_mnist

Hooks of `keras_genmodels.preset_training` (see `keras_genmodels.families`):
`RECIPES`, `HEADLINE`, `train`, `compute_check`.

- `ebm_gaussian_mixture` (kind "toy"): the 8-Gaussian ring of
  `ebm.toy.gaussian_mixture`, whose density is known. The model density is
  normalised on the box [−4, 4]² by grid quadrature (`ebm.toy.grid_density`):
  the card gives log Z, the test log-likelihood in nats beside the data's own
  (the exact density's), and KL(data ‖ model). The check recomputes the KL
  from the committed file (deterministic: no sampling).
- `ebm_fashion_mnist` (kind "image"): Foster's network and Langevin recipe on
  Fashion-MNIST (32 x 32 in [−1, 1]) for a CPU budget (a fraction of an
  epoch; Foster trains 60 epochs on a GPU). The card gives the sample-quality
  scores of `sample_size` samples (replay buffer + 60 Langevin steps, the
  chains of training) against the test split, and the mean energies of test
  images and of uniform noise. The check recomputes the mean energy of the
  first `check_examples` test images (deterministic).
"""

import time

import numpy as np

from keras_genmodels import preset_training as pt

TOY_BOX = (-4.0, 4.0)

RECIPES = {
    "ebm_gaussian_mixture": {
        "kind": "toy",
        "description": ("MLP energy network on the 8-Gaussian ring (a 2-D toy with a known density), "
                        "Langevin chains from a replay buffer; density by grid quadrature"),
        "units": "nats per point",
        "data": {"dataset": "gaussian_mixture", "n_train": 10000, "n_test": 10000, "train_seed": 0,
                 "test_seed": 1, "box": list(TOY_BOX)},
        "model": {"data_shape": [2], "hidden_units": [128, 128], "data_range": list(TOY_BOX), "buffer_size": 8192,
                  "restart_fraction": 0.05, "steps": 40, "step_size": 0.01, "noise_scale": None, "grad_clip": None,
                  "alpha": 0.001, "data_noise": 0.0},
        "train": {"epochs": 60, "batch_size": 200, "learning_rate": 1e-2, "optimizer": "Adam", "seed": 0},
        "evaluate": {"n_grid": 200},
    },
    "ebm_fashion_mnist": {
        "kind": "image",
        "description": ("Foster's convolutional energy network and Langevin recipe on Fashion-MNIST "
                        "(32 x 32 in [-1, 1]), trained for a CPU budget of 300 steps"),
        "units": "energy (nats)",
        "data": {"dataset": "fashion_mnist", "train": "train (the first train_limit images)",
                 "test": "test (10,000 images)", "train_limit": 38400,
                 "preprocessing": "x = 2 pixel / 255 - 1, padded with -1 to 32 x 32"},
        "model": {"data_shape": [32, 32, 1], "buffer_size": 8192, "restart_fraction": 0.05, "steps": 60,
                  "step_size": 10.0, "noise_scale": 0.005, "grad_clip": 0.03, "alpha": 0.1, "data_noise": 0.005},
        "train": {"epochs": 1, "batch_size": 128, "learning_rate": 1e-4, "optimizer": "Adam", "seed": 0},
        "evaluate": {"sample_size": 2000, "sample_steps": 60, "check_examples": 500},
        # The shipped file keeps 1,024 of the 8,192 buffer samples (4.2 MB instead of 33.5 MB).
        "ship_buffer_size": 1024,
    },
}

# The card's headline metric for each kind of check.
HEADLINE = {"kl_data_model": "kl_data_model", "mean_energy": "test_energy_check_subset"}


def _model(r):
    from keras_genmodels.ebm import EnergyBasedModel

    m = dict(r["model"])
    m["data_shape"] = tuple(m["data_shape"])
    m["data_range"] = tuple(m.get("data_range", (-1.0, 1.0)))
    if "hidden_units" in m:
        m["hidden_units"] = tuple(m["hidden_units"])
    return EnergyBasedModel(seed=r["train"]["seed"], **m)


def _toy_split(r, which):
    from keras_genmodels.ebm import toy

    d = r["data"]
    x = toy.load(d["dataset"], d[f"n_{which}"], seed=d[f"{which}_seed"])
    return np.clip(x, *TOY_BOX)


def toy_metrics(model, dataset, x_test, n_grid):
    """log Z by quadrature, the test log-likelihood (nats per point) and, for the mixture, KL(data ‖ model)."""
    from keras_genmodels.ebm import toy

    grid = toy.grid_density(lambda p: model.energy(p), bounds=model.data_range, n_grid=n_grid)
    ll = grid.log_density(x_test)
    metrics = {"log_z": float(grid.log_z), "test_log_likelihood": float(ll.mean()),
               "test_log_likelihood_stderr": float(ll.std(ddof=1) / np.sqrt(len(ll))), "n_test": int(len(x_test)),
               "n_grid": n_grid}
    if dataset == "gaussian_mixture":
        exact = toy.gaussian_mixture_log_density(x_test)
        metrics["data_test_log_likelihood"] = float(exact.mean())
        metrics["kl_data_model"] = float(grid.kl_divergence(toy.gaussian_mixture_log_density))
    return metrics


def _mean_energy(model, n, local_dir):
    from keras_genmodels.ebm import data

    e = model.energy(data.load_images("fashion_mnist", "test", n, local_dir))
    return float(e.mean()), float(e.std(ddof=1) / np.sqrt(len(e)))


def compute_check(model, check, local_dir=None):
    """Recompute the card's `check`: `(value, stderr)`.

    Kinds (`check["metric"]`): `kl_data_model`, KL(data ‖ model) of the toy
    model by grid quadrature on `n_grid`² cells (exact, stderr 0);
    `mean_energy`, the mean energy of the first `n` test images.
    """
    if check["metric"] == "kl_data_model":
        from keras_genmodels.ebm import toy

        grid = toy.grid_density(lambda p: model.energy(p), bounds=model.data_range, n_grid=check["n_grid"])
        return float(grid.kl_divergence(toy.gaussian_mixture_log_density)), 0.0
    if check["metric"] == "mean_energy":
        return _mean_energy(model, check["n"], local_dir)
    raise ValueError(f"Unknown check metric of an EBM preset {check['metric']!r}. Expected one of {sorted(HEADLINE)}.")


def train(r, local_dir, verbose):
    """Train and evaluate the EBM of recipe `r`: a `preset_training.Trained`."""
    import keras

    t = r["train"]
    keras.utils.set_random_seed(t["seed"])
    model = _model(r)
    model.compile(optimizer=keras.optimizers.Adam(t["learning_rate"]))
    if r["kind"] == "toy":
        x, x_test = _toy_split(r, "train"), _toy_split(r, "test")
    else:
        from keras_genmodels.ebm import data

        x = data.load_images("fashion_mnist", "train", r["data"].get("train_limit"), local_dir)
        x_test = data.load_images("fashion_mnist", "test", r["data"].get("test_limit"), local_dir)
    start = time.perf_counter()
    history = model.fit(x, batch_size=t["batch_size"], epochs=t["epochs"], verbose=verbose)
    seconds = time.perf_counter() - start
    model = pt.strip_optimizer(model)
    if r.get("ship_buffer_size"):
        model = model.with_buffer_size(min(r["ship_buffer_size"], model.buffer_size))
    start = time.perf_counter()
    ev = r["evaluate"]
    if r["kind"] == "toy":
        metrics = toy_metrics(model, r["data"]["dataset"], x_test, ev["n_grid"])
        check = {"metric": "kl_data_model", "n_grid": ev["n_grid"], "tolerance": 1e-4}
    else:
        metrics = _image_metrics(model, x_test, ev, t["seed"], local_dir)
        n = min(ev["check_examples"], len(x_test))
        check = {"metric": "mean_energy", "split": "test", "n": n,
                 "tolerance": 1e-4}
        metrics["test_energy_check_subset"] = _mean_energy(model, n, local_dir)[0]
    hist = {k: [float(a) for a in vals] for k, vals in history.history.items()}
    return pt.Trained(model, seconds, hist, metrics, check, time.perf_counter() - start)


def _image_metrics(model, x_test, ev, seed, local_dir):
    """Mean energies of the test images and of noise, and the scores of samples against the test split."""
    from keras_genmodels.ebm import data
    from keras_genmodels.metrics import image_quality

    e = model.energy(x_test)
    noise = np.random.default_rng(seed).uniform(-1, 1, (1000,) + tuple(model.data_shape)).astype("float32")
    samples = model.sample(ev["sample_size"], seed=seed, start="buffer", steps=ev["sample_steps"])
    q = image_quality(data.to_unit_images(samples), "fashion_mnist:test", n=ev["sample_size"], seed=0,
                      local_dir=local_dir)
    return {"test_energy": float(e.mean()), "test_energy_std": float(e.std()), "noise_energy": float(
        model.energy(noise).mean()), "n_test": int(len(x_test)), "sample_size": ev["sample_size"],
        "samples": f"replay buffer + {ev['sample_steps']} Langevin steps (sample(start='buffer'))",
        **{f"quality_{k}": q[k] for k in ("fd", "kd_mean", "kd_std", "precision", "recall", "n_samples")}}
