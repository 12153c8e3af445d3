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
        "description": ("keras-io's WGAN-GP at half width (its generator and critic with half the channels, Adam 2e-4 "
                        "with betas (0.5, 0.9), 3 critic steps, penalty 10) on Fashion-MNIST in [-1, 1], batch 64 "
                        "for a CPU budget of about a quarter of an hour"),
        "units": "critic value",
        "data": {"dataset": "fashion_mnist", "train": "train (60,000 images)", "test": "test (10,000 images)",
                 "preprocessing": "x = (pixel - 127.5) / 127.5"},
        "model": {"class": "WGANGP", "latent_dim": 128, "width": 0.5},
        "train": {"epochs": 1, "batch_size": 64, "seed": 0, "mixed_precision": True, "jit_compile": False},
        "evaluate": {"sample_size": 2000, "check_examples": 500},
    },
    "dcgan_fashion_mnist": {
        "kind": "image",
        "description": ("DCGAN (Radford et al. 2015: its generator and discriminator style at half width, Adam 2e-4 "
                        "with beta1 0.5, batch 64, one-sided label smoothing 0.1) on Fashion-MNIST in [-1, 1], for a "
                        "CPU budget"),
        "units": "nats",
        "data": {"dataset": "fashion_mnist", "train": "train (60,000 images)", "test": "test (10,000 images)",
                 "preprocessing": "x = (pixel - 127.5) / 127.5"},
        "model": {"class": "DCGAN", "latent_dim": 100, "width": 0.5, "label_smoothing": 0.1},
        "train": {"epochs": 2, "batch_size": 64, "seed": 0, "mixed_precision": True, "jit_compile": False},
        "evaluate": {"sample_size": 2000, "check_examples": 500},
    },
    "wgan_gp_ising_l16": {
        "kind": "ising",
        "description": ("A temperature-conditional, spin-flip symmetric WGAN-GP on 16 x 16 Ising configurations "
                        "(periodic lattice networks; the critic sees the bond products and N m^2, and spin draws through a "
                        "straight-through estimator), trained on 2,000 "
                        "Monte Carlo configurations at each of 9 temperatures in [1.5, 3.5]: the recipe of the Ising "
                        "study (`keras_genmodels.gan.ising`, docs/gan.md)"),
        "units": "critic value",
        "data": {"L": 16, "temperatures": [1.5, 1.8, 2.0, 2.269185, 2.5, 2.75, 3.0, 3.25, 3.5],
                 "n_per_temperature": 2000, "seed": 0},
        "model": {"class": "WGANGP", "latent_dim": 64, "filters": 16, "d_steps": 3, "gp_weight": 10.0,
                  "magnetization_feature": True, "straight_through": True},
        "train": {"epochs": 3, "batch_size": 64, "seed": 0, "learning_rate": 5e-4, "final_learning_rate": 2.5e-5},
        "evaluate": {"sample_size": 4000, "reference_size": 4000, "report_temperatures": [1.8, 2.269185, 3.0],
                     "check_examples": 500},
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
    """The untrained GAN of an image recipe: the family's networks at the recipe's `width`."""
    from keras_genmodels.gan import DCGAN, WGANGP, networks

    m = dict(r["model"])
    seed = r["train"]["seed"]
    cls, make_g, make_d = {"WGANGP": (WGANGP, networks.wgan_gp_generator, networks.wgan_gp_critic),
                           "DCGAN": (DCGAN, networks.dcgan_generator, networks.dcgan_discriminator)}[m.pop("class")]
    width = m.pop("width", 1.0)
    generator = make_g(m["latent_dim"], seed=seed, width=width)
    discriminator = make_d((28, 28, 1), seed=seed, width=width)
    return cls(generator, discriminator, seed=seed, **m)


def _train_ising(r, verbose):
    """`(model, history dict, seconds)`: the Ising study's `train_ising_gan` with the recipe's settings."""
    from keras_genmodels.gan import ising

    d, t, m = r["data"], r["train"], dict(r["model"])
    m.pop("class")
    n_per = d["n_per_temperature"] if "n_train" not in d else max(2, d["n_train"] // len(d["temperatures"]))
    start = time.perf_counter()
    model, history = ising.train_ising_gan(
        d["L"], d["temperatures"], n_per_temperature=n_per, epochs=t["epochs"], batch_size=t["batch_size"],
        seed=t["seed"], verbose=verbose, learning_rate=t["learning_rate"],
        final_learning_rate=t["final_learning_rate"], **m)
    history.pop("seconds", None)
    return model, history, time.perf_counter() - start


def train(r, local_dir, verbose):
    """Train and evaluate the GAN of recipe `r`: a `preset_training.Trained`."""
    import keras

    from keras_genmodels import training
    from keras_genmodels.gan import data

    t, ev = r["train"], r["evaluate"]
    keras.utils.set_random_seed(t["seed"])
    if r["kind"] == "ising":
        model, hist, seconds = _train_ising(r, verbose)
    else:
        with training.compute_policy(t.get("mixed_precision", False)):
            model = _model(r)
        model.compile(jit_compile=t.get("jit_compile", "auto"))
        x = data.load_images(r["data"]["dataset"], "train", r["data"].get("train_limit"), local_dir)
        start = time.perf_counter()
        history = model.fit(x, batch_size=t["batch_size"], epochs=t["epochs"], verbose=verbose)
        seconds = time.perf_counter() - start
        hist = {k: [float(a) for a in vals] for k, vals in history.history.items()}
    model = pt.strip_optimizer(model)
    start = time.perf_counter()
    if r["kind"] == "ising":
        from keras_genmodels.gan import ising

        report = ising.physics_report(model, r["data"]["L"], ev["report_temperatures"], n_samples=ev["sample_size"],
                                      reference_n=ev["reference_size"] if "n_train" not in r["data"] else ev["sample_size"],
                                      seed=t["seed"])  # --smoke sets n_train: small sets
        metrics = _ising_metrics(report)
        check = {"metric": "mean_score", "inputs": "monte_carlo", "temperature": float(round(T_C, 6)),
                 "n": ev["check_examples"], "seed": 12345, "tolerance": 1e-3}
    else:
        metrics = _image_metrics(model, r, local_dir)
        check = {"metric": "mean_score", "inputs": "test_images", "dataset": r["data"]["dataset"],
                 "n": ev["check_examples"], "tolerance": 1e-3}
    metrics["check_mean_score"] = compute_check(model, check, local_dir)[0]
    return pt.Trained(model, seconds, hist, metrics, check, time.perf_counter() - start)


# The figures of each temperature of the physics report that a card lists (model, then Monte Carlo).
ISING_CARD_KEYS = ("positive_magnetization_fraction", "energy_w1", "magnetization_w1", "energy", "reference_energy",
                   "abs_magnetization", "reference_abs_magnetization", "heat_capacity", "reference_heat_capacity",
                   "susceptibility", "reference_susceptibility")


def _ising_metrics(report):
    """The card's flat metrics of an Ising physics report (`gan.ising.physics_report`): per temperature."""
    out = {"n_samples": report["n_samples"], "reference_n": report["reference_n"]}
    for row in report["temperatures"]:
        for key in ISING_CARD_KEYS:
            out[f"T={row['temperature']:.4g} {key}"] = float(row[key])
    out["targets_met"] = bool(report["targets_met"])
    return out


def _image_metrics(model, r, local_dir):
    """The scores of `sample_size` samples against the test split, and the held-out losses."""
    from keras_genmodels.gan import data
    from keras_genmodels.metrics import image_quality

    ev = r["evaluate"]
    x_test = data.load_images(r["data"]["dataset"], "test", r["data"].get("test_limit"), local_dir)
    scorer = pt.strip_optimizer(model)  # compiled for `evaluate`; `model` ships without optimizer state
    scorer.compile()
    held_out = scorer.evaluate(x_test, batch_size=500, verbose=0, return_dict=True)
    samples = model.sample(ev["sample_size"], seed=r["train"]["seed"])
    q = image_quality(data.to_unit_images(samples), f"{r['data']['dataset']}:test", n=ev["sample_size"], seed=0,
                      local_dir=local_dir)
    return {"n_test": int(len(x_test)), "sample_size": ev["sample_size"],
            **{f"test_{k}": float(val) for k, val in held_out.items()},
            **{f"quality_{k}": q[k] for k in ("fd", "kd_mean", "kd_std", "precision", "recall", "n_samples")}}
