"""The diffusion presets: their recipes, how they are trained and evaluated, and their checks.

    keras-genmodels train diffusion --binarize --widths 16 32 64 --epochs 3 --seed 0 --out runs/diffusion_binary
    python scripts/train_presets.py diffusion_binary_fashion_mnist --from-model runs/diffusion_binary
    python scripts/train_presets.py diffusion_fashion_mnist          # trains, then evaluates
    python scripts/train_presets.py diffusion_ising_l16

Hooks of `keras_genmodels.preset_training` (see `keras_genmodels.families`):
`RECIPES`, `HEADLINE`, `train`, `compute_check`, `accepts_cli_run`, `from_cli_run`.

- `diffusion_fashion_mnist` (grey levels, the discretised Gaussian decoder)
  and `diffusion_binary_fashion_mnist` (pixels > 127, the RBM preset's data,
  the two-bin decoder), kind "image": a U-Net of widths (16, 32, 64) (a
  sixth of keras-io's parameters, so that the file with its EMA copy stays
  small), T = 1000, Ho et al.'s linear schedule and L_simple, for a CPU
  budget of three epochs. The card gives the bound on −log p(x) in nats and
  bits per dimension on test images (`log_likelihood_bound` with
  `bound_timestep_samples` strata of the steps), the held-out ε-loss, and the
  sample-quality scores of `sample_size` DDIM samples against the test split.
- `diffusion_ising_l16`, kind "ising": an unconditional model of 16 x 16
  configurations at T_c, the recipe of the Ising study
  (`diffusion.ising.RECIPES[16]`); the card gives the physics report at T_c
  and the bound on held-out Monte Carlo configurations.

Every check recomputes the bound (nats, mean over the examples) of fixed
inputs, the first `n` test images or Monte Carlo configurations of a fixed
seed, at a fixed seed of the bound's draws: deterministic on one machine.
"""

import json
import os
import time

import numpy as np

from keras_genmodels import preset_training as pt
from keras_genmodels.physics import lattice

T_C = lattice.T_C

_IMAGE_MODEL = {"class": "DiffusionModel", "widths": [16, 32, 64], "block_depth": 2, "groups": 8, "attention": False,
                "timesteps": 1000, "schedule": "linear", "loss": "mse", "ema_decay": 0.999, "ema_warmup": True}
_IMAGE_TRAIN = {"epochs": 3, "batch_size": 64, "learning_rate": 1e-3, "weight_decay": 1e-4, "seed": 0,
                "mixed_precision": False}
_IMAGE_EVALUATE = {"bound_examples": 2000, "bound_timestep_samples": 100, "sample_size": 2000, "sample_steps": 50,
                   "check_examples": 64, "check_timestep_samples": 10}
_FASHION = {"dataset": "fashion_mnist", "train": "train (60,000 images)", "test": "test (10,000 images)"}

RECIPES = {
    "diffusion_fashion_mnist": {
        "kind": "image",
        "description": ("A DDPM (Ho et al. 2020: T = 1000, linear schedule, L_simple, EMA 0.999 with warm-up, AdamW 1e-3 with weight "
                        "decay 1e-4 as keras-io) with a U-Net of widths (16, 32, 64) on Fashion-MNIST grey levels in "
                        "[-1, 1], 3 epochs at batch 64 for a CPU budget"),
        "units": "nats",
        "data": {**_FASHION, "preprocessing": "x = pixel / 127.5 - 1", "binarize": None},
        "model": {**_IMAGE_MODEL, "data": "grey"},
        "train": dict(_IMAGE_TRAIN),
        "evaluate": dict(_IMAGE_EVALUATE),
    },
    "diffusion_binary_fashion_mnist": {
        "kind": "image",
        "description": ("A DDPM (Ho et al. 2020: T = 1000, linear schedule, L_simple, EMA 0.999 with warm-up, AdamW 1e-3 with weight "
                        "decay 1e-4) with a U-Net of widths (16, 32, 64) on binarised Fashion-MNIST (pixel > 127, the "
                        "RBM preset's data; the model sees 2b - 1 and its decoder is two bins of the Gaussian), 3 "
                        "epochs at batch 64 for a CPU budget"),
        "units": "nats",
        "data": {**_FASHION, "preprocessing": "fixed binarisation b = 1[pixel / 255 > 0.5]", "binarize": "fixed"},
        "model": {**_IMAGE_MODEL, "data": "binary"},
        "train": dict(_IMAGE_TRAIN),
        "evaluate": dict(_IMAGE_EVALUATE),
    },
    "diffusion_ising_l16": {
        "kind": "ising",
        "description": ("An unconditional DDPM of 16 x 16 Ising configurations at T_c (periodic lattice U-Net, T = "
                        "1000, linear schedule) trained on Monte Carlo configurations: the recipe of the Ising study "
                        "(`keras_genmodels.diffusion.ising`, docs/diffusion.md)"),
        "units": "nats",
        "data": {"L": 16, "temperature": float(round(T_C, 6)), "seed": 0},
        "model": {"class": "DiffusionModel", "recipe": "keras_genmodels.diffusion.ising.RECIPES[16]"},
        "train": {"seed": 0},
        "evaluate": {"bound_examples": 1000, "bound_timestep_samples": 100, "check_examples": 64,
                     "check_timestep_samples": 10},
    },
}

# The card's headline metric for each kind of check.
HEADLINE = {"bound_nats": "test_bound_nats"}

# `--smoke`: strata of the bound and DDIM steps of the samples.
SMOKE_TIMESTEP_SAMPLES = 10

# The seeds of the checks' draws and of the held-out Ising configurations.
CHECK_SEED = 12345
HELD_OUT_SEED = 54321


def _settings(r):
    """The `diffusion.cli` settings of an image recipe (the flags of `keras-genmodels train diffusion`)."""
    m, t = r["model"], r["train"]
    return {"dataset": r["data"]["dataset"], "binarize": m["data"] == "binary", "data": m["data"],
            "widths": list(m["widths"]), "block_depth": m["block_depth"], "groups": m["groups"],
            "attention": m["attention"], "timesteps": m["timesteps"], "schedule": m["schedule"], "loss": m["loss"],
            "ema_decay": m["ema_decay"], "ema_warmup": m["ema_warmup"], "batch_size": t["batch_size"], "learning_rate": t["learning_rate"],
            "weight_decay": t["weight_decay"]}


def _check_inputs(model, check, local_dir):
    """The fixed inputs of a check: the first n test images, or Monte Carlo configurations of a fixed seed."""
    if check["inputs"] == "test_images":
        from keras_genmodels.diffusion import cli

        return cli.load_data(check["dataset"], "test", model.data, check["n"], local_dir)
    from keras_genmodels.physics import sample_ising

    L = model.data_shape[0]
    return sample_ising(L, check["temperature"], check["n"], seed=check["seed"]).spins.astype("float32")[..., None]


def compute_check(model, check, local_dir=None):
    """Recompute the card's `check`: `(value, stderr)`, the mean bound (nats) of the check's fixed inputs."""
    if check["metric"] not in HEADLINE:
        raise ValueError(f"Unknown check metric of a diffusion preset {check['metric']!r}. "
                         f"Expected one of {sorted(HEADLINE)}.")
    x = _check_inputs(model, check, local_dir)
    nats = model.log_likelihood_bound(x, seed=check["seed"], timestep_samples=check["timestep_samples"])["nats"]
    return float(nats.mean()), pt.stderr(nats)


# ------------------------------------------------------------------ training
def accepts_cli_run(r):
    """Why `--from-model` cannot take a CLI run for recipe `r`, or `None` if it can."""
    return None if r["kind"] == "image" else "--from-model applies to the image diffusion presets"


def cli_command(r, out):
    """The `keras-genmodels train diffusion` command of image recipe `r`, writing into `out`."""
    s, t = _settings(r), r["train"]
    flags = ["--binarize"] if s["binarize"] else []
    flags += ["--widths", *map(str, s["widths"]), "--epochs", str(t["epochs"]), "--seed", str(t["seed"])]
    defaults = {"block_depth": 2, "groups": 8, "timesteps": 1000, "schedule": "linear", "loss": "mse",
                "ema_decay": 0.999, "batch_size": 64, "learning_rate": 1e-3, "weight_decay": 1e-4}
    for key, default in defaults.items():
        if s[key] != default:
            flags += [f"--{key.replace('_', '-')}", str(s[key])]
    if not s["ema_warmup"]:
        flags.append("--no-ema-warmup")
    if t.get("mixed_precision"):
        flags.append("--mixed-precision")
    return " ".join(["keras-genmodels train diffusion", *flags, "--out", out])


def from_cli_run(r, folder):
    """The `keras-genmodels train diffusion` run in `folder` that trained recipe `r`'s model.

    Reads `folder/history.json` and checks that the run's settings, epochs and
    seed are the recipe's and that it was not resumed; returns `(model,
    train_seconds, history, command)` with the model loaded from
    `folder/model.keras` with `safe_mode=True`.
    """
    from keras_genmodels.saving import load_model

    with open(os.path.join(folder, "history.json"), encoding="utf-8") as f:
        record = json.load(f)
    args, t = record["args"], r["train"]
    expected = {**_settings(r), "epochs": t["epochs"], "seed": t["seed"],
                "mixed_precision": bool(t.get("mixed_precision")), "limit": None}
    received = {k: record.get("settings", {}).get(k, args.get(k)) for k in expected}
    if received != expected or record.get("resumed_from_epoch", 0):
        raise ValueError(
            f"Expected a `keras-genmodels train diffusion` run with the recipe of {r['name']!r}: {expected}. "
            f"Received from {os.path.join(folder, 'history.json')!r}: {received} "
            f"(resumed_from_epoch={record.get('resumed_from_epoch', 0)}).")
    model = load_model(os.path.join(folder, "model.keras"), safe_mode=True, compile=False)
    history = {k: [float(x) for x in vals] for k, vals in record["history"].items()}
    return model, float(record["train_seconds"]), history, cli_command(r, args["out"])


def _train_image(r, local_dir, verbose):
    """`(model, seconds, history)`: the recipe's model trained by `fit`, as `keras-genmodels train diffusion`."""
    import keras

    from keras_genmodels import training
    from keras_genmodels.diffusion import cli

    t = r["train"]
    s = _settings(r)
    x = cli.load_data(s["dataset"], "train", s["data"], r["data"].get("train_limit"), local_dir)
    keras.utils.set_random_seed(t["seed"])
    with training.compute_policy(t.get("mixed_precision", False)):
        model = cli.build_model(s, t["seed"])
    model.compile(optimizer=keras.optimizers.AdamW(t["learning_rate"], weight_decay=t["weight_decay"]))
    start = time.perf_counter()
    history = model.fit(x, batch_size=t["batch_size"], epochs=t["epochs"], verbose=verbose)
    return model, time.perf_counter() - start, {k: [float(a) for a in vals] for k, vals in history.history.items()}


def _bound_metrics(model, x, ev, prefix):
    """Mean and standard error of each term of the bound on `x`, the card's `<prefix>_bound_*` entries."""
    bound = model.log_likelihood_bound(x, seed=0, timestep_samples=ev["bound_timestep_samples"])
    out = {f"{prefix}_bound_examples": len(x), f"{prefix}_bound_timestep_samples": ev["bound_timestep_samples"]}
    for key in ("nats", "bits_per_dim", "prior", "diffusion", "decoder"):
        out[f"{prefix}_bound_{key}"] = float(np.mean(bound[key]))
        out[f"{prefix}_bound_{key}_stderr"] = pt.stderr(bound[key])
    return out


def _image_metrics(model, r, local_dir):
    """The bound on test images, the held-out ε-loss and the sample-quality scores against the test split."""
    from keras_genmodels.diffusion import cli
    from keras_genmodels.metrics import image_quality

    ev = r["evaluate"]
    x_test = cli.load_data(r["data"]["dataset"], "test", model.data, r["data"].get("test_limit"), local_dir)
    scorer = pt.strip_optimizer(model)
    scorer.compile()
    held_out = scorer.evaluate(x_test, batch_size=500, verbose=0, return_dict=True)
    metrics = {"n_test": len(x_test), **{f"test_{k}": float(val) for k, val in held_out.items()}}
    metrics.update(_bound_metrics(model, x_test[:ev["bound_examples"]], ev, "test"))
    samples = model.sample(ev["sample_size"], seed=r["train"]["seed"], method="ddim", steps=ev["sample_steps"],
                           eta=0.0)
    unit = samples if model.data == "binary" else (samples + 1.0) / 2.0
    q = image_quality(np.clip(unit, 0.0, 1.0), f"{r['data']['dataset']}:test", n=ev["sample_size"], seed=0,
                      local_dir=local_dir)
    metrics.update({f"quality_{k}": q[k] for k in ("fd", "kd_mean", "kd_std", "precision", "recall", "n_samples")})
    return metrics


def _train_ising(r, verbose):
    """`(model, seconds, history, physics report)` of the Ising study's recipe at the recipe's L and T."""
    from keras_genmodels.diffusion import ising

    d, seed = r["data"], r["train"]["seed"]
    settings = dict(ising.recipe(d["L"]))
    sampler = {k: settings.pop(k) for k in ("method", "steps", "eta", "n_samples", "reference_n") if k in settings}
    if "n_train" in d:  # --smoke
        settings.update(n_configurations=d["n_train"], epochs=1)
        sampler.update(n_samples=r["evaluate"].get("sample_size", 200), reference_n=r["evaluate"].get("sample_size", 200))
    start = time.perf_counter()
    model, history = ising.train_ising_diffusion(d["L"], d["temperature"], seed=seed, verbose=verbose, **settings)
    seconds = time.perf_counter() - start
    report = ising.physics_report(model, d["L"], [d["temperature"]], seed=seed, **sampler)
    history = {k: [float(a) for a in vals] for k, vals in history.items() if isinstance(vals, list)}
    return model, seconds, history, report


def train(r, local_dir, verbose):
    """Train (or take, `r["from_model"]`) and evaluate the diffusion model of recipe `r`: a `Trained`."""
    import keras

    keras.utils.set_random_seed(r["train"]["seed"])
    ev = r["evaluate"]
    if "train_limit" in r["data"] or "n_train" in r["data"]:  # --smoke: the bound and the sampler cut short too
        ev.update(bound_examples=min(ev["bound_examples"], 64), bound_timestep_samples=SMOKE_TIMESTEP_SAMPLES)
        ev.update({"sample_steps": SMOKE_TIMESTEP_SAMPLES} if "sample_steps" in ev else {})
    if r["kind"] == "ising":
        model, seconds, history, report = _train_ising(r, verbose)
        model = pt.strip_optimizer(model)
        start = time.perf_counter()
        from keras_genmodels.physics import sample_ising

        d = r["data"]
        n_test = d.get("n_test", ev["bound_examples"])
        x = sample_ising(d["L"], d["temperature"], n_test, seed=HELD_OUT_SEED).spins.astype("float32")[..., None]
        metrics = {**_ising_metrics(report), **_bound_metrics(model, x, ev, "test")}
        check = {"metric": "bound_nats", "inputs": "monte_carlo", "temperature": d["temperature"],
                 "n": ev["check_examples"], "seed": CHECK_SEED, "timestep_samples": ev["check_timestep_samples"],
                 "tolerance": 0.05}
    else:
        if r.get("from_model"):
            model, seconds, history, r["trained_by"] = from_cli_run(r, r["from_model"])
        else:
            model, seconds, history = _train_image(r, local_dir, verbose)
        model = pt.strip_optimizer(model)
        start = time.perf_counter()
        metrics = _image_metrics(model, r, local_dir)
        check = {"metric": "bound_nats", "inputs": "test_images", "dataset": r["data"]["dataset"],
                 "n": ev["check_examples"], "seed": CHECK_SEED, "timestep_samples": ev["check_timestep_samples"],
                 "tolerance": 0.05}
    metrics["check_bound_nats"] = compute_check(model, check, local_dir)[0]
    return pt.Trained(model, seconds, history, metrics, check, time.perf_counter() - start)


def _ising_metrics(report):
    """The card's flat metrics of the physics report at the recipe's temperature (model, then Monte Carlo)."""
    row = report["temperatures"][0]
    keys = ("positive_magnetization_fraction", "energy_w1", "magnetization_w1", "energy", "reference_energy",
            "abs_magnetization", "reference_abs_magnetization", "heat_capacity", "reference_heat_capacity",
            "susceptibility", "reference_susceptibility")
    out = {"n_samples": report["n_samples"], "reference_n": report["reference_n"]}
    out.update({f"T={row['temperature']:.4g} {key}": row[key] for key in keys})
    return out
