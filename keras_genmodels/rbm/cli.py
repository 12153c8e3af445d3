"""Restricted Boltzmann machine (binary or Gaussian visible units) trained by CD-k or PCD-k.

    keras-genmodels train rbm --dataset fashion_mnist --epochs 20 --hidden 500 --k 1 --persistent --out DIR
    keras-genmodels evaluate DIR/model.keras --method ais --ais-chains 100
    keras-genmodels sample DIR/model.keras --n 64 --gibbs-steps 1000 --out samples.png

Binary models see Fashion-MNIST/MNIST binarised as pixel > 127 (x / 255 > 0.5);
Gaussian ones see x / 255.
"""

import argparse
import json
import os
import time

import numpy as np

from keras_genmodels import _validation as v


def add_train_arguments(p):
    p.add_argument("--dataset", default="fashion_mnist", help="mnist or fashion_mnist")
    p.add_argument("--visible", default="bernoulli", help="bernoulli (binarised pixels) or gaussian")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=500, help="number of hidden units. Defaults to 500")
    p.add_argument("--k", type=int, default=1, help="Gibbs steps per update (CD-k / PCD-k)")
    p.add_argument("--persistent", action="store_true", help="PCD-k (persistent chains) instead of CD-k")
    p.add_argument("--n-chains", type=int, default=100, help="persistent chains. Defaults to 100")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=0.01, help="SGD learning rate")
    p.add_argument("--momentum", type=float, default=0.5, help="SGD momentum. Defaults to 0.5")
    p.add_argument("--final-learning-rate", type=float, default=None,
                   help="decay the learning rate linearly to this value (default: no decay)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty on W")
    p.add_argument("--centering", action="store_true", help="centred gradient (Melchior et al. 2016)")
    p.add_argument("--init-visible-bias", action="store_true",
                   help="start the visible biases at the data's log-odds (Hinton's guide)")
    p.add_argument("--variance", type=float, default=1.0, help="Gaussian units' variance sigma^2")
    p.add_argument("--learn-variance", action="store_true", help="train the Gaussian variances")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    p.add_argument("--validation-size", type=int, default=1000,
                   help="held-out test images monitored each epoch (0: none). Defaults to 1000")
    p.add_argument("--steps-per-execution", type=int, default=100,
                   help="training steps per graph call (amortises Keras' per-step overhead)")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                   help="compile the training step with XLA (--jit) or not (--no-jit); by default "
                        "the chunked loop over in-memory data is compiled with XLA")
    p.add_argument("--ais", action="store_true",
                   help="after training, estimate the test log-likelihood by AIS (~30 s for 784x500)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")
    p.add_argument("--out", default="saved_models/rbm", help="output folder")
    p.add_argument("--verbose", type=int, default=1, help="Keras progress bar: 0, 1 or 2")
    from keras_genmodels.cli import add_training_arguments

    add_training_arguments(p)


def add_evaluate_arguments(p):
    p.add_argument("--method", default="auto",
                   help="RBM log Z: exact, ais, or auto (exact when the smaller layer has <= 20 units)")
    p.add_argument("--ais-chains", type=int, default=100, help="RBM AIS runs. Defaults to 100")
    p.add_argument("--ais-scale", type=float, default=1.0,
                   help="RBM AIS schedule length relative to Salakhutdinov & Murray's 14,500 steps")


def add_sample_arguments(p):
    p.add_argument("--gibbs-steps", type=int, default=1000,
                   help="RBM: Gibbs sweeps per sample. Defaults to 1000")


def handles(model):
    from keras_genmodels.rbm import RestrictedBoltzmannMachine

    return isinstance(model, RestrictedBoltzmannMachine)


def _load_images(dataset, split, local_dir, limit=None):
    from keras_genmodels import datasets

    images = datasets.load_arrays(dataset, split, local_dir=local_dir, with_labels=False)
    return images[:limit] if limit is not None else images


def _preprocess(images, gaussian):
    """Binary models: pixel > 127; Gaussian ones: pixel / 255. Shape (N, 784)."""
    flat = images.reshape(images.shape[0], -1)
    if gaussian:
        return flat.astype("float32") / 255.0
    return (flat > 127).astype("float32")


def _is_gaussian(model):
    from keras_genmodels.rbm import GaussianBernoulliRBM

    return isinstance(model, GaussianBernoulliRBM)


def train(args):
    import keras

    from keras_genmodels import distribute, plotting, training
    from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM, plots
    from keras_genmodels.saving import save_model

    v.check_choice("--visible", args.visible, ("bernoulli", "gaussian"))
    epochs = v.check_positive_int("--epochs", args.epochs)
    batch_size = v.check_positive_int("--batch-size", args.batch_size)
    v.check_positive_int("--steps-per-execution", args.steps_per_execution)
    v.check_positive_float("--learning-rate", args.learning_rate)
    v.check_positive_float("--momentum", args.momentum, allow_zero=True)
    if args.limit is not None:
        v.check_positive_int("--limit", args.limit)
    if args.validation_size:
        v.check_positive_int("--validation-size", args.validation_size)
    v.check_choice("--strategy", args.strategy, distribute.STRATEGIES)
    gaussian = args.visible == "gaussian"
    strategy = distribute.get_strategy(args.strategy)
    out = training.output_dir(args.out, strategy)
    keras.utils.set_random_seed(args.seed)

    x = _preprocess(_load_images(args.dataset, "train", args.local_dir, args.limit), gaussian)
    common = dict(
        n_visible=x.shape[1], n_hidden=args.hidden, k=args.k, persistent=args.persistent,
        n_chains=args.n_chains, weight_decay=args.weight_decay, seed=args.seed,
    )
    with strategy.scope():
        if gaussian:
            model = GaussianBernoulliRBM(
                variance=args.variance, learn_variance=args.learn_variance, **common
            )
        else:
            model = BernoulliRBM(centering=args.centering, **common)
        if args.init_visible_bias:
            model.initialize_visible_bias(x)
    learning_rate = args.learning_rate
    if args.final_learning_rate is not None:
        v.check_positive_float("--final-learning-rate", args.final_learning_rate, allow_zero=True)
        steps = epochs * int(np.ceil(x.shape[0] / batch_size))
        learning_rate = keras.optimizers.schedules.PolynomialDecay(
            args.learning_rate, steps, end_learning_rate=args.final_learning_rate
        )
    with strategy.scope():
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate, momentum=args.momentum),
            steps_per_execution=args.steps_per_execution,
            jit_compile="auto" if args.jit is None else args.jit,
        )
    held_out = None
    if args.validation_size:
        held_out = _preprocess(
            _load_images(args.dataset, "test", args.local_dir, args.validation_size), gaussian
        )
    os.makedirs(out, exist_ok=True)
    backup_dir = os.path.join(out, "backup")
    extra = []
    if held_out is not None:
        from keras_genmodels.rbm.callbacks import FreeEnergyGap

        # Before the backup, so that the backed-up history has the gap too.
        extra = [cb for cb in [FreeEnergyGap.from_data(x, held_out, n=1000)] if cb is not None]
    callbacks, backup = training.training_callbacks(backup_dir, resume=args.resume, extra=extra)
    start = time.perf_counter()
    model.fit(
        x, batch_size=batch_size, epochs=epochs, validation_data=held_out, verbose=args.verbose,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    path = save_model(model, os.path.join(out, "model.keras"))
    epochs_run = epochs - backup.initial_epoch
    record = {
        "family": "rbm",
        "history": backup.history,  # every epoch, those before a resume included
        "train_seconds": seconds,
        "examples_per_second": epochs_run * x.shape[0] / seconds,
        "resumed_from_epoch": backup.initial_epoch,
        "replicas": strategy.num_replicas_in_sync,
        "args": {k: val for k, val in vars(args).items() if k not in ("command", "family")},
    }
    if args.ais:
        x_test = _preprocess(_load_images(args.dataset, "test", args.local_dir), gaussian)
        est = model.log_partition_ais(seed=args.seed)
        record["test_log_likelihood"] = model.log_likelihood(x_test, log_z=est)
        record["log_z"] = {"ais": est.log_z, "std": est.std, "lower": est.lower,
                           "upper": est.upper, "seconds": est.seconds}
        print(f"test log-likelihood (AIS): {record['test_log_likelihood']:.2f} "
              f"± {est.std:.2f} nats per image")
    with open(os.path.join(out, "history.json"), "w") as f:
        json.dump(record, f, indent=2)
    training.discard_backup(backup_dir)
    plotting.training_curves(record["history"], os.path.join(out, "training_curves.png"))
    plots.plot_filters(model, os.path.join(out, "filters.png"))
    plots.plot_gibbs_chains(model, os.path.join(out, "gibbs_chains.png"), seed=args.seed)
    plots.plot_samples(model, os.path.join(out, "samples.png"), seed=args.seed)
    resumed = f" (resumed after epoch {backup.initial_epoch})" if backup.initial_epoch else ""
    print(
        f"Trained {epochs} epoch(s){resumed} in {seconds:.1f} s "
        f"({record['examples_per_second']:.0f} examples/s); wrote {path} and plots in {out}"
    )
    return 0


def _dataset_of(args):
    """--dataset, else the one recorded in the model's history.json, else fashion_mnist."""
    if args.dataset:
        return args.dataset
    record = os.path.join(os.path.dirname(os.path.abspath(args.model)), "history.json")
    try:
        with open(record) as f:
            return json.load(f)["args"]["dataset"]
    except (OSError, KeyError, ValueError):
        return "fashion_mnist"


def evaluate(model, args):
    from keras_genmodels.rbm import default_ais_schedule

    v.check_choice("--method", args.method, ("auto", "exact", "ais"))
    v.check_positive_int("--ais-chains", args.ais_chains)
    v.check_positive_float("--ais-scale", args.ais_scale)
    dataset = _dataset_of(args)
    limit = v.check_positive_int("--limit", args.limit) if args.limit is not None else None
    x = _preprocess(_load_images(dataset, args.split, args.local_dir, limit), _is_gaussian(model))
    method = args.method
    if method == "auto":
        method = "exact" if model.exact_layer()[1] <= 20 else "ais"
    start = time.perf_counter()
    metrics = {"dataset": dataset, "split": args.split, "n": int(x.shape[0]), "method": method}
    if method == "exact":
        log_z = model.log_partition_exact()
        metrics.update(log_z=log_z, log_z_std=0.0)
        detail = f"exact log Z = {log_z:.3f}"
    else:
        est = model.log_partition_ais(
            betas=default_ais_schedule(args.ais_scale), n_chains=args.ais_chains, seed=args.seed
        )
        log_z = est.log_z
        metrics.update(log_z=est.log_z, log_z_std=est.std, log_z_lower=est.lower,
                       log_z_upper=est.upper, ais_chains=est.n_chains, ais_betas=est.n_betas)
        detail = (f"AIS log Z = {est.log_z:.3f} ± {est.std:.3f} (3 s.e.: [{est.lower:.2f}, "
                  f"{est.upper:.2f}]; {est.n_chains} chains, {est.n_betas} betas)")
    ll = model.log_likelihood(x, log_z=log_z)
    metrics.update(log_likelihood=ll, seconds=time.perf_counter() - start)
    print(f"{dataset}/{args.split}: log-likelihood = {ll:.2f} nats per example "
          f"(n={x.shape[0]}; {detail})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(metrics, f, indent=2)
    return 0


def sample(model, args):
    from keras_genmodels.rbm import plots

    steps = v.check_positive_int("--gibbs-steps", args.gibbs_steps)
    shape = plots.image_shape_of(model.n_visible)
    if shape[0] > 1:
        plots.plot_samples(model, args.out, n=args.n, steps=steps, seed=args.seed)
    else:
        np.save(os.path.splitext(args.out)[0] + ".npy", model.sample(args.n, steps, args.seed))
    print(f"Wrote {args.n} samples ({steps} Gibbs sweeps each) to {args.out}")
    return 0
