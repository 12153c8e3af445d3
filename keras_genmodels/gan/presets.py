"""The GAN presets: their recipes, how they are trained and evaluated, and their checks.

    python scripts/train_presets.py wgan_gp_fashion_mnist
    python scripts/train_presets.py dcgan_fashion_mnist

Hooks of `keras_genmodels.preset_training` (see `keras_genmodels.families`):
`RECIPES`, `HEADLINE`, `train`, `compute_check`.

- `wgan_gp_fashion_mnist`, `dcgan_fashion_mnist` (kind "image"): keras-io's
  WGAN-GP and the DCGAN with their default networks and optimizers on
  Fashion-MNIST in [−1, 1], for a CPU budget (a few epochs; keras-io trains
  20). The card gives the sample-quality scores of `sample_size` samples
  against the test split (FD, KD, precision, recall in the library's
  features) and the held-out losses.
- The Ising study's recipe (`gan.ising.RECIPES`, `python -m keras_genmodels.gan.ising`)
  is not a shipped preset yet; `train` and `compute_check` already take a
  recipe of kind "ising" (its data: L, temperatures, n_per_temperature).

Every check recomputes the mean discriminator score D(x) of fixed inputs
(the first `n` test images, or Monte Carlo configurations drawn with a fixed
seed), which is deterministic (dropout off).
"""

import time

import numpy as np

from keras_genmodels import preset_training as pt

T_C = 2.0 / np.log(1.0 + np.sqrt(2.0))

RECIPES = {
    "wgan_gp_fashion_mnist": {
        "kind": "image",
        "description": ("keras-io's WGAN-GP (its generator and critic, Adam 2e-4 with betas (0.5, 0.9), batch 512, "
                        "3 critic steps, penalty 10) on Fashion-MNIST in [-1, 1], for a CPU budget"),
        "units": "critic value",
        "data": {"dataset": "fashion_mnist", "train": "train (60,000 images)", "test": "test (10,000 images)",
                 "preprocessing": "x = (pixel - 127.5) / 127.5"},
        "model": {"class": "WGANGP"},
        "train": {"epochs": 4, "batch_size": 512, "seed": 0, "mixed_precision": True, "jit_compile": False},
        "evaluate": {"sample_size": 2000, "check_examples": 500},
    },
    "dcgan_fashion_mnist": {
        "kind": "image",
        "description": ("DCGAN (Radford et al. 2015: its generator and discriminator style, Adam 2e-4 with beta1 0.5, "
                        "batch 128, one-sided label smoothing 0.1) on Fashion-MNIST in [-1, 1], for a CPU budget"),
        "units": "nats",
        "data": {"dataset": "fashion_mnist", "train": "train (60,000 images)", "test": "test (10,000 images)",
                 "preprocessing": "x = (pixel - 127.5) / 127.5"},
        "model": {"class": "DCGAN", "label_smoothing": 0.1},
        "train": {"epochs": 2, "batch_size": 128, "seed": 0, "mixed_precision": True, "jit_compile": False},
        "evaluate": {"sample_size": 2000, "check_examples": 500},
    },
}

# The card's headline metric for each kind of check.
HEADLINE = {"mean_score": "check_mean_score"}


def _check_inputs(model, check, local_dir):
    """The fixed inputs of a check: the first n test images, or Monte Carlo configurations at one T."""
    from keras_genmodels.gan import data

    if check["inputs"] == "test_images":
        x, labels = data.load_images(check["dataset"], "test", check["n"], local_dir, with_labels=True)
        return x, (labels if model.num_classes is not None else None)
    from keras_genmodels.physics import sample_ising

    T = check["temperature"]
    x = sample_ising(model.data_shape[0], T, check["n"], seed=check["seed"]).spins.astype("float32")[..., None]
    return x, (np.full((len(x),), T, "float32") if model.temperature_range is not None else None)


def compute_check(model, check, local_dir=None):
    """Recompute the card's `check`: `(value, stderr)`, the mean D(x) of the check's fixed inputs."""
    if check["metric"] != "mean_score":
        raise ValueError(f"Unknown check metric of a GAN preset {check['metric']!r}. Expected one of {sorted(HEADLINE)}.")
    from keras import ops

    x, y = _check_inputs(model, check, local_dir)
    c = None if y is None else model.condition_vectors(ops.convert_to_tensor(y))
    scores = ops.convert_to_numpy(model.score(ops.convert_to_tensor(x), c))
    return float(scores.mean()), float(scores.std(ddof=1) / np.sqrt(len(scores)))


def _model(r):
    from keras_genmodels.gan import DCGAN, WGANGP

    m = dict(r["model"])
    cls = {"WGANGP": WGANGP, "DCGAN": DCGAN}[m.pop("class")]
    if r["kind"] == "ising":
        temps = r["data"]["temperatures"]
        L = r["data"]["L"]
        return cls(data_shape=(L, L, 1), spins=True, symmetric=True, temperature_range=(min(temps), max(temps)),
                   seed=r["train"]["seed"], **m)
    return cls(seed=r["train"]["seed"], **m)


def train(r, local_dir, verbose):
    """Train and evaluate the GAN of recipe `r`: a `preset_training.Trained`."""
    import keras

    from keras_genmodels import training
    from keras_genmodels.gan import data

    t, ev = r["train"], r["evaluate"]
    keras.utils.set_random_seed(t["seed"])
    with training.compute_policy(t.get("mixed_precision", False)):
        model = _model(r)
    model.compile(jit_compile=t.get("jit_compile", "auto"))
    if r["kind"] == "ising":
        d = r["data"]
        n_per = d["n_per_temperature"] if "n_train" not in d else max(2, d["n_train"] // len(d["temperatures"]))
        x, y = data.ising_data(d["L"], d["temperatures"], n_per, seed=d["seed"])
    else:
        x, y = data.load_images(r["data"]["dataset"], "train", r["data"].get("train_limit"), local_dir), None
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=t["batch_size"], epochs=t["epochs"], verbose=verbose)
    seconds = time.perf_counter() - start
    model = pt.strip_optimizer(model)
    start = time.perf_counter()
    if r["kind"] == "ising":
        from keras_genmodels.gan import ising

        metrics = ising.physics_report(model, r["data"]["L"], ev["report_temperatures"], n_samples=ev["sample_size"],
                                       reference_n=ev["reference_size"] if "n_train" not in r["data"] else ev["sample_size"],
                                       seed=t["seed"])  # --smoke sets n_train: small sets
        check = {"metric": "mean_score", "inputs": "monte_carlo", "temperature": float(round(T_C, 6)),
                 "n": ev["check_examples"], "seed": 12345, "tolerance": 1e-3}
    else:
        metrics = _image_metrics(model, r, local_dir)
        check = {"metric": "mean_score", "inputs": "test_images", "dataset": r["data"]["dataset"],
                 "n": ev["check_examples"], "tolerance": 1e-3}
    metrics["check_mean_score"] = compute_check(model, check, local_dir)[0]
    hist = {k: [float(a) for a in vals] for k, vals in history.history.items()}
    return pt.Trained(model, seconds, hist, metrics, check, time.perf_counter() - start)


def _image_metrics(model, r, local_dir):
    """The scores of `sample_size` samples against the test split, and the held-out losses."""
    from keras_genmodels.gan import data
    from keras_genmodels.metrics import image_quality

    ev = r["evaluate"]
    x_test = data.load_images(r["data"]["dataset"], "test", r["data"].get("test_limit"), local_dir)
    held_out = model.evaluate(x_test, batch_size=500, verbose=0, return_dict=True)
    samples = model.sample(ev["sample_size"], seed=r["train"]["seed"])
    q = image_quality(data.to_unit_images(samples), f"{r['data']['dataset']}:test", n=ev["sample_size"], seed=0,
                      local_dir=local_dir)
    return {"n_test": int(len(x_test)), "sample_size": ev["sample_size"],
            **{f"test_{k}": float(val) for k, val in held_out.items()},
            **{f"quality_{k}": q[k] for k in ("fd", "kd_mean", "kd_std", "precision", "recall", "n_samples")}}
