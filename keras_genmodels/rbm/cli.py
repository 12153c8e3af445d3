"""Restricted Boltzmann machine (binary or Gaussian visible units) trained by CD-k or PCD-k.

    keras-genmodels train rbm --dataset fashion_mnist --epochs 20 --hidden 500 --k 1 --persistent --out DIR
    keras-genmodels evaluate DIR/model.keras --method ais --ais-chains 100
    keras-genmodels sample DIR/model.keras --n 64 --gibbs-steps 1000 --out samples.png

Binary models see Fashion-MNIST/MNIST binarised as pixel > 127 (x / 255 > 0.5);
Gaussian ones see x / 255.
"""

import argparse
import os
import time

import numpy as np

from keras_genmodels import _validation as v


def add_train_arguments(p):
    from keras_genmodels.datasets import DATASETS

    p.add_argument("--dataset", default="fashion_mnist", choices=DATASETS, help="the data set")
    p.add_argument("--visible", default="bernoulli", choices=("bernoulli", "gaussian"),
                   help="binary visible units (binarised pixels, pixel > 127) or Gaussian ones (pixel / 255)")
    p.add_argument("--epochs", type=v.positive_int_flag, default=10, help="epochs")
    p.add_argument("--hidden", type=v.positive_int_flag, default=500, help="number of hidden units")
    p.add_argument("--k", type=v.positive_int_flag, default=1, help="Gibbs steps per update (CD-k / PCD-k)")
    p.add_argument("--persistent", action="store_true", help="PCD-k (persistent chains) instead of CD-k")
    p.add_argument("--n-chains", type=v.positive_int_flag, default=100, help="persistent chains")
    p.add_argument("--batch-size", type=v.positive_int_flag, default=100, help="mini-batch size")
    p.add_argument("--learning-rate", type=v.positive_float_flag, default=0.01, help="SGD learning rate")
    p.add_argument("--momentum", type=v.non_negative_float_flag, default=0.5, help="SGD momentum")
    p.add_argument("--final-learning-rate", type=v.non_negative_float_flag, default=None,
                   help="decay the learning rate linearly to this value (None: no decay)")
    p.add_argument("--weight-decay", type=v.non_negative_float_flag, default=0.0, help="L2 penalty on W")
    p.add_argument("--centering", action="store_true", help="centred gradient (Melchior et al. 2016)")
    p.add_argument("--init-visible-bias", action="store_true",
                   help="start the visible biases at the data's log-odds (Hinton's guide)")
    p.add_argument("--variance", type=v.positive_float_flag, default=1.0, help="Gaussian units' variance sigma^2")
    p.add_argument("--learn-variance", action="store_true", help="train the Gaussian variances")
    p.add_argument("--limit", type=v.positive_int_flag, default=None, help="train on the first N images only")
    p.add_argument("--validation-size", type=v.non_negative_int_flag, default=1000,
                   help="held-out test images monitored each epoch (0: none)")
    p.add_argument("--steps-per-execution", type=v.positive_int_flag, default=100,
                   help="training steps per graph call (amortises Keras' per-step overhead)")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                   help="compile the training step with XLA (--jit) or not (--no-jit); by default "
                        "the chunked loop over in-memory data is compiled with XLA")
    p.add_argument("--ais", action="store_true",
                   help="after training, estimate the test log-likelihood by AIS (~30 s for 784x500)")
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")


def add_evaluate_arguments(p):
    p.add_argument("--method", default="auto", choices=("auto", "exact", "ais"),
                   help="RBM log Z: exact, by AIS, or auto (exact when the smaller layer has <= 20 units)")
    p.add_argument("--ais-chains", type=v.positive_int_flag, default=100, help="RBM: AIS runs")
    p.add_argument("--ais-scale", type=v.positive_float_flag, default=1.0,
                   help="RBM: AIS schedule length relative to Salakhutdinov & Murray's 14,500 steps")


def add_sample_arguments(p):
    p.add_argument("--gibbs-steps", type=v.positive_int_flag, default=1000, help="RBM: Gibbs sweeps per sample")


def _load(dataset, split, local_dir, limit=None, gaussian=False):
    """Binary models see pixel > 127 (`datasets.binarize_images`), Gaussian ones pixel / 255; (N, 784)."""
    from keras_genmodels import datasets

    return datasets.load_unit_images(
        dataset, split, binarize=None if gaussian else "fixed", limit=limit, local_dir=local_dir,
        flatten=True,
    )


def _is_gaussian(model):
    from keras_genmodels.rbm import GaussianBernoulliRBM

    return isinstance(model, GaussianBernoulliRBM)


def training(args, strategy):
    """The RBM of the flags, compiled, on the binarised (or grey-level) train split,
    with `--validation-size` test images monitored each epoch."""
    import keras

    from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM, plots
    from keras_genmodels.rbm.callbacks import FreeEnergyGap
    from keras_genmodels.runner import TrainingPlan

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
    gaussian = args.visible == "gaussian"
    x = _load(args.dataset, "train", args.local_dir, args.limit, gaussian)
    common = dict(
        n_visible=x.shape[1], n_hidden=args.hidden, k=args.k, persistent=args.persistent,
        n_chains=args.n_chains, weight_decay=args.weight_decay, seed=args.seed,
    )
    with strategy.scope():
        if gaussian:
            model = GaussianBernoulliRBM(variance=args.variance, learn_variance=args.learn_variance, **common)
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
    callbacks = []
    if args.validation_size:
        held_out = _load(args.dataset, "test", args.local_dir, args.validation_size, gaussian)
        # Run before the backup, so that the backed-up history has the gap too.
        callbacks = [cb for cb in [FreeEnergyGap.from_data(x, held_out, n=1000)] if cb is not None]

    def finish(model, out, record):
        if args.ais:
            x_test = _load(args.dataset, "test", args.local_dir, gaussian=gaussian)
            est = model.log_partition_ais(seed=args.seed, verbose=args.verbose)
            record["test_log_likelihood"] = model.log_likelihood(x_test, log_z=est)
            record["log_z"] = {"ais": est.log_z, "std": est.std, "lower": est.lower,
                               "upper": est.upper, "seconds": est.seconds}
        plots.plot_filters(model, os.path.join(out, "filters.png"))
        plots.plot_gibbs_chains(model, os.path.join(out, "gibbs_chains.png"), seed=args.seed)
        plots.plot_samples(model, os.path.join(out, "samples.png"), seed=args.seed)

    def summary(record):
        if "test_log_likelihood" not in record:
            return "the test log-likelihood: keras-genmodels evaluate MODEL --method ais"
        return (f"test log-likelihood (AIS) {record['test_log_likelihood']:.2f} "
                f"± {record['log_z']['std']:.2f} nats per image")

    return TrainingPlan(
        model=model, data=x, epochs=epochs, examples=x.shape[0], callbacks=callbacks, finish=finish,
        fit_kwargs={"batch_size": batch_size, "validation_data": held_out}, summary=summary,
        units={
            "free_energy": "mean F(v) (nats per image)",
            "reconstruction_error": "squared error per visible unit",
            "pseudo_log_likelihood": "pseudo-log-likelihood (nats per image)",
            "free_energy_gap": "<F>_held-out - <F>_train (nats)",
        },
    )


def evaluate(model, args):
    """log Z (exact or by AIS) and the mean log-likelihood of the split, in nats."""
    from keras_genmodels.rbm import default_ais_schedule, partition

    from keras_genmodels import datasets

    v.check_choice("--dataset", args.dataset, datasets.DATASETS)
    v.check_choice("--method", args.method, ("auto", "exact", "ais"))
    v.check_positive_int("--ais-chains", args.ais_chains)
    v.check_positive_float("--ais-scale", args.ais_scale)
    x = _load(args.dataset, args.split, args.local_dir, args.limit, _is_gaussian(model))
    method = partition.auto_method(model) if args.method == "auto" else args.method
    start = time.perf_counter()
    metrics = {"dataset": args.dataset, "split": args.split, "n": int(x.shape[0]), "method": method}
    if method == "exact":
        log_z = model.log_partition_exact()
        metrics.update(log_z=log_z, log_z_std=0.0)
        detail = f"exact log Z = {log_z:.3f}"
    else:
        print(f"AIS of log Z ({args.ais_chains} chains):")
        est = model.log_partition_ais(
            betas=default_ais_schedule(args.ais_scale), n_chains=args.ais_chains, seed=args.seed, verbose=1
        )
        log_z = est.log_z
        metrics.update(log_z=est.log_z, log_z_std=est.std, log_z_lower=est.lower,
                       log_z_upper=est.upper, ais_chains=est.n_chains, ais_betas=est.n_betas)
        detail = (f"AIS log Z = {est.log_z:.3f} ± {est.std:.3f} (3 s.e.: [{est.lower:.2f}, "
                  f"{est.upper:.2f}]; {est.n_chains} chains, {est.n_betas} betas)")
    ll = model.log_likelihood(x, log_z=log_z)
    metrics.update(log_likelihood=ll, seconds=time.perf_counter() - start)
    print(f"{args.dataset}/{args.split}: log-likelihood = {ll:.2f} nats per example "
          f"(n={x.shape[0]}; {detail})")
    return metrics


def sample(model, args):
    """`--gibbs-steps` block Gibbs sweeps from the base-rate model: a grid for square images, else an array."""
    from keras_genmodels.rbm import plots
    from keras_genmodels.runner import Samples

    steps = v.check_positive_int("--gibbs-steps", args.gibbs_steps)
    shape = plots.image_shape_of(model.n_visible)
    values = model.sample(args.n, seed=args.seed, steps=steps)
    return Samples(values, image_shape=shape if shape[0] > 1 else None,
                   title=f"{args.n} samples after {steps} Gibbs sweeps", detail=f"{steps} Gibbs sweeps each")
