"""Deep energy-based model p(x) ∝ exp(−E_θ(x)) trained with Langevin chains from a replay buffer.

    keras-genmodels train ebm --dataset gaussian_mixture --out DIR                          # 2-D toy data
    keras-genmodels train ebm --dataset fashion_mnist --epochs 1 --limit 6000 --out DIR  # images
    keras-genmodels evaluate DIR/model.keras
    keras-genmodels sample DIR/model.keras --n 64 --langevin-steps 1000 --out samples.png

Images (Fashion-MNIST, MNIST) are scaled to [−1, 1] and padded to 32 x 32
(`ebm.data`); the defaults are then Foster's recipe. The 2-D toy sets
(`ebm.toy.DATASETS`) are drawn fresh from `--seed` (`--toy-size` points for
training, as many for the test set, from the next seed), and the chains
are proper Langevin dynamics on the box [−4, 4]²; after training the model
density is normalised on that box by grid quadrature, which gives the test
log-likelihood in nats (and KL(data ‖ model) for the Gaussian mixture).
"""

import os

import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels.ebm import data as ebm_data

TOY_BOX = (-4.0, 4.0)

# Defaults that depend on the data: Foster's recipe for images, Langevin dynamics proper for 2-D toys.
IMAGE_DEFAULTS = dict(epochs=1, batch_size=128, learning_rate=1e-4, steps=60, step_size=10.0, noise_scale=0.005,
                      grad_clip=0.03, alpha=0.1, data_noise=0.005, buffer_size=8192)
TOY_DEFAULTS = dict(epochs=60, batch_size=200, learning_rate=1e-2, steps=40, step_size=0.01, noise_scale=None,
                    grad_clip=None, alpha=0.001, data_noise=0.0, buffer_size=8192)


def _toy_names():
    from keras_genmodels.ebm import toy

    return tuple(toy.DATASETS)


def _noise_flag(text):
    """`--noise-scale`: a float > 0, or "langevin" for √(2ε)."""
    if text == "langevin":
        return text
    return v.positive_float_flag(text)


def add_train_arguments(p):
    datasets = ebm_data.IMAGE_DATASETS + _toy_names()
    p.add_argument("--dataset", default="fashion_mnist", choices=datasets, help="images or a 2-D toy set")
    p.add_argument("--epochs", type=v.positive_int_flag, default=None, help="epochs (images 1, toys 60)")
    p.add_argument("--batch-size", type=v.positive_int_flag, default=None, help="mini-batch size (128, toys 200)")
    p.add_argument("--learning-rate", type=v.positive_float_flag, default=None,
                   help="Adam learning rate (1e-4, toys 1e-2)")
    p.add_argument("--langevin-steps", type=v.positive_int_flag, default=None,
                   help="Langevin steps per training step (60, toys 40)")
    p.add_argument("--step-size", type=v.positive_float_flag, default=None,
                   help="epsilon of the gradient term (10, toys 0.01)")
    p.add_argument("--noise-scale", type=_noise_flag, default=None,
                   help="std of the Langevin noise, or 'langevin' for sqrt(2 epsilon) (0.005, toys langevin)")
    p.add_argument("--grad-clip", type=v.non_negative_float_flag, default=None,
                   help="clip of the energy gradient in the chains, 0 for none (0.03, toys none)")
    p.add_argument("--alpha", type=v.non_negative_float_flag, default=None, help="energy penalty weight (0.1, toys 0.001)")
    p.add_argument("--data-noise", type=v.non_negative_float_flag, default=None,
                   help="std of the noise added to the data (0.005, toys 0)")
    p.add_argument("--buffer-size", type=v.positive_int_flag, default=None, help="replay buffer samples (8192)")
    p.add_argument("--restart-fraction", type=float, default=0.05, help="chains restarted from noise, in [0, 1]")
    p.add_argument("--metropolis", action="store_true", help="Metropolis-adjusted Langevin (MALA) chains")
    p.add_argument("--mixed-precision", action="store_true",
                   help="compute the energy network in bfloat16 (mixed_bfloat16 policy); chains stay float32")
    p.add_argument("--steps-per-execution", type=v.positive_int_flag, default=1,
                   help="training steps per compiled call")
    p.add_argument("--toy-size", type=v.positive_int_flag, default=10000, help="toys: training points")
    p.add_argument("--limit", type=v.positive_int_flag, default=None, help="images: the first N training images")
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")


def add_evaluate_arguments(p):
    p.add_argument("--grid", type=v.positive_int_flag, default=200, help="toys: quadrature cells per axis")
    p.add_argument("--toy-size", type=v.positive_int_flag, default=10000, help="toys: test points")


def add_sample_arguments(p):
    p.add_argument("--langevin-steps", type=v.positive_int_flag, default=None,
                   help="EBM: Langevin steps per sample from noise (the model's sample_steps)")


def _setting(args, name, defaults):
    value = getattr(args, name, None)
    if name == "noise_scale" and value == "langevin":
        return None
    if name == "grad_clip" and value == 0:
        return None
    return defaults[name] if value is None else value


def _is_toy(dataset):
    return dataset in _toy_names()


def toy_data(dataset, n, seed):
    """`(train, test)`: n points of toy set `dataset` from `seed`, and n test points from seed + 1."""
    from keras_genmodels.ebm import toy

    seed = 0 if seed is None else seed
    return toy.load(dataset, n, seed=seed), toy.load(dataset, n, seed=seed + 1)


def training(args, strategy):
    """The EBM of the flags, compiled, on images in [−1, 1] (32 x 32) or on a 2-D toy set."""
    import keras

    from keras_genmodels import training as shared_training
    from keras_genmodels.ebm import EnergyBasedModel
    from keras_genmodels.runner import TrainingPlan

    toy_run = _is_toy(args.dataset)
    defaults = TOY_DEFAULTS if toy_run else IMAGE_DEFAULTS
    s = {name: _setting(args, name, defaults) for name in defaults}
    s["steps"] = args.langevin_steps or defaults["steps"]
    epochs = v.check_positive_int("--epochs", s["epochs"])
    if not 0.0 <= args.restart_fraction <= 1.0:
        raise ValueError(f"Expected --restart-fraction in [0, 1]. Received --restart-fraction {args.restart_fraction}.")
    if toy_run:
        x, x_test = toy_data(args.dataset, args.toy_size, args.seed)
        data_range, shape = TOY_BOX, (2,)
        x, x_test = np.clip(x, *TOY_BOX), np.clip(x_test, *TOY_BOX)
    else:
        x = ebm_data.load_images(args.dataset, "train", args.limit, args.local_dir)
        x_test = ebm_data.load_images(args.dataset, "test", 2000, args.local_dir)
        data_range, shape = (-1.0, 1.0), (32, 32, 1)
    with shared_training.compute_policy(args.mixed_precision), strategy.scope():
        model = EnergyBasedModel(
            shape, data_range=data_range, buffer_size=s["buffer_size"], restart_fraction=args.restart_fraction,
            steps=s["steps"], step_size=s["step_size"], noise_scale=s["noise_scale"], grad_clip=s["grad_clip"],
            alpha=s["alpha"], data_noise=s["data_noise"], metropolis=args.metropolis, seed=args.seed,
        )
    with strategy.scope():
        model.compile(optimizer=keras.optimizers.Adam(s["learning_rate"]),
                      steps_per_execution=args.steps_per_execution)

    def finish(model, out, record):
        record["settings"] = {k: s[k] for k in sorted(s)}
        if toy_run:
            record["held_out"] = toy_scores(model, args.dataset, x_test)
            _toy_pictures(model, out, x_test, args.seed)
        else:
            _image_pictures(model, out, args.seed)

    def summary(record):
        if not toy_run:
            return "samples in samples.png; scores: keras-genmodels evaluate MODEL --quality"
        h = record["held_out"]
        kl = f", KL(data || model) {h['kl_data_model']:.3f} nats" if "kl_data_model" in h else ""
        return f"held-out log-likelihood {h['log_likelihood']:.3f} nats per point (grid quadrature{kl})"

    return TrainingPlan(
        model=model,
        data=x,
        epochs=epochs,
        fit_kwargs={"batch_size": s["batch_size"], "validation_data": x_test},
        finish=finish,
        summary=summary,
        units={name: "energy (nats)" for name in ("energy_data", "energy_model", "energy_gap", "loss",
                                                  "regularizer")},
    )


def toy_scores(model, dataset, x_test, n_grid=200):
    """The model density on the box by grid quadrature: log Z, the test log-likelihood, and KL where known."""
    from keras_genmodels.ebm import toy

    grid = toy.grid_density(lambda pts: model.energy(np.clip(pts, *model.data_range)),
                            bounds=model.data_range, n_grid=n_grid)
    scores = {"log_z": float(grid.log_z), "log_likelihood": float(grid.log_likelihood(x_test)),
              "n_test": int(len(x_test)), "n_grid": n_grid, "bounds": list(model.data_range)}
    if dataset == "gaussian_mixture":
        scores["kl_data_model"] = float(grid.kl_divergence(toy.gaussian_mixture_log_density))
        scores["data_log_likelihood"] = float(np.mean(toy.gaussian_mixture_log_density(x_test)))
    return scores


def _toy_pictures(model, out, x_test, seed):
    from keras_genmodels.ebm import plots

    samples = model.sample(500, seed=seed, steps=200)
    plots.energy_landscape(lambda pts: model.energy(np.clip(pts, *model.data_range)), bounds=model.data_range,
                           data=x_test[:2000], samples=samples, path=os.path.join(out, "energy_landscape.png"))
    plots.chains(model.sample_chain(16, 200, record_every=5, seed=seed), data=x_test[:2000],
                 path=os.path.join(out, "chains.png"))


def _image_pictures(model, out, seed):
    from keras_genmodels import plotting
    from keras_genmodels.ebm import plots

    samples = model.sample(64, seed=seed, start="buffer", steps=60)
    plotting.image_grid(ebm_data.to_unit_images(samples), os.path.join(out, "samples.png"),
                        title="EBM samples (replay buffer + 60 Langevin steps)")
    frames = model.sample_chain(8, 300, record_every=30, seed=seed)
    plots.image_chains(frames, path=os.path.join(out, "chains.png"))  # (frames, chains, 32, 32, 1)


def evaluate(model, args):
    """Toys: log-likelihood by grid quadrature (and KL for the mixture). Images: energies of the split."""
    import time

    start = time.perf_counter()
    dataset = args.dataset
    if tuple(model.data_shape) == (2,):
        if not _is_toy(dataset):
            raise ValueError(f"Expected --dataset to be one of the 2-D toy sets {list(_toy_names())} for an EBM "
                             f"of 2-D points. Received --dataset {dataset!r}.")
        _, x_test = toy_data(dataset, args.toy_size, args.seed)
        x_test = x_test[np.all((x_test >= model.data_range[0]) & (x_test <= model.data_range[1]), axis=1)]
        metrics = {"dataset": dataset, **toy_scores(model, dataset, x_test, args.grid)}
        kl = f"; KL(data || model) = {metrics['kl_data_model']:.4f} nats" if "kl_data_model" in metrics else ""
        print(f"{dataset}: test log-likelihood = {metrics['log_likelihood']:.4f} nats per point "
              f"(n={metrics['n_test']}, log Z = {metrics['log_z']:.4f} by quadrature on {args.grid}^2 cells{kl})")
    elif ebm_data.is_image_model(model):
        x = ebm_data.load_images(dataset, args.split, args.limit, args.local_dir)
        e = model.energy(x)
        noise = np.random.default_rng(args.seed or 0).uniform(-1, 1, x[:1000].shape).astype("float32")
        metrics = {"dataset": dataset, "split": args.split, "n": int(len(x)),
                   "energy_data": float(e.mean()), "energy_data_std": float(e.std()),
                   "energy_noise": float(model.energy(noise).mean())}
        print(f"{dataset}/{args.split}: mean energy {metrics['energy_data']:.3f} (sd {metrics['energy_data_std']:.3f}, "
              f"n={len(x)}); uniform noise {metrics['energy_noise']:.3f}")
    else:
        raise ValueError(
            "Expected an EBM of 2-D points or of 32 x 32 x 1 images. "
            f"Received a model of data_shape={tuple(model.data_shape)}"
        )
    metrics["seconds"] = time.perf_counter() - start
    return metrics


def sample(model, args):
    """Langevin chains from uniform noise: a grid of 28 x 28 images for image models, else an array."""
    from keras_genmodels.runner import Samples

    steps = getattr(args, "langevin_steps", None) or model.sample_steps
    values = model.sample(args.n, seed=args.seed, steps=steps)
    detail = f"{steps} Langevin steps each from uniform noise"
    if ebm_data.is_image_model(model):
        return Samples(ebm_data.to_unit_images(values), image_shape=(28, 28),
                       title=f"{args.n} EBM samples ({steps} Langevin steps)", detail=detail)
    return Samples(values, image_shape=None, title=f"{args.n} EBM samples", detail=detail)



def quality_samples(model, args):
    """The samples `evaluate --quality` scores: chains from the replay buffer (`--langevin-steps`, else
    the training's `steps`), as Du & Mordatch score them; chains of `sample_steps` from noise for 10,000
    images would take hours on a CPU."""
    from keras_genmodels.runner import Samples

    steps = getattr(args, "langevin_steps", None) or model.steps
    values = model.sample(args.n, seed=args.seed, steps=steps, start="buffer")
    detail = f"replay buffer + {steps} Langevin steps each"
    if ebm_data.is_image_model(model):
        return Samples(ebm_data.to_unit_images(values), image_shape=(28, 28), title=f"{args.n} EBM samples",
                       detail=detail)
    return Samples(values, image_shape=None, title=f"{args.n} EBM samples", detail=detail)
