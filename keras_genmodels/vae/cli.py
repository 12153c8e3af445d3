"""The VAE's command-line hooks: `keras-genmodels train vae`, and `evaluate`/`sample` of a VAE.

Variational autoencoder (the keras.io convolutional VAE or the lecture's MLP VAE);
see `keras_genmodels.cli` for what each hook does.
"""

import os
import time

import numpy as np

from keras_genmodels import _validation as v

CLASS_NAMES = {
    "fashion_mnist": [
        "T-shirt", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Boot",
    ],
    "mnist": [str(i) for i in range(10)],
}


def _hidden_units(text):
    """`--hidden-units` as a tuple of positive ints (an argparse `type`)."""
    try:
        units = tuple(int(u) for u in text.split(",") if u.strip())
    except ValueError:
        units = ()
    if not units or any(u < 1 for u in units):
        import argparse

        raise argparse.ArgumentTypeError(
            f"must be comma-separated positive ints such as 512,256. Received: {text!r}"
        )
    return units


# The choices of `VAE(architecture=..., likelihood=...)` (checked equal to the model's in the tests).
ARCHITECTURES = ("conv", "mlp")
LIKELIHOODS = ("bernoulli", "gaussian")
BINARIZE = ("none", "fixed", "dynamic")


def _learning_rate(args, epochs, steps_per_epoch):
    """Adam's learning rate: a float, or a schedule with the linear warm-up and the cosine decay asked for.

    Cosine: from the peak to 2% of it over the epochs after the warm-up. Constant with a warm-up: a
    cosine "decay" to 100% of the peak, i.e. the peak, after it.
    """
    import keras

    warmup = getattr(args, "warmup_epochs", 0)
    if args.lr_schedule == "constant" and not warmup:
        return args.learning_rate
    warmup_steps = warmup * steps_per_epoch
    decay_steps = epochs * steps_per_epoch - warmup_steps
    alpha = 0.02 if args.lr_schedule == "cosine" else 1.0
    if not warmup:
        return keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps, alpha=alpha)
    return keras.optimizers.schedules.CosineDecay(0.0, decay_steps, alpha=alpha, warmup_target=args.learning_rate,
                                                  warmup_steps=warmup_steps)


def add_train_arguments(p):
    from keras_genmodels.datasets import DATASETS

    p.add_argument("--dataset", default="fashion_mnist", choices=DATASETS, help="the data set")
    p.add_argument("--epochs", type=v.positive_int_flag, default=30, help="epochs")
    p.add_argument("--batch-size", type=v.positive_int_flag, default=128, help="mini-batch size")
    p.add_argument("--learning-rate", type=v.positive_float_flag, default=1e-3, help="Adam (peak) learning rate")
    p.add_argument("--lr-schedule", default="constant", choices=("constant", "cosine"),
                   help="constant, or cosine decay to 2%% of the peak over --epochs")
    p.add_argument("--warmup-epochs", type=v.non_negative_int_flag, default=0,
                   help="epochs of linear learning-rate warm-up from 0 to --learning-rate before the schedule "
                        "(a high peak rate from the first step can collapse a latent dimension)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="compute in bfloat16 (mixed_bfloat16 policy), keep float32 weights and losses")
    p.add_argument("--steps-per-execution", type=v.positive_int_flag, default=32,
                   help="training steps per compiled call (amortises Python overhead)")
    p.add_argument("--architecture", default="conv", choices=ARCHITECTURES,
                   help="the keras.io convolutional networks, or the lecture's MLP")
    p.add_argument("--latent-dim", type=v.positive_int_flag, default=2, help="dimension of the latent h")
    p.add_argument("--hidden-units", type=_hidden_units, default=(512, 256),
                   help="MLP hidden widths, comma-separated")
    p.add_argument("--likelihood", default="bernoulli", choices=LIKELIHOODS, help="the decoder p(x|h)")
    p.add_argument("--sigma2", type=v.positive_float_flag, default=1.0, help="Gaussian likelihood variance")
    p.add_argument("--beta", type=v.non_negative_float_flag, default=1.0, help="weight of the KL term")
    p.add_argument("--binarize", default="none", choices=BINARIZE,
                   help="grey levels, fixed binarisation (pixel > 127) or dynamic (resampled each epoch)")
    p.add_argument("--limit", type=v.positive_int_flag, default=None, help="train on the first N images only")
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")


def add_evaluate_arguments(p):
    p.add_argument("--binarize", default="none", choices=BINARIZE, help="as in training")
    p.add_argument("--iw-samples", type=v.positive_int_flag, default=5000,
                   help="K of the importance-weighted bound")
    p.add_argument("--iw-examples", type=v.positive_int_flag, default=200,
                   help="examples on which the ELBO and the importance-weighted bound are compared")


def _hidden_units_of(value):
    return _hidden_units(value) if isinstance(value, str) else tuple(value)


def _binarize_arg(text):
    v.check_choice("--binarize", text, ("none", "fixed", "dynamic"))
    return None if text == "none" else text


def training(args, strategy):
    """The VAE of the flags, compiled, and its data: the train split, and the test split
    (with labels, for the latent-space pictures) as validation data."""
    import keras

    from keras_genmodels import datasets, distribute
    from keras_genmodels import training as shared_training
    from keras_genmodels.runner import TrainingPlan
    from keras_genmodels.vae import VAE

    epochs = v.check_positive_int("--epochs", args.epochs)
    v.check_positive_int("--batch-size", args.batch_size)
    v.check_positive_float("--learning-rate", args.learning_rate)
    binarize = _binarize_arg(args.binarize)
    v.check_choice("--lr-schedule", args.lr_schedule, ("constant", "cosine"))
    warmup = getattr(args, "warmup_epochs", 0)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or not 0 <= warmup < epochs:
        raise ValueError(f"Expected --warmup-epochs to be an integer from 0 to --epochs - 1 ({epochs - 1}). "
                         f"Received --warmup-epochs {warmup!r}.")
    v.check_positive_int("--steps-per-execution", args.steps_per_execution)
    with shared_training.compute_policy(args.mixed_precision), strategy.scope():
        model = VAE(
            architecture=args.architecture,
            latent_dim=args.latent_dim,
            hidden_units=_hidden_units_of(args.hidden_units),
            likelihood=args.likelihood,
            sigma2=args.sigma2,
            beta=args.beta,
            seed=args.seed,
        )
    common = dict(batch_size=args.batch_size, binarize=binarize, seed=args.seed, local_dir=args.local_dir)
    train_ds = distribute.shard_by_data(datasets.load(args.dataset, "train", limit=args.limit, **common))
    # The test split, loaded once: validation data, and the latent-space pictures.
    test_ds = datasets.load(args.dataset, "test", shuffle=False, with_labels=True, **common)
    learning_rate = _learning_rate(args, epochs, int(train_ds.cardinality()))
    with strategy.scope():
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), steps_per_execution=args.steps_per_execution)

    validation = test_ds.map(lambda x, y: x)

    def finish(model, out, record):
        from keras_genmodels.vae import elbo

        model.reseed(args.seed)
        held_out = elbo(model, validation)
        record["held_out_elbo"] = {k: held_out[k] for k in ("mean", "stderr", "n", "reconstruction_loss", "kl_loss")}
        _pictures(model, out, args.dataset, args.seed, test_ds)

    def summary(record):
        e = record["held_out_elbo"]
        return (f"held-out ELBO {e['mean']:.2f} ± {e['stderr']:.2f} nats per image "
                f"({args.dataset} test split, {e['n']:,} images)")

    loss = "-ELBO" if args.beta == 1.0 else f"-E_Q[log p(x|h)] + {args.beta} KL"
    return TrainingPlan(
        model=model,
        data=train_ds,
        epochs=epochs,
        # The tf.data pipeline shuffles itself.
        fit_kwargs={"validation_data": distribute.shard_by_data(validation), "shuffle": False},
        finish=finish,
        summary=summary,
        units={
            "loss": f"{loss} (nats per image)",
            "reconstruction_loss": "-E_Q[log p(x|h)] (nats per image)",
            "kl_loss": "KL(Q(h|x) || N(0, I)) (nats per image)",
        },
    )


def _pictures(model, out, dataset, seed, test_ds):
    """Samples, and for a 2-D latent space of images its decoded grid and the test images in it."""
    from keras_genmodels import plotting

    plotting.image_grid(
        np.asarray(model.sample(64, seed=seed)), os.path.join(out, "samples.png"),
        title=f"VAE samples ({dataset})",
    )
    if model.latent_dim != 2 or len(model.data_shape) != 3:
        return
    plotting.latent_space_grid(
        lambda h: np.asarray(model.decode(h)), os.path.join(out, "latent_space.png"),
        image_shape=model.data_shape[:2],
    )
    means, labels = [], []
    for x, y in test_ds.as_numpy_iterator():
        means.append(np.asarray(model.encode(x)[0]))
        labels.append(y)
    plotting.latent_clusters(
        np.concatenate(means), np.concatenate(labels), os.path.join(out, "latent_clusters.png"),
        class_names=CLASS_NAMES.get(dataset),
    )


def evaluate(model, args):
    """The ELBO over the split, and the ELBO and the importance-weighted bound on the same first images.

    L_K >= ELBO holds image by image (in expectation), so the two are
    compared on the same `--iw-examples` images, with the standard error of
    their paired difference; the ELBO over the whole split is reported beside.
    """
    from keras_genmodels import datasets
    from keras_genmodels.vae import elbo, importance_weighted_bound

    v.check_choice("--dataset", args.dataset, datasets.DATASETS)
    v.check_positive_int("--iw-samples", args.iw_samples)
    v.check_positive_int("--iw-examples", args.iw_examples)
    ds = datasets.load(
        args.dataset, args.split, batch_size=args.batch_size, binarize=_binarize_arg(args.binarize),
        shuffle=False, seed=args.seed, limit=args.limit, local_dir=args.local_dir,
    )
    x = np.concatenate([b for b in ds.as_numpy_iterator()])
    start = time.perf_counter()
    model.reseed(args.seed)
    print(f"ELBO of the {len(x):,} images of {args.dataset}/{args.split}:")
    e = elbo(model, x, batch_size=args.batch_size, verbose=1)
    first = x[: args.iw_examples]
    print(f"Importance-weighted bound, K = {args.iw_samples}, on the first {len(first):,} of them:")
    iw = importance_weighted_bound(model, first, num_samples=args.iw_samples, verbose=1)
    elbo_first = e["per_example"][: iw["n"]].astype("float64")
    gap = iw["per_example"].astype("float64") - elbo_first
    se = lambda a: float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else float("nan")  # noqa: E731
    metrics = {
        "dataset": args.dataset,
        "split": args.split,
        "n": e["n"],
        "elbo": e["mean"],
        "elbo_stderr": e["stderr"],
        "reconstruction_loss": e["reconstruction_loss"],
        "kl_loss": e["kl_loss"],
        "iw_samples": args.iw_samples,
        "iw_examples": iw["n"],
        "elbo_on_iw_examples": float(elbo_first.mean()),
        "elbo_on_iw_examples_stderr": se(elbo_first),
        "iw_bound": iw["mean"],
        "iw_bound_stderr": iw["stderr"],
        "iw_minus_elbo": float(gap.mean()),
        "iw_minus_elbo_stderr": se(gap),
        "nll_estimate": -iw["mean"],
        "seconds": time.perf_counter() - start,
    }
    print(
        f"{args.dataset}/{args.split}, the first {iw['n']:,} images: "
        f"ELBO = {metrics['elbo_on_iw_examples']:.2f} ± {metrics['elbo_on_iw_examples_stderr']:.2f} nats, "
        f"importance-weighted bound (K={args.iw_samples}) = {iw['mean']:.2f} ± {iw['stderr']:.2f} nats "
        f"(higher by {metrics['iw_minus_elbo']:.2f} ± {metrics['iw_minus_elbo_stderr']:.2f}, paired): "
        f"NLL ≈ {-iw['mean']:.2f} nats\n"
        f"{args.dataset}/{args.split}, all {e['n']:,} images: ELBO = {e['mean']:.2f} ± {e['stderr']:.2f} nats "
        f"(reconstruction {e['reconstruction_loss']:.2f}, KL {e['kl_loss']:.2f})"
    )
    return metrics


def sample(model, args):
    """E[x|h], h ~ N(0, I): a grid for grey-level images, else an array."""
    from keras_genmodels.runner import Samples

    images = np.asarray(model.sample(args.n, seed=args.seed))
    is_image = len(model.data_shape) == 3 and model.data_shape[-1] == 1
    return Samples(images, image_shape=model.data_shape[:2] if is_image else None,
                   title=f"{args.n} VAE samples")
