"""Variational autoencoder (the keras.io convolutional VAE or the lecture's MLP VAE)."""

import json
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
    try:
        units = tuple(int(u) for u in text.split(",") if u.strip())
    except ValueError:
        units = ()
    if not units or any(u < 1 for u in units):
        raise ValueError(
            f"`--hidden-units` must be comma-separated positive ints such as 512,256. "
            f"Received: {text!r}"
        )
    return units


def add_train_arguments(p):
    p.add_argument("--dataset", default="fashion_mnist", help="mnist or fashion_mnist")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam (peak) learning rate")
    p.add_argument("--lr-schedule", default="constant",
                   help="constant, or cosine (decay to 2%% of the peak over --epochs)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="compute in bfloat16 (mixed_bfloat16 policy), keep float32 weights and losses")
    p.add_argument("--steps-per-execution", type=int, default=32,
                   help="training steps per compiled call (amortises Python overhead). Defaults to 32")
    p.add_argument("--architecture", default="conv", help="conv (keras.io) or mlp (lecture)")
    p.add_argument("--latent-dim", type=int, default=2)
    p.add_argument("--hidden-units", default="512,256", help="MLP hidden widths, e.g. 512,256")
    p.add_argument("--likelihood", default="bernoulli", help="bernoulli or gaussian")
    p.add_argument("--sigma2", type=float, default=1.0, help="Gaussian likelihood variance")
    p.add_argument("--beta", type=float, default=1.0, help="weight of the KL term")
    p.add_argument("--binarize", default="none", help="none, fixed or dynamic")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")
    p.add_argument("--out", default="saved_models/vae", help="output folder")
    p.add_argument("--verbose", type=int, default=1, help="Keras progress bar: 0, 1 or 2")
    from keras_genmodels.cli import add_training_arguments

    add_training_arguments(p)


def add_evaluate_arguments(p):
    p.add_argument("--binarize", default="none", help="none, fixed or dynamic (as in training)")
    p.add_argument("--iw-samples", type=int, default=5000,
                   help="K of the importance-weighted bound. Defaults to 5000")
    p.add_argument("--iw-examples", type=int, default=200,
                   help="examples on which the importance-weighted bound is computed. Defaults to 200")


def handles(model):
    from keras_genmodels.vae import VAE

    return isinstance(model, VAE)


def _binarize_arg(text):
    v.check_choice("--binarize", text, ("none", "fixed", "dynamic"))
    return None if text == "none" else text


def train(args):
    import keras

    from keras_genmodels import datasets, distribute, plotting, training
    from keras_genmodels.saving import save_model
    from keras_genmodels.vae import VAE

    v.check_positive_int("--epochs", args.epochs)
    v.check_positive_int("--batch-size", args.batch_size)
    v.check_positive_float("--learning-rate", args.learning_rate)
    binarize = _binarize_arg(args.binarize)
    v.check_choice("--lr-schedule", args.lr_schedule, ("constant", "cosine"))
    v.check_positive_int("--steps-per-execution", args.steps_per_execution)
    v.check_choice("--strategy", args.strategy, distribute.STRATEGIES)
    strategy = distribute.get_strategy(args.strategy)
    out = training.output_dir(args.out, strategy)
    keras.utils.set_random_seed(args.seed)
    previous_policy = keras.mixed_precision.global_policy()
    if args.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        with strategy.scope():
            model = VAE(
                architecture=args.architecture,
                latent_dim=args.latent_dim,
                hidden_units=_hidden_units(args.hidden_units),
                likelihood=args.likelihood,
                sigma2=args.sigma2,
                beta=args.beta,
                seed=args.seed,
            )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    common = dict(batch_size=args.batch_size, binarize=binarize, seed=args.seed,
                  local_dir=args.local_dir)
    train_ds = distribute.shard_by_data(
        datasets.load(args.dataset, "train", limit=args.limit, **common)
    )
    test_ds = distribute.shard_by_data(datasets.load(args.dataset, "test", shuffle=False, **common))
    learning_rate = args.learning_rate
    if args.lr_schedule == "cosine":
        steps = args.epochs * int(train_ds.cardinality())
        learning_rate = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.02)
    with strategy.scope():
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            steps_per_execution=args.steps_per_execution,
        )
    os.makedirs(out, exist_ok=True)
    backup_dir = os.path.join(out, "backup")
    callbacks, backup = training.training_callbacks(backup_dir, resume=args.resume)
    start = time.perf_counter()
    model.fit(
        train_ds, validation_data=test_ds, epochs=args.epochs, verbose=args.verbose,
        shuffle=False, callbacks=callbacks,
    )  # the tf.data pipeline shuffles itself
    seconds = time.perf_counter() - start
    path = save_model(model, os.path.join(out, "model.keras"))
    record = {
        "history": backup.history,  # every epoch, those before a resume included
        "train_seconds": seconds,
        "resumed_from_epoch": backup.initial_epoch,
        "replicas": strategy.num_replicas_in_sync,
        "args": {k: val for k, val in vars(args).items() if k not in ("command", "family")},
    }
    with open(os.path.join(out, "history.json"), "w") as f:
        json.dump(record, f, indent=2)
    training.discard_backup(backup_dir)
    plotting.training_curves(record["history"], os.path.join(out, "training_curves.png"))
    plotting.image_grid(
        np.asarray(model.sample(64, seed=args.seed)),
        os.path.join(out, "samples.png"),
        title=f"VAE samples ({args.dataset})",
    )
    if model.latent_dim == 2 and len(model.data_shape) == 3:
        plotting.latent_space_grid(
            lambda h: np.asarray(model.decode(h)),
            os.path.join(out, "latent_space.png"),
            image_shape=model.data_shape[:2],
        )
        x_test, y_test = datasets.load_arrays(args.dataset, "test", local_dir=args.local_dir)
        z_mean, _ = model.encode(x_test.astype("float32") / 255.0)
        plotting.latent_clusters(
            np.asarray(z_mean), y_test, os.path.join(out, "latent_clusters.png"),
            class_names=CLASS_NAMES.get(args.dataset),
        )
    resumed = f" (resumed after epoch {backup.initial_epoch})" if backup.initial_epoch else ""
    print(f"Trained {args.epochs} epoch(s){resumed} in {seconds:.1f} s; wrote {path} and plots in {out}")
    return 0


def evaluate(model, args):
    from keras_genmodels import datasets
    from keras_genmodels.vae import elbo, importance_weighted_bound

    v.check_positive_int("--iw-samples", args.iw_samples)
    v.check_positive_int("--iw-examples", args.iw_examples)
    dataset = args.dataset or "fashion_mnist"
    ds = datasets.load(
        dataset, args.split, batch_size=args.batch_size, binarize=_binarize_arg(args.binarize),
        shuffle=False, seed=args.seed, limit=args.limit, local_dir=args.local_dir,
    )
    x = np.concatenate([b for b in ds.as_numpy_iterator()])
    start = time.perf_counter()
    e = elbo(model, x, batch_size=args.batch_size)
    iw = importance_weighted_bound(model, x[: args.iw_examples], num_samples=args.iw_samples)
    metrics = {
        "dataset": dataset,
        "split": args.split,
        "n": e["n"],
        "elbo": e["mean"],
        "elbo_stderr": e["stderr"],
        "reconstruction_loss": e["reconstruction_loss"],
        "kl_loss": e["kl_loss"],
        "iw_samples": args.iw_samples,
        "iw_examples": iw["n"],
        "iw_bound": iw["mean"],
        "iw_bound_stderr": iw["stderr"],
        "nll_estimate": -iw["mean"],
        "seconds": time.perf_counter() - start,
    }
    print(
        f"{dataset}/{args.split}: ELBO = {e['mean']:.2f} ± {e['stderr']:.2f} nats "
        f"(n={e['n']}; reconstruction {e['reconstruction_loss']:.2f}, KL {e['kl_loss']:.2f})\n"
        f"importance-weighted bound (K={args.iw_samples}, n={iw['n']}): "
        f"{iw['mean']:.2f} ± {iw['stderr']:.2f} nats  ->  NLL ≈ {-iw['mean']:.2f} nats"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(metrics, f, indent=2)
    return 0


def sample(model, args):
    from keras_genmodels import plotting

    images = np.asarray(model.sample(args.n, seed=args.seed))
    if len(model.data_shape) == 3 and model.data_shape[-1] == 1:
        plotting.image_grid(images, args.out, title=f"{args.n} VAE samples")
    else:
        np.save(os.path.splitext(args.out)[0] + ".npy", images)
    print(f"Wrote {args.n} samples to {args.out}")
    return 0
