"""GANs on the command line: a WGAN-GP or a DCGAN on images, or a WGAN-GP on Ising configurations.

    keras-genmodels train gan --epochs 1 --limit 6000 --out DIR                         # keras-io's WGAN-GP
    keras-genmodels train gan --model dcgan --conditional --epochs 1 --limit 6000 --out DIR
    keras-genmodels train gan --dataset ising --L 16 --temperatures 1.8 2.269 3.0 --out DIR
    keras-genmodels evaluate DIR/model.keras --quality --quality-samples 2000
    keras-genmodels sample DIR/model.keras --n 64 --out samples.png

Images (Fashion-MNIST, MNIST) are scaled to [−1, 1] as keras-io does
(`gan.data`); `--conditional` conditions on the class labels. Ising
configurations come from the library's Monte Carlo at the temperatures of
`--temperatures` (`--n-per-temperature` each); with several temperatures the
model is conditioned on T over their range, and generates at any T inside
it; the generator is spin-flip symmetric (`symmetric=True`).
"""

import os

import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels.gan import data as gan_data

MODELS = ("wgan_gp", "dcgan")
DATASETS = gan_data.IMAGE_DATASETS + ("ising",)
IMAGE_DEFAULTS = {"wgan_gp": dict(batch_size=512, learning_rate=2e-4, d_steps=3, latent_dim=128),
                  "dcgan": dict(batch_size=128, learning_rate=2e-4, d_steps=1, latent_dim=100)}
ISING_DEFAULTS = dict(batch_size=128, learning_rate=2e-4, d_steps=3, latent_dim=64)


def add_train_arguments(p):
    p.add_argument("--model", default="wgan_gp", choices=MODELS, help="WGAN-GP (keras-io's recipe) or DCGAN")
    p.add_argument("--dataset", default="fashion_mnist", choices=DATASETS, help="images, or Ising configurations")
    p.add_argument("--epochs", type=v.positive_int_flag, default=1, help="epochs")
    p.add_argument("--batch-size", type=v.positive_int_flag, default=None,
                   help="mini-batch size (WGAN-GP 512, DCGAN 128, Ising 128)")
    p.add_argument("--learning-rate", type=v.positive_float_flag, default=None,
                   help="Adam learning rate of both networks (2e-4)")
    p.add_argument("--d-steps", type=v.positive_int_flag, default=None,
                   help="discriminator updates per generator update (WGAN-GP 3, DCGAN 1)")
    p.add_argument("--gp-weight", type=v.non_negative_float_flag, default=10.0, help="WGAN-GP: penalty weight")
    p.add_argument("--label-smoothing", type=float, default=0.0,
                   help="DCGAN: one-sided label smoothing, real target 1 - eps, eps in [0, 1)")
    p.add_argument("--latent-dim", type=v.positive_int_flag, default=None, help="size of z (128, DCGAN 100, Ising 64)")
    p.add_argument("--conditional", action="store_true", help="images: condition on the class labels")
    p.add_argument("--L", type=v.positive_int_flag, default=16, help="Ising: lattice size (a multiple of 4)")
    p.add_argument("--temperatures", type=v.positive_float_flag, nargs="+", default=[1.8, 2.269, 3.0],
                   help="Ising: training temperatures (several: a temperature-conditional model)")
    p.add_argument("--n-per-temperature", type=v.positive_int_flag, default=2000,
                   help="Ising: Monte Carlo configurations per temperature")
    p.add_argument("--limit", type=v.positive_int_flag, default=None, help="images: the first N training images")
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="compute both networks in bfloat16 (mixed_bfloat16 policy)")
    p.add_argument("--jit-compile", choices=("auto", "on", "off"), default="auto",
                   help="XLA-compile the training step (auto: Keras's choice, off on a CPU, where XLA runs "
                        "keras-io's critic ~16x slower: bench/keras_io_wgan_gp.py)")
    p.add_argument("--steps-per-execution", type=v.positive_int_flag, default=1,
                   help="training steps per compiled call")


def add_evaluate_arguments(p):
    p.add_argument("--temperatures", dest="eval_temperatures", type=v.positive_float_flag, nargs="+", default=None,
                   help="GAN on Ising data: temperatures of the physics report (default: the training range's "
                        "ends and T_c; required for an unconditional model)")


def add_sample_arguments(p):
    p.add_argument("--labels", dest="gan_labels", type=int, nargs="+", default=None,
                   help="GAN conditioned on classes: the label(s) to sample (default: 0, 1, 2, ... in turn)")
    p.add_argument("--temperature", dest="gan_temperature", type=v.positive_float_flag, default=None,
                   help="GAN conditioned on a temperature: T to sample at")


def _settings(args):
    defaults = ISING_DEFAULTS if args.dataset == "ising" else IMAGE_DEFAULTS[args.model]
    s = {name: getattr(args, name) if getattr(args, name) is not None else value for name, value in defaults.items()}
    s.update(gp_weight=args.gp_weight, label_smoothing=args.label_smoothing, model=args.model, dataset=args.dataset)
    if not 0.0 <= args.label_smoothing < 1.0:
        raise ValueError(f"Expected --label-smoothing in [0, 1). Received --label-smoothing {args.label_smoothing}.")
    if args.dataset == "ising" and args.conditional:
        raise ValueError("--conditional conditions image models on their labels; an Ising model is conditioned on "
                         "T when --temperatures lists several. Received --dataset ising --conditional.")
    return s


def build_model(s, seed, data_shape=(28, 28, 1), num_classes=None, temperature_range=None, spins=False):
    """The `WGANGP` or `DCGAN` of the settings `s` (a dict of the flags' values)."""
    from keras_genmodels.gan import DCGAN, WGANGP

    common = dict(data_shape=data_shape, latent_dim=s["latent_dim"], d_steps=s["d_steps"], num_classes=num_classes,
                  temperature_range=temperature_range, spins=spins, symmetric=spins, seed=seed)
    if s["model"] == "dcgan":
        return DCGAN(label_smoothing=s["label_smoothing"], **common)
    return WGANGP(gp_weight=s["gp_weight"], **common)


def _ising_data(args, seed):
    from keras_genmodels.physics import lattice

    temperatures = lattice.check_temperatures(args.temperatures, "--temperatures")
    x, t = gan_data.ising_data(args.L, temperatures, args.n_per_temperature, seed=0 if seed is None else seed)
    return x, t, temperatures


def training(args, strategy):
    """The GAN of the flags, compiled, with its data."""
    import keras

    from keras_genmodels import training as shared_training
    from keras_genmodels.gan import plots
    from keras_genmodels.runner import TrainingPlan

    s = _settings(args)
    y = None
    if args.dataset == "ising":
        if args.L % 4:
            raise ValueError(f"Expected --L to be a multiple of 4 (the lattice networks). Received --L {args.L}.")
        x, t, temperatures = _ising_data(args, args.seed)
        several = len(set(np.round(temperatures, 6))) > 1
        t_range = (float(min(temperatures)), float(max(temperatures))) if several else None
        y = t if several else None
        shape, num_classes, spins = (args.L, args.L, 1), None, True
        s["temperatures"] = [float(T) for T in temperatures]
    else:
        x, labels = gan_data.load_images(args.dataset, "train", args.limit, args.local_dir, with_labels=True)
        y = labels if args.conditional else None
        shape, num_classes, t_range, spins = (28, 28, 1), (10 if args.conditional else None), None, False
    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    with shared_training.compute_policy(args.mixed_precision), strategy.scope():
        model = build_model(s, args.seed, shape, num_classes, t_range, spins)
    with strategy.scope():
        model.compile(
            optimizer={name: keras.optimizers.Adam(s["learning_rate"], beta_1=0.5,
                                                   beta_2=0.9 if s["model"] == "wgan_gp" else 0.999)
                       for name in ("generator", "discriminator")},
            jit_compile=jit, steps_per_execution=args.steps_per_execution,
        )
    grids = plots.SampleGrids(os.path.join(args.out, "epochs"), n=36, seed=args.seed)

    def finish(model, out, record):
        record["settings"] = {k: s[k] for k in sorted(s)}
        _pictures(model, out, args.seed)

    return TrainingPlan(
        model=model,
        data=x,
        epochs=args.epochs,
        fit_kwargs={"batch_size": s["batch_size"], **({"y": y} if y is not None else {})},
        callbacks=[grids],
        examples=len(x),
        finish=finish,
        summary=lambda record: "samples in samples.png (a grid per epoch in epochs/); scores: "
                               "keras-genmodels evaluate MODEL --quality",
        units={name: "loss (nats)" if s["model"] == "dcgan" else "critic value"
               for name in ("d_loss", "g_loss", "wasserstein")},
    )


def default_conditions(model, n):
    """Conditions for n samples when none are given: labels 0, 1, 2, ... in turn; the range's middle T."""
    if model.num_classes is not None:
        return {"labels": np.arange(n) % model.num_classes}
    if model.temperature_range is not None:
        lo, hi = model.temperature_range
        return {"temperature": 0.5 * (lo + hi)}
    return {}


def _pictures(model, out, seed):
    from keras_genmodels import plotting
    from keras_genmodels.gan import plots

    if model.spins:
        plots.spin_grid(model, path=os.path.join(out, "samples.png"), seed=seed)
        return
    samples = model.sample(64, seed=seed, **default_conditions(model, 64))
    plotting.image_grid(gan_data.to_unit_images(samples), os.path.join(out, "samples.png"),
                        ncols=8, title=f"{type(model).__name__} samples")


def evaluate(model, args):
    """Images: the losses on `--split` against fresh samples. Ising: the physics report against Monte Carlo."""
    import time

    start = time.perf_counter()
    if model.spins:
        from keras_genmodels.gan import ising

        temperatures = args.eval_temperatures or ising.default_report_temperatures(model)
        report = ising.physics_report(model, model.data_shape[0], temperatures, seed=args.seed or 0)
        metrics = {"dataset": "ising", **report}
        for T, r in zip(temperatures, report["temperatures"]):
            print(f"T = {T:g}: m > 0 fraction {r['positive_magnetization_fraction']:.3f}, W1(e) {r['energy_w1']:.4f}, "
                  f"W1(m) {r['magnetization_w1']:.4f}")
    else:
        x, labels = gan_data.load_images(args.dataset, args.split, args.limit, args.local_dir, with_labels=True)
        values = model.evaluate(x, labels if model.conditional else None, batch_size=args.batch_size, verbose=0,
                                return_dict=True)
        metrics = {"dataset": args.dataset, "split": args.split, "n": int(len(x)),
                   **{k: float(val) for k, val in values.items()}}
        print(f"{args.dataset}/{args.split} (n={len(x)}): " + ", ".join(f"{k} {float(val):.4f}"
                                                                       for k, val in sorted(values.items())))
    metrics["seconds"] = time.perf_counter() - start
    return metrics


def sample(model, args):
    """A grid of images (labels in turn, or `--labels`), or spin configurations as an array."""
    from keras_genmodels.runner import Samples

    conditions = default_conditions(model, args.n)
    if getattr(args, "gan_labels", None) is not None:
        conditions = {"labels": np.resize(np.asarray(args.gan_labels), args.n)}
    if getattr(args, "gan_temperature", None) is not None:
        conditions = {"temperature": args.gan_temperature}
    values = model.sample(args.n, seed=args.seed, **conditions)
    def described(value):
        values = np.unique(np.asarray(value))
        return f"{values[0]:g}" if len(values) == 1 else " ".join(f"{u:g}" for u in values) + " in turn"

    what = ", ".join(f"{k} {described(v)}" for k, v in conditions.items())
    detail = f"G(z), z ~ N(0, I){'; ' + what if what else ''}"
    if model.spins:
        return Samples(gan_data.spins_of(values), image_shape=None, title=f"{args.n} GAN configurations",
                       detail=detail)
    return Samples(gan_data.to_unit_images(values), image_shape=tuple(model.data_shape[:2]),
                   title=f"{args.n} {type(model).__name__} samples", detail=detail)
