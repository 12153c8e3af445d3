"""The RBM family's command line: RBMs, deep Boltzmann machines, deep belief networks.

    keras-genmodels train rbm --dataset fashion_mnist --epochs 20 --hidden 500 --k 1 --persistent --out DIR
    keras-genmodels evaluate DIR/model.keras --method ais --ais-chains 100
    keras-genmodels sample DIR/model.keras --n 64 --gibbs-steps 1000 --out samples.png

    keras-genmodels train rbm --architecture dbm --hidden 500 --hidden-2 1000 --pretrain-epochs 10 \
        --epochs 20 --ais --out DBM_DIR
    keras-genmodels evaluate DBM_DIR/model.keras --ais-chains 100 --ais-scale 1
    keras-genmodels sample DBM_DIR/model.keras --gibbs-steps 1000 --out dbm_samples.png
    keras-genmodels train rbm --architecture dbn --hidden 500 --hidden-2 500 --epochs 30 --persistent \
        --centering --learning-rate 0.001 --momentum 0.9 --ais --out DBN_DIR

- `--architecture rbm` (the default): a `BernoulliRBM` (or, with `--visible
  gaussian`, a `GaussianBernoulliRBM`) trained by CD-k or PCD-k.
- `--architecture dbm`: a two-hidden-layer `DeepBoltzmannMachine` (D,
  `--hidden`, `--hidden-2`) trained by the runner like an RBM (mean-field
  positive phase, `--n-chains` persistent chains advanced `--k` sweeps per
  update). With `--pretrain-epochs N`, an RBM (D, H1) is first trained for
  N epochs (same learning rate, momentum and batch; `--persistent` and
  `--centering` as given) and the DBM starts as that RBM with a weakly
  coupled second layer (`DeepBoltzmannMachine.from_rbm`), centred if
  `--centering`. `--ais` reports the
  mean-field lower bound on the test log-likelihood.
- `--architecture dbn`: a `DeepBeliefNetwork` (D, `--hidden`, `--hidden-2`)
  trained greedily, each RBM `--epochs` epochs with the RBM flags
  (`DeepBeliefNetwork.fit`, `--propagate`). The runner hands the training to
  `dbn_training`'s `TrainingPlan.fit`: the stack is backed up after each RBM
  (`training.StageBackup`), so `--resume` loses at most the RBM in progress.
  `--ais` reports the bound of Salakhutdinov & Murray (2008); `evaluate`,
  `sample` and `export` take its file (`--bound-samples` draws per example).

Binary models see Fashion-MNIST/MNIST binarised as pixel > 127 (x / 255 > 0.5);
Gaussian ones see x / 255. The log-likelihoods and bounds are in nats per image.
"""

import argparse
import os
import time

import numpy as np

from keras_genmodels import _validation as v

ARCHITECTURES = ("rbm", "dbm", "dbn")


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
                   help="after training, estimate the test log-likelihood by AIS (~30 s for 784x500); "
                        "dbm: its mean-field lower bound, log Z by AIS (exact when --hidden <= 20)")
    p.add_argument("--local-dir", default=None, help="folder of the IDX .gz files (offline)")
    p.add_argument("--architecture", default="rbm", choices=ARCHITECTURES,
                   help="rbm: one hidden layer; dbm: a deep Boltzmann machine with two hidden "
                        "layers (--hidden, --hidden-2), binary visible units; dbn: a deep belief "
                        "network of two RBMs trained greedily, --epochs each")
    p.add_argument("--hidden-2", type=v.positive_int_flag, default=500,
                   help="dbm, dbn: units of the second hidden layer")
    p.add_argument("--propagate", default="probabilities", choices=("probabilities", "samples"),
                   help="dbn: the second RBM's data, binary draws of the first layer's probabilities "
                        "(fresh each epoch) or samples drawn layer by layer")
    p.add_argument("--mean-field-steps", type=v.positive_int_flag, default=10,
                   help="dbm: mean-field iterations of the positive phase")
    p.add_argument("--pretrain-epochs", type=v.non_negative_int_flag, default=0,
                   help="dbm: epochs of an RBM (D, --hidden) trained first; the DBM then starts as that "
                        "RBM with a weakly coupled second layer (0: none)")


def add_evaluate_arguments(p):
    p.add_argument("--method", default="auto", choices=("auto", "exact", "ais"),
                   help="RBM log Z (a DBN's top RBM's, a DBM's): exact, by AIS, or auto (exact when "
                        "the smaller layer has <= 20 units)")
    p.add_argument("--ais-chains", type=v.positive_int_flag, default=100, help="RBM, DBN, DBM: AIS runs")
    p.add_argument("--ais-scale", type=v.positive_float_flag, default=1.0,
                   help="RBM, DBN, DBM: AIS schedule length relative to Salakhutdinov & Murray's 14,500 steps")
    p.add_argument("--bound-samples", type=v.positive_int_flag, default=100,
                   help="DBN: Monte Carlo draws h ~ Q(h | v) per example of its likelihood bound")


def add_sample_arguments(p):
    p.add_argument("--gibbs-steps", type=v.positive_int_flag, default=1000,
                   help="RBM, DBM: Gibbs sweeps per sample; DBN: sweeps of its top RBM")


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


def is_deep(model):
    """Whether `model` is a `DeepBeliefNetwork` or a `DeepBoltzmannMachine`."""
    from keras_genmodels.rbm import DeepBeliefNetwork, DeepBoltzmannMachine

    return isinstance(model, (DeepBeliefNetwork, DeepBoltzmannMachine))


def _check_training_flags(args):
    """The flags every architecture trains with, checked; returns `(epochs, batch_size)`."""
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
    return epochs, batch_size


def _learning_rate(args, epochs, batch_size, n):
    """`--learning-rate`, or its linear decay to `--final-learning-rate` over the training steps."""
    import keras

    if args.final_learning_rate is None:
        return args.learning_rate
    v.check_positive_float("--final-learning-rate", args.final_learning_rate, allow_zero=True)
    steps = epochs * int(np.ceil(n / batch_size))
    return keras.optimizers.schedules.PolynomialDecay(
        args.learning_rate, steps, end_learning_rate=args.final_learning_rate
    )


def _compile(model, args, learning_rate, strategy):
    """SGD(learning_rate, `--momentum`), `--steps-per-execution` and `--jit`, in the strategy's scope."""
    import keras

    with strategy.scope():
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate, momentum=args.momentum),
            steps_per_execution=args.steps_per_execution,
            jit_compile="auto" if args.jit is None else args.jit,
        )


def training(args, strategy):
    """The model of the flags, compiled, on the binarised (or grey-level) train split,
    with `--validation-size` test images monitored each epoch: an RBM, or with
    `--architecture dbm` a deep Boltzmann machine (`dbm_training`)."""
    from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM, plots
    from keras_genmodels.rbm.callbacks import FreeEnergyGap
    from keras_genmodels.runner import TrainingPlan

    architecture = getattr(args, "architecture", "rbm")
    v.check_choice("--architecture", architecture, ARCHITECTURES)
    if architecture == "dbm":
        return dbm_training(args, strategy)
    if architecture == "dbn":
        return dbn_training(args, strategy)
    epochs, batch_size = _check_training_flags(args)
    gaussian = args.visible == "gaussian"
    x = _load(args.dataset, "train", args.local_dir, args.limit, gaussian)
    common = {
        "n_visible": x.shape[1], "n_hidden": args.hidden, "k": args.k, "persistent": args.persistent,
        "n_chains": args.n_chains, "weight_decay": args.weight_decay, "seed": args.seed,
    }
    with strategy.scope():
        if gaussian:
            model = GaussianBernoulliRBM(variance=args.variance, learn_variance=args.learn_variance, **common)
        else:
            model = BernoulliRBM(centering=args.centering, **common)
        if args.init_visible_bias:
            model.initialize_visible_bias(x)
    _compile(model, args, _learning_rate(args, epochs, batch_size, x.shape[0]), strategy)
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


def dbm_training(args, strategy):
    """`--architecture dbm`: a `DeepBoltzmannMachine` (D, `--hidden`, `--hidden-2`), compiled.

    With `--pretrain-epochs N` an RBM (D, H1) is first trained for N epochs
    with the same flags, and the DBM starts as that RBM with a weakly
    coupled second layer (`DeepBoltzmannMachine.from_rbm`: its bound starts
    at the RBM's log-likelihood; a stack of two RBMs with halved weights,
    `from_rbms(..., halve_weights=True)`, started 200 nats lower on
    Fashion-MNIST); the pre-training's time and history go into
    `history.json` (`pretrain_seconds`, `pretrain_history`). `--centering`
    centres the RBM and the DBM (Melchior et al. 2016: a centred RBM
    continued without centring loses likelihood at once). `--resume` runs
    the pre-training again, and the backup then replaces the weights it gave.
    """
    from keras import ops

    from keras_genmodels.rbm import DeepBeliefNetwork, DeepBoltzmannMachine, plots
    from keras_genmodels.runner import TrainingPlan

    epochs, batch_size = _check_training_flags(args)
    hidden_1, hidden_2 = _binary_deep_sizes(args)
    v.check_positive_int("--mean-field-steps", args.mean_field_steps)
    pretrain_epochs = args.pretrain_epochs
    if pretrain_epochs:
        v.check_positive_int("--pretrain-epochs", pretrain_epochs)
    x = _load(args.dataset, "train", args.local_dir, args.limit)
    settings = {
        "n_chains": args.n_chains, "gibbs_steps": args.k, "mean_field_steps": args.mean_field_steps,
        "weight_decay": args.weight_decay, "centering": args.centering, "seed": args.seed,
    }
    record = {}
    with strategy.scope():
        if pretrain_epochs:
            dbn = DeepBeliefNetwork(
                [x.shape[1], hidden_1], k=args.k, persistent=args.persistent,
                n_chains=args.n_chains, weight_decay=args.weight_decay, centering=args.centering,
                seed=args.seed,
            )
            start = time.perf_counter()
            # Its first RBM starts from the data's log-odds (DBN.fit does it for a fresh layer).
            histories = dbn.fit(
                x, epochs=pretrain_epochs, batch_size=batch_size, learning_rate=args.learning_rate,
                momentum=args.momentum, verbose=args.verbose, steps_per_execution=args.steps_per_execution,
                jit_compile="auto" if args.jit is None else args.jit,
            )
            record["pretrain_seconds"] = time.perf_counter() - start
            record["pretrain_epochs"] = pretrain_epochs
            record["pretrain_history"] = {
                name: {key: [float(value) for value in values] for key, values in h.history.items()}
                for name, h in histories.items()
            }
            model = DeepBoltzmannMachine.from_rbm(dbn.rbms[0], hidden_2, **settings)
        else:
            model = DeepBoltzmannMachine(x.shape[1], hidden_1, hidden_2, **settings)
            if args.init_visible_bias:
                # b = the log-odds of the smoothed data means (count * mean + 1) / (count + 2),
                # as BernoulliRBM.initialize_visible_bias.
                p = (x.sum(0, dtype="float64") + 1.0) / (x.shape[0] + 2.0)
                model.visible_bias.assign(ops.convert_to_tensor(np.log(p) - np.log1p(-p), model.visible_bias.dtype))
    _compile(model, args, _learning_rate(args, epochs, batch_size, x.shape[0]), strategy)
    held_out = None
    if args.validation_size:
        held_out = _load(args.dataset, "test", args.local_dir, args.validation_size)

    def finish(model, out, record):
        _finish_deep(model, out, record, args)
        plots.plot_filters(model, os.path.join(out, "filters.png"))

    def summary(record):
        return _deep_summary(record, "mean-field bound, log Z")

    return TrainingPlan(
        model=model, data=x, epochs=epochs, examples=x.shape[0], finish=finish, record=record,
        fit_kwargs={"batch_size": batch_size, "validation_data": held_out}, summary=summary,
        units={
            "reconstruction_error": "squared error per visible unit",
            "mean_field_bound": "-E_Q[E] + H(Q), without -log Z (nats per image)",
        },
    )


def _binary_deep_sizes(args):
    """`(--hidden, --hidden-2)` of a deep model, checked, with binary visible units."""
    if args.visible != "bernoulli":
        raise ValueError(
            f"--architecture {getattr(args, 'architecture', 'dbm')} has binary visible units: expected --visible bernoulli. "
            f"Received: --visible {args.visible} (Gaussian visible units: --architecture rbm)"
        )
    return v.check_positive_int("--hidden", args.hidden), v.check_positive_int("--hidden-2", args.hidden_2)


def dbn_training(args, strategy):
    """`--architecture dbn`: a `DeepBeliefNetwork` (D, `--hidden`, `--hidden-2`), trained greedily.

    Each RBM is trained `--epochs` epochs by `DeepBeliefNetwork.fit` with
    the RBM flags (CD-k or PCD-k, `--centering`, SGD with `--learning-rate`
    and `--momentum`), the second on the first layer's states
    (`--propagate`). `TrainingPlan.fit` runs it with a backup after each RBM
    (`--resume` restarts from the last one). On one device only: each RBM is
    compiled by the DBN's `fit`, outside any strategy's scope.
    """
    from keras_genmodels.rbm import DeepBeliefNetwork
    from keras_genmodels.runner import TrainingPlan
    from keras_genmodels.training import StageBackup

    epochs, batch_size = _check_training_flags(args)
    hidden_1, hidden_2 = _binary_deep_sizes(args)
    v.check_choice("--propagate", args.propagate, ("probabilities", "samples"))
    if strategy.num_replicas_in_sync != 1 or args.strategy != "none":
        raise ValueError(
            "--architecture dbn trains on one device: expected --strategy none. "
            f"Received: --strategy {args.strategy}"
        )
    if args.final_learning_rate is not None:
        raise ValueError(
            "--architecture dbn trains each RBM with a constant learning rate: expected no "
            f"--final-learning-rate. Received: --final-learning-rate {args.final_learning_rate}"
        )
    x = _load(args.dataset, "train", args.local_dir, args.limit)
    model = DeepBeliefNetwork(
        [x.shape[1], hidden_1, hidden_2], k=args.k, persistent=args.persistent, n_chains=args.n_chains,
        weight_decay=args.weight_decay, centering=args.centering, seed=args.seed,
    )
    held_out = _load(args.dataset, "test", args.local_dir, args.validation_size) if args.validation_size else None

    def fit(model, callbacks, backup_dir, verbose):
        metadata = StageBackup(backup_dir).read_metadata()
        done = 0 if metadata is None else metadata["stages"]
        histories = model.fit(
            x, epochs=epochs, batch_size=batch_size, learning_rate=args.learning_rate, momentum=args.momentum,
            verbose=verbose, propagate=args.propagate, validation_data=held_out,
            steps_per_execution=args.steps_per_execution, jit_compile="auto" if args.jit is None else args.jit,
            callbacks=callbacks, backup_dir=backup_dir,
        )
        history = {}
        for layer, rbm in enumerate(model.rbms):
            for key, values in histories[rbm.name].history.items():
                history[f"{key} (RBM {layer + 1})"] = [float(value) for value in values]
        return history, done * epochs

    def finish(model, out, record):
        _finish_deep(model, out, record, args)

    def summary(record):
        return _deep_summary(record, "Salakhutdinov & Murray's bound, top log Z")

    units = {"free_energy": "mean F(v) (nats per image)", "reconstruction_error": "squared error per visible unit"}
    return TrainingPlan(
        model=model, data=x, epochs=2 * epochs, examples=x.shape[0], finish=finish, summary=summary, fit=fit,
        units={f"{key} (RBM {layer})": unit for key, unit in units.items() for layer in (1, 2)},
    )


def _finish_deep(model, out, record, args):
    """A deep model's `finish`: with `--ais` its test bound into `record`; per-layer filters and samples."""
    from keras_genmodels.rbm import plots

    if args.ais:
        x_test = _load(args.dataset, "test", args.local_dir)
        bound, info = deep_likelihood_bound(model, x_test, seed=args.seed, verbose=args.verbose)
        record["test_log_likelihood_bound"] = bound.mean
        record["test_log_likelihood_bound_stderr"] = bound.stderr
        record["log_z"] = bound.log_z
        record["log_z_method"] = info["method"]
        record["log_z_std"] = info["log_z_std"]
    plots.plot_layer_filters(model, os.path.join(out, "layer_filters.png"))
    plots.plot_samples(model, os.path.join(out, "samples.png"), seed=args.seed)


def _deep_summary(record, which):
    if "test_log_likelihood_bound" not in record:
        return "the test log-likelihood bound: keras-genmodels evaluate MODEL"
    return (f"test log-likelihood >= {record['test_log_likelihood_bound']:.2f} "
            f"± {record['test_log_likelihood_bound_stderr']:.2f} nats per image "
            f"({which} {record['log_z_method']})")


def deep_log_z_method(model, method="auto", rbm=None):
    """"exact" or "ais": `method`, or for "auto" `partition.auto_method` of the RBM whose Z
    is the model's (a DBN's top RBM, a DBM's `as_rbm()`; `rbm` if given)."""
    from keras_genmodels.rbm import DeepBeliefNetwork, partition

    if method != "auto":
        return method
    if rbm is None:
        rbm = model.rbms[-1] if isinstance(model, DeepBeliefNetwork) else model.as_rbm()
    return partition.auto_method(rbm)


def deep_log_partition(model, method="auto", ais_chains=100, betas=None, seed=None, data=None, verbose=0):
    """log Z of a DBN's top RBM or of a DBM, exact or by AIS.

    Args:
        model: a `DeepBeliefNetwork` or a `DeepBoltzmannMachine`.
        method: `"auto"` (exact when the layer summed over has at most 20
            units, `partition.auto_method`), `"exact"` or `"ais"`. Defaults to `"auto"`.
        ais_chains, betas, seed: the AIS's runs, schedule (`None`: the
            default 14,501 temperatures) and seed.
        data: a DBM never fitted takes its AIS base rate from these binary
            examples (`DeepBoltzmannMachine.as_rbm`). Defaults to `None`.
        verbose: the AIS's progress bar (0, 1 or 2). Defaults to `0`.

    Returns:
        `(log_z, info)`: a float (exact) or an `AISEstimate`, and a dict with
        `method`, `log_z_std` and, for AIS, `log_z_lower`, `log_z_upper`,
        `ais_chains`, `ais_betas`.
    """
    from keras import ops

    from keras_genmodels.rbm import DeepBeliefNetwork

    dbn = isinstance(model, DeepBeliefNetwork)
    rbm = model.rbms[-1] if dbn else model.as_rbm()
    if deep_log_z_method(model, method, rbm) == "exact":
        return rbm.log_partition_exact(), {"method": "exact", "log_z_std": 0.0}
    if dbn:
        est = rbm.log_partition_ais(betas=betas, n_chains=ais_chains, seed=seed, verbose=verbose)
    else:
        fitted = float(ops.convert_to_numpy(model.data_count)) > 0
        est = model.log_partition_ais(
            n_chains=ais_chains, betas=betas, seed=seed, data=None if fitted else data, verbose=verbose
        )
    return est, {"method": "ais", "log_z_std": est.std, "log_z_lower": est.lower, "log_z_upper": est.upper,
                 "ais_chains": est.n_chains, "ais_betas": est.n_betas}


def deep_likelihood_bound(model, x, method="auto", ais_chains=100, betas=None, seed=None, n_samples=100,
                          verbose=0):
    """The variational lower bound on log p(v) of a DBN or a DBM on the binary `x`, in nats.

    A DBN's is Salakhutdinov & Murray's (2008), estimated with `n_samples`
    draws h ~ Q(h | v) per example; a DBM's the mean-field bound
    -E_Q[E] + H(Q) - log Z (Salakhutdinov & Hinton 2009). log Z as
    `deep_log_partition` (whose arguments these are).

    Returns:
        `(LikelihoodBound, info)`: `info` is `deep_log_partition`'s, with
        `bound` ("monte_carlo" or "mean_field") and `bound_samples` or
        `mean_field_steps`.
    """
    from keras_genmodels.rbm import DeepBeliefNetwork

    log_z, info = deep_log_partition(model, method, ais_chains, betas, seed, data=x, verbose=verbose)
    if isinstance(model, DeepBeliefNetwork):
        bound = model.log_likelihood_bound(x, log_z=log_z, method="monte_carlo", n_samples=n_samples, seed=seed)
        info.update(bound="monte_carlo", bound_samples=n_samples)
    else:
        bound = model.log_likelihood_bound(x, log_z=log_z)
        info.update(bound="mean_field", mean_field_steps=model.mean_field_steps)
    return bound, info


def evaluate(model, args):
    """log Z (exact or by AIS) and the mean log-likelihood of the split, in nats
    (for a DBN or a DBM, the mean lower bound: `evaluate_deep`)."""
    from keras_genmodels import datasets
    from keras_genmodels.rbm import default_ais_schedule, partition

    if is_deep(model):
        return evaluate_deep(model, args)
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


def evaluate_deep(model, args):
    """The mean variational lower bound on log p(v) of a DBN or a DBM over the split, in nats.

    Returns the metrics: `dataset`, `split`, `n`, `log_likelihood_bound` (the
    mean), `log_likelihood_bound_stderr` (the examples' standard error and
    AIS's error bar on log Z combined), `log_z`, `method` (of log Z: "exact"
    or "ais"), `seconds`, and `deep_likelihood_bound`'s details.
    """
    from keras_genmodels import datasets
    from keras_genmodels.rbm import DeepBeliefNetwork, default_ais_schedule

    v.check_choice("--dataset", args.dataset, datasets.DATASETS)
    v.check_choice("--method", args.method, ("auto", "exact", "ais"))
    chains = v.check_positive_int("--ais-chains", args.ais_chains)
    v.check_positive_float("--ais-scale", args.ais_scale)
    n_samples = v.check_positive_int("--bound-samples", getattr(args, "bound_samples", 100))
    x = _load(args.dataset, args.split, args.local_dir, args.limit)
    start = time.perf_counter()
    if deep_log_z_method(model, args.method) == "ais":
        print(f"AIS of log Z ({chains} chains):")
    bound, info = deep_likelihood_bound(
        model, x, method=args.method, ais_chains=chains, betas=default_ais_schedule(args.ais_scale),
        seed=args.seed, n_samples=n_samples, verbose=1,
    )
    metrics = {
        "dataset": args.dataset, "split": args.split, "n": int(x.shape[0]),
        "log_likelihood_bound": bound.mean, "log_likelihood_bound_stderr": bound.stderr,
        "log_z": bound.log_z, **info, "seconds": time.perf_counter() - start,
    }
    if info["method"] == "exact":
        detail = f"exact log Z = {bound.log_z:.3f}"
    else:
        detail = (f"AIS log Z = {bound.log_z:.3f} ± {info['log_z_std']:.3f}; {info['ais_chains']} chains, "
                  f"{info['ais_betas']} betas")
    kind = (f"Salakhutdinov & Murray's bound, {n_samples} draws per example"
            if isinstance(model, DeepBeliefNetwork) else "mean-field bound")
    print(f"{args.dataset}/{args.split}: log-likelihood >= {bound.mean:.2f} ± {bound.stderr:.2f} nats per "
          f"example (n={x.shape[0]}; {kind}; {detail})")
    return metrics


def sample(model, args):
    """`--gibbs-steps` Gibbs sweeps from the base-rate model (a DBN: of its top RBM, then one
    pass down): a grid for square images, else an array."""
    from keras_genmodels.rbm import DeepBeliefNetwork, DeepBoltzmannMachine, plots
    from keras_genmodels.runner import Samples

    steps = v.check_positive_int("--gibbs-steps", args.gibbs_steps)
    shape = plots.image_shape_of(plots.visible_units(model))
    values = model.sample(args.n, seed=args.seed, steps=steps)
    if isinstance(model, DeepBeliefNetwork):
        detail = f"{steps} Gibbs sweeps of the top RBM, then one pass down"
    elif isinstance(model, DeepBoltzmannMachine):
        detail = f"{steps} two-block Gibbs sweeps each"
    else:
        detail = f"{steps} Gibbs sweeps each"
    return Samples(values, image_shape=shape if shape[0] > 1 else None,
                   title=f"{args.n} samples after {steps} Gibbs sweeps", detail=detail)
