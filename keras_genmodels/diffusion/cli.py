"""Diffusion models on the command line: a DDPM on images (grey levels or binarised) or on Ising configurations.

    keras-genmodels train diffusion --epochs 1 --limit 6000 --out DIR                 # keras-io's U-Net widths
    keras-genmodels train diffusion --binarize --schedule cosine --timesteps 500 --out DIR
    keras-genmodels train diffusion --dataset ising --L 16 --temperature 2.269 --out DIR
    keras-genmodels evaluate DIR/model.keras --limit 1000 --bound 100
    keras-genmodels sample DIR/model.keras --n 64 --method ddim --steps 50 --out samples.png
    keras-genmodels sample DIR/model.keras --n 16 --method ddpm --out samples.png

Data (`DiffusionModel(data=...)`): Fashion-MNIST or MNIST scaled to [−1, 1]
as keras-io does (`signed_data.load_images`, `data="grey"`); with `--binarize`
the pixels p > 127 as {0, 1} (`datasets.binarize_images`, the package's one
rule, `data="binary"`); or Ising configurations ±1 from the library's Monte
Carlo at one `--temperature` (`signed_data.ising_data`, `data="spins"`, the
periodic `networks.lattice_network`).

`evaluate` gives the held-out ε-prediction loss (the training objective, at
fresh t and ε) and, with `--bound N`, the variational bound on −log p(x) of
the first N held-out examples in nats and bits per dimension, mean ± standard
error over the examples (`DiffusionModel.log_likelihood_bound`: one draw of
x_t per step t, so the standard error includes that noise). For a spin model
the held-out data are fresh Monte Carlo configurations at the training
temperature (from the model's `history.json`, or `--ising-temperature`),
drawn with the Monte Carlo seed 2^32 + `--seed` (a training run with a
`--seed` below 2^32 never draws them).

`sample` runs DDIM with min(50, T) steps and η = 0 by default, the sampler
of the exported `sample` signature (`diffusion.export`), so both give the same
samples for the same seed; `--method ddpm` runs the ancestral chain of all T
steps.
"""

import argparse
import os

import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels import signed_data

DATASETS = signed_data.IMAGE_DATASETS + ("ising",)
SCHEDULES = ("linear", "cosine")  # DiffusionModel's (checked equal in the tests)
LOSSES = ("mse", "mae")
METHODS = ("ddpm", "ddim")
IMAGE_WIDTHS = (32, 64, 96, 128)  # keras-io ddim.py's U-Net
LATTICE_WIDTHS = (32, 64)  # networks.lattice_network's
# The DDIM steps of `sample` and of the per-epoch grids when none are asked (at most T).
SAMPLE_STEPS = 50
GRID_STEPS = 20
# Held-out Ising configurations: Monte Carlo seed 2^32 + --seed, apart from training runs' (--seed < 2^32).
HELD_OUT_SEED_OFFSET = 2**32
HELD_OUT_CONFIGURATIONS = 1000


def _unit_interval_flag(text):
    """A float in [0, 1] (an argparse `type`, as `_validation`'s flags)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        import argparse

        raise argparse.ArgumentTypeError(f"must be a float in [0, 1]. Received: {text!r}")
    return value


def add_train_arguments(p):
    p.add_argument("--dataset", default="fashion_mnist", choices=DATASETS, help="images, or Ising configurations")
    p.add_argument("--binarize", action="store_true",
                   help="images: pixels > 127 as {0, 1} (data='binary'), else grey levels in [-1, 1]")
    p.add_argument("--timesteps", type=v.positive_int_flag, default=1000, help="T, the diffusion steps")
    p.add_argument("--schedule", default="linear", choices=SCHEDULES,
                   help="beta_t: linear 1e-4 to 0.02 (Ho et al.) or cosine (Nichol & Dhariwal)")
    p.add_argument("--loss", default="mse", choices=LOSSES,
                   help="|eps - eps_hat|^2 (L_simple, Ho et al.) or |eps - eps_hat| (keras-io's DDIM)")
    p.add_argument("--ema-decay", type=float, default=0.999, help="decay of the EMA weights, in [0, 1)")
    p.add_argument("--ema-warmup", action=argparse.BooleanOptionalAction, default=True,
                   help="decay min(d, (1 + n) / (10 + n)) at step n, so that the random initial weights fade")
    p.add_argument("--widths", type=v.positive_int_flag, nargs="+", default=None,
                   help="U-Net channels per resolution, highest first (images 32 64 96 128, Ising 32 64)")
    p.add_argument("--groups", type=v.positive_int_flag, default=8,
                   help="GroupNormalization groups, a divisor of every width")
    p.add_argument("--block-depth", type=v.positive_int_flag, default=2, help="residual blocks per resolution")
    p.add_argument("--attention", action="store_true", help="images: self-attention at the lowest resolution")
    p.add_argument("--epochs", type=v.positive_int_flag, default=1, help="epochs")
    p.add_argument("--batch-size", type=v.positive_int_flag, default=64, help="mini-batch size (keras-io's DDIM)")
    p.add_argument("--learning-rate", type=v.positive_float_flag, default=1e-3, help="AdamW learning rate")
    p.add_argument("--weight-decay", type=v.non_negative_float_flag, default=1e-4, help="AdamW weight decay")
    p.add_argument("--L", type=v.positive_int_flag, default=16,
                   help="Ising: lattice size (a multiple of 2^(number of widths - 1))")
    p.add_argument("--temperature", type=v.positive_float_flag, default=2.269,
                   help="Ising: the temperature of the training configurations")
    p.add_argument("--n-configurations", type=v.positive_int_flag, default=2000,
                   help="Ising: Monte Carlo configurations to train on")
    p.add_argument("--limit", type=v.positive_int_flag, default=None, help="images: the first N training images")
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="compute the network in bfloat16 (mixed_bfloat16 policy)")
    p.add_argument("--jit-compile", choices=("auto", "on", "off"), default="auto",
                   help="XLA-compile the training step (auto: Keras's choice)")
    p.add_argument("--steps-per-execution", type=v.positive_int_flag, default=1,
                   help="training steps per compiled call")


def add_evaluate_arguments(p):
    p.add_argument("--bound", dest="diffusion_bound", type=v.positive_int_flag, default=None,
                   help="diffusion: also the variational bound on -log p(x) of the first N examples "
                        "(nats and bits/dim; T - 1 network calls per batch)")
    p.add_argument("--bound-timesteps", dest="diffusion_bound_timesteps", type=v.positive_int_flag, default=None,
                   help="diffusion: estimate the sum over t by K strata of the steps, one t drawn in each per "
                        "example (K network calls per batch instead of T - 1; unbiased, larger error)")
    p.add_argument("--ising-temperature", dest="diffusion_temperature", type=v.positive_float_flag, default=None,
                   help="diffusion on Ising data: T of the held-out configurations (default: the training "
                        "temperature in the model's history.json)")


def add_sample_arguments(p):
    p.add_argument("--method", dest="diffusion_method", default="ddim", choices=METHODS,
                   help="diffusion: the sampler, DDIM or the ancestral DDPM chain of all T steps")
    p.add_argument("--steps", dest="diffusion_steps", type=v.positive_int_flag, default=None,
                   help=f"diffusion, DDIM: the steps, at most T (default min({SAMPLE_STEPS}, T))")
    p.add_argument("--eta", dest="diffusion_eta", type=_unit_interval_flag, default=None,
                   help="diffusion, DDIM: eta in [0, 1], 0 deterministic given x_T, 1 ancestral (default 0)")


# ---------------------------------------------------------------------- train
def _settings(args):
    """The flags' values as a dict, checked together (a `ValueError` names the flags)."""
    spins = args.dataset == "ising"
    widths = tuple(args.widths) if args.widths else (LATTICE_WIDTHS if spins else IMAGE_WIDTHS)
    if not 0.0 <= args.ema_decay < 1.0:
        raise ValueError(f"Expected --ema-decay in [0, 1). Received --ema-decay {args.ema_decay}.")
    from keras_genmodels.diffusion.schedules import MAX_TIMESTEPS

    if args.timesteps > MAX_TIMESTEPS:
        raise ValueError(f"Expected --timesteps of at most {MAX_TIMESTEPS}. Received --timesteps {args.timesteps}.")
    if any(w % args.groups for w in widths):
        raise ValueError(
            "Expected every --widths to be a multiple of --groups (GroupNormalization splits the channels into "
            f"equal groups). Received --widths {' '.join(map(str, widths))} --groups {args.groups}.")
    if spins:
        why = {"binarize": "the configurations are spins ±1 already",
               "attention": "the periodic lattice network has no attention"}
        for flag, reason in why.items():
            if getattr(args, flag):
                raise ValueError(f"--{flag} applies to images ({reason}). Received --dataset ising --{flag}.")
        factor = 2 ** (len(widths) - 1)
        if args.L % factor:
            raise ValueError(
                f"Expected --L to be a multiple of 2^(number of --widths - 1) = {factor} (the lattice network "
                f"pools by that factor on the torus). Received --L {args.L} --widths {' '.join(map(str, widths))}.")
    s = {name: getattr(args, name) for name in (
        "dataset", "binarize", "timesteps", "schedule", "loss", "ema_decay", "ema_warmup", "groups", "block_depth", "attention",
        "batch_size", "learning_rate", "weight_decay")}
    s["widths"] = list(widths)
    s["data"] = "spins" if spins else ("binary" if args.binarize else "grey")
    if spins:
        s.update(L=args.L, temperature=args.temperature, n_configurations=args.n_configurations)
    return s


def build_model(s, seed, data_shape=(28, 28, 1)):
    """The `DiffusionModel` of the settings `s` (a dict of the flags' values, `_settings`)."""
    from keras_genmodels.diffusion import DiffusionModel, networks

    if s["data"] == "spins":
        network = networks.lattice_network(data_shape[0], widths=s["widths"], block_depth=s["block_depth"],
                                           groups=s["groups"], seed=seed)
    else:
        network = networks.unet(data_shape, widths=s["widths"], block_depth=s["block_depth"],
                                attention=s["attention"], groups=s["groups"], seed=seed)
    return DiffusionModel(network, data_shape=data_shape, timesteps=s["timesteps"], schedule=s["schedule"],
                          data=s["data"], loss=s["loss"], ema_decay=s["ema_decay"],
                          ema_warmup=s.get("ema_warmup", True), seed=seed)


def load_data(dataset, split, data, limit=None, local_dir=None):
    """Images of a split as the model of `data` takes them: [−1, 1] (`"grey"`) or {0, 1} (`"binary"`)."""
    from keras_genmodels import datasets

    if data == "binary":
        return datasets.load_unit_images(dataset, split, binarize="fixed", limit=limit, local_dir=local_dir)
    return signed_data.load_images(dataset, split, limit, local_dir)


def _ising_configurations(L, temperature, n, seed):
    from keras_genmodels.physics import lattice

    temperatures = lattice.check_temperatures([temperature], "--temperature")
    x, _ = signed_data.ising_data(L, temperatures, n, seed=seed)
    return x


def training(args, strategy):
    """The diffusion model of the flags, compiled with AdamW, with its data."""
    import keras

    from keras_genmodels import training as shared_training
    from keras_genmodels.diffusion import plots
    from keras_genmodels.runner import TrainingPlan

    s = _settings(args)
    if s["data"] == "spins":
        x = _ising_configurations(args.L, args.temperature, args.n_configurations, 0 if args.seed is None else args.seed)
        shape = (args.L, args.L, 1)
    else:
        x = load_data(args.dataset, "train", s["data"], args.limit, args.local_dir)
        shape = (28, 28, 1)
    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    with shared_training.compute_policy(args.mixed_precision), strategy.scope():
        model = build_model(s, args.seed, shape)
    with strategy.scope():
        model.compile(optimizer=keras.optimizers.AdamW(s["learning_rate"], weight_decay=s["weight_decay"]),
                      jit_compile=jit, steps_per_execution=args.steps_per_execution)
    grids = plots.SampleGrids(os.path.join(args.out, "epochs"), n=36, seed=args.seed, steps=GRID_STEPS)

    def finish(model, out, record):
        record["settings"] = {k: s[k] for k in sorted(s)}
        _pictures(model, out, args.seed, x[0])

    loss = "MSE" if s["loss"] == "mse" else "MAE"
    return TrainingPlan(
        model=model,
        data=x,
        epochs=args.epochs,
        fit_kwargs={"batch_size": s["batch_size"]},
        callbacks=[grids],
        examples=len(x),
        finish=finish,
        summary=lambda record: (f"samples in samples.png (DDIM, {_default_steps(model)} steps), the forward and "
                                "reverse chains in chain.png (a grid per epoch in epochs/); the bound in nats: "
                                "keras-genmodels evaluate MODEL --bound 100"),
        units={"loss": f"ε-prediction loss ({loss} per feature)"},
    )


def _default_steps(model):
    return min(SAMPLE_STEPS, model.timesteps)


def _pictures(model, out, seed, x0):
    from keras_genmodels import plotting
    from keras_genmodels.diffusion import plots

    steps = _default_steps(model)
    samples = model.sample(64, seed=seed, method="ddim", steps=steps, eta=0.0)
    legend = " (black -1, white +1)" if model.data == "spins" else ""
    plotting.image_grid(plots.display_images(model, samples), os.path.join(out, "samples.png"), ncols=8,
                        title=f"DiffusionModel samples, DDIM {steps} steps{legend}")
    plots.chain_figure(model, x0, path=os.path.join(out, "chain.png"), seed=seed)


# ------------------------------------------------------------------- evaluate
def _training_temperature(args):
    from keras_genmodels import runner

    record = runner.read_history(args.model) or {}
    settings = record.get("settings", {}) if isinstance(record, dict) else {}
    return settings.get("temperature") if isinstance(settings, dict) else None


def held_out_data(model, args):
    """The held-out examples of `evaluate`: the images of `--dataset`'s `--split`, or fresh Ising configurations."""
    if model.data == "spins":
        if args.dataset != "ising":
            raise ValueError(f"Expected --dataset ising for a model of spin configurations. "
                             f"Received --dataset {args.dataset}.")
        temperature = getattr(args, "diffusion_temperature", None) or _training_temperature(args)
        if temperature is None:
            raise ValueError("Expected the temperature of the held-out Ising configurations: pass "
                             "--ising-temperature T (the model's history.json, which names it, was not found).")
        seed = HELD_OUT_SEED_OFFSET + (args.seed or 0)
        return _ising_configurations(model.data_shape[0], temperature, args.limit or HELD_OUT_CONFIGURATIONS, seed)
    if args.dataset not in signed_data.IMAGE_DATASETS:
        raise ValueError(f"Expected --dataset to be one of {', '.join(signed_data.IMAGE_DATASETS)} for an image "
                         f"model. Received --dataset {args.dataset}.")
    return load_data(args.dataset, args.split, model.data, args.limit, args.local_dir)


def bound_summary(bound):
    """Mean and standard error over the examples of each term of `log_likelihood_bound`'s result; a dict."""
    n = len(bound["nats"])
    summary = {"n": n}
    for key in ("nats", "bits_per_dim", "prior", "diffusion", "decoder"):
        values = np.asarray(bound[key], "float64")
        summary[key] = float(values.mean())
        summary[f"{key}_stderr"] = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return summary


def evaluate(model, args):
    """The held-out ε-prediction loss, and with `--bound N` the bound on −log p(x) of the first N examples."""
    import time

    start = time.perf_counter()
    x = model.check_data(held_out_data(model, args), "the held-out data")  # the values of the model's data
    where = "ising" if model.data == "spins" else f"{args.dataset}/{args.split}"
    values = model.evaluate(x, batch_size=args.batch_size, verbose=0, return_dict=True)
    metrics = {"dataset": args.dataset, "split": None if model.data == "spins" else args.split, "n": len(x),
               **{k: float(val) for k, val in values.items()}}
    print(f"{where} (n={len(x)}): ε-prediction loss {metrics['loss']:.4f} ({model.loss_kind} per feature)")
    n_bound = getattr(args, "diffusion_bound", None)
    strata = getattr(args, "diffusion_bound_timesteps", None)
    if strata is not None and not n_bound:
        raise ValueError(f"--bound-timesteps applies with --bound N. Received --bound-timesteps {strata} "
                         "without --bound.")
    if strata is not None and strata > model.timesteps - 1:
        raise ValueError(f"Expected --bound-timesteps of at most T - 1 = {model.timesteps - 1} (the steps 2..T of "
                         f"this model). Received --bound-timesteps {strata}.")
    if n_bound:
        bound = bound_summary(model.log_likelihood_bound(x[:n_bound], batch_size=args.batch_size, seed=args.seed,
                                                         timestep_samples=strata))
        bound["timestep_samples"] = strata
        metrics["bound"] = bound
        print(f"{where}, the first {bound['n']}: -log p(x) <= {bound['nats']:.2f} ± {bound['nats_stderr']:.2f} nats "
              f"= {bound['bits_per_dim']:.4f} ± {bound['bits_per_dim_stderr']:.4f} bits/dim (prior "
              f"{bound['prior']:.3f}, diffusion {bound['diffusion']:.2f}, decoder {bound['decoder']:.2f}; "
              f"T = {model.timesteps}, "
              + ("one x_t per t)" if strata is None else f"one t in each of {strata} strata)"))
    metrics["seconds"] = time.perf_counter() - start
    return metrics


# --------------------------------------------------------------------- sample
def sampler_arguments(model, args):
    """`(method, steps, eta)` of the sample flags, checked against the model's T (a `ValueError` names the flags)."""
    T = model.timesteps
    method = getattr(args, "diffusion_method", "ddim")
    steps = getattr(args, "diffusion_steps", None)
    eta = getattr(args, "diffusion_eta", None)
    if method == "ddpm":
        if steps is not None and steps != T:
            raise ValueError(f"--steps applies to --method ddim; DDPM takes all T = {T} steps. "
                             f"Received --steps {steps} --method ddpm.")
        if eta is not None:
            raise ValueError(f"--eta applies to --method ddim. Received --eta {eta:g} --method ddpm.")
        return method, None, None
    if steps is not None and not 1 <= steps <= T:
        raise ValueError(f"Expected --steps in [1, T] = [1, {T}] for this model's T = {T} diffusion steps. "
                         f"Received --steps {steps}.")
    return method, _default_steps(model) if steps is None else steps, 0.0 if eta is None else eta


def sample(model, args):
    """A grid of images (grey levels or binary pixels), or spin configurations as an array."""
    from keras_genmodels.diffusion import plots
    from keras_genmodels.runner import Samples

    method, steps, eta = sampler_arguments(model, args)
    values = model.sample(args.n, seed=args.seed, method=method, steps=steps, eta=eta)
    detail = (f"DDPM, {model.timesteps} steps" if method == "ddpm" else f"DDIM, {steps} steps, η = {eta:g}") + \
        ", from x_T ~ N(0, I)"
    if model.data == "spins":
        return Samples(signed_data.spins_of(values), image_shape=None, title=f"{args.n} diffusion configurations",
                       detail=detail)
    return Samples(plots.display_images(model, values), image_shape=tuple(model.data_shape[:2]),
                   title=f"{args.n} DiffusionModel samples", detail=detail)
