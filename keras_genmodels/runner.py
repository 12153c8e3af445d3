"""The one training runner of the command line, shared by every family.

`keras-genmodels train <family> ...` asks the family for a compiled model and
its data (`Family.cli.training(args, strategy) -> TrainingPlan`), and this
module does the rest, the same for every family:

1. the `tf.distribute` strategy (`--strategy`), the output folder (worker i
   of a multi-worker run writes to `OUT/worker-<i>`) and the seed (`--seed`:
   Python, NumPy, TensorFlow and Keras, before the family builds anything);
2. the callbacks: `TerminateOnNonFinite` first, the family's own, then an
   atomic `AtomicBackupAndRestore` in `OUT/backup` (`--resume` goes on from
   it; without `--resume` a leftover backup is discarded);
3. `model.fit`, timed; a `tf.data` pipeline is read as one stream of epochs
   (`training.epoch_stream`), so that a resumed run continues its shuffling
   and noise where the backup's epoch ended; a model trained in stages
   (greedy layers) is trained by the family's `TrainingPlan.fit` instead,
   which backs up after each stage;
4. `OUT/model.keras` (written atomically), `OUT/history.json` (every
   epoch's logs, those before a resume included, the times, the arguments,
   and what the family adds), `OUT/training_curves.png` (axes labelled with
   quantity and unit), and the family's own pictures (`TrainingPlan.finish`);
5. one closing line: the time, the family's result (`TrainingPlan.summary`,
   e.g. the held-out ELBO), and where the model and pictures are.

`evaluate` and `sample` likewise: the family computes, this module resolves
the data set (`--dataset`, else the one in the model's `history.json`, else
the family's default), writes `--json`, and writes samples where it says.
`evaluate --quality` adds the scores of the model's samples, the same for
every family (`sample_quality`).
"""

import argparse
import dataclasses
import json
import os
import time

import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels._files import atomic_write_json

HISTORY = "history.json"


@dataclasses.dataclass
class TrainingPlan:
    """What a family hands the runner: a compiled model and its data.

    Attributes:
        model: the compiled model (built inside the strategy's scope).
        data: the training data, as `model.fit` takes it (NumPy or a dataset).
        epochs: the number of epochs.
        fit_kwargs: other `fit` arguments (`batch_size`, `shuffle`,
            `validation_data`, ...). Defaults to `{}`.
        callbacks: the family's callbacks, run after `TerminateOnNonFinite`
            and before the backup (so that what they log is backed up).
            Defaults to `[]`.
        examples: training examples per epoch (for examples/s), or `None`.
        finish: `finish(model, out, record)`, called once the model is saved:
            writes the family's pictures into `out` and may add entries to
            `record` (the `history.json` dict). Defaults to `None`.
        record: entries for `history.json`. Defaults to `{}`.
        units: `{metric: y-axis label}` of the training curves, the quantity
            and its unit (`plotting.training_curves`). Defaults to `{}`.
        summary: `summary(record) -> str`, the family's result for the
            closing line (e.g. the held-out ELBO), or `None`.
        fit: for a model trained in stages rather than by one `model.fit`
            (a deep belief network's greedy layers),
            `fit(model, callbacks, backup_dir, verbose) -> (history, resumed_from_epoch)`
            trains it, backing up and restoring in `backup_dir` itself
            (`training.StageBackup`); `callbacks` are the runner's (without
            the per-epoch backup). `history` is `{metric: [values]}` for
            `history.json` and the curves. Defaults to `None`: `model.fit`.
    """

    model: object
    data: object
    epochs: int
    fit_kwargs: dict = dataclasses.field(default_factory=dict)
    callbacks: list = dataclasses.field(default_factory=list)
    examples: int = None
    finish: object = None
    record: dict = dataclasses.field(default_factory=dict)
    units: dict = dataclasses.field(default_factory=dict)
    summary: object = None
    fit: object = None


@dataclasses.dataclass
class Samples:
    """What a family's `sample` hook returns.

    Attributes:
        values: NumPy array of samples, shape (n, ...).
        image_shape: `(height, width)` when the samples are grey-level images
            in [0, 1] (written as a PNG grid), else `None` (written as `.npy`).
        title: the grid's title. Defaults to `None`.
        detail: words for the closing line (e.g. "1000 Gibbs sweeps each").
            Defaults to `""`.
    """

    values: np.ndarray
    image_shape: tuple = None
    title: str = None
    detail: str = ""


def add_common_train_arguments(parser, family):
    """The flags every `train` takes: `--out`, `--seed`, `--verbose`, `--strategy`, `--resume`."""
    parser.add_argument("--out", default=f"saved_models/{family}", help="output folder")
    parser.add_argument("--seed", type=v.seed_flag, default=0,
                        help="seed of everything random (weights, data order, noise)")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                        help="Keras progress: 0 silent, 1 a bar, 2 a line per epoch")
    parser.add_argument(
        "--strategy", default="none", choices=("none", "mirrored", "multiworker"),
        help="one device, every GPU of this machine, or the machines listed in TF_CONFIG",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="continue an interrupted run from its backup in OUT/backup "
             "(without it, a leftover backup is discarded)",
    )


def train(family, args):
    """Run `keras-genmodels train <family>`: see the module docstring. Returns the exit status."""
    import keras

    from keras_genmodels import distribute, plotting, training
    from keras_genmodels.saving import save_model

    v.check_choice("--strategy", args.strategy, distribute.STRATEGIES)
    v.check_seed("--seed", args.seed, allow_none=False)
    v.check_choice("--verbose", args.verbose, (0, 1, 2))
    begin = time.perf_counter()
    strategy = distribute.get_strategy(args.strategy)
    out = training.output_dir(args.out, strategy)
    keras.utils.set_random_seed(args.seed)
    plan = family.hooks("cli").training(args, strategy)
    os.makedirs(out, exist_ok=True)
    backup_dir = os.path.join(out, "backup")
    callbacks, backup = training.training_callbacks(backup_dir, resume=args.resume, extra=plan.callbacks)
    start = time.perf_counter()
    if plan.fit is not None:  # trained in stages, backed up by the family's fit
        others = [c for c in callbacks if c is not backup]
        history, initial_epoch = plan.fit(plan.model, others, backup_dir, args.verbose)
    else:
        fit_kwargs = dict(plan.fit_kwargs)
        data = plan.data
        if fit_kwargs.get("steps_per_epoch") is None:
            # One stream of epochs, entered where the backup's epoch ends.
            data, fit_kwargs["steps_per_epoch"] = training.epoch_stream(data, backup.saved_epoch())
        plan.model.fit(data, epochs=plan.epochs, verbose=args.verbose, callbacks=callbacks, **fit_kwargs)
        history, initial_epoch = backup.history, backup.initial_epoch
    seconds = time.perf_counter() - start
    path = save_model(plan.model, os.path.join(out, "model.keras"))
    record = {
        "family": family.name,
        "history": history,  # every epoch, those before a resume included
        "train_seconds": seconds,
        "resumed_from_epoch": initial_epoch,
        "replicas": strategy.num_replicas_in_sync,
        "args": {k: val for k, val in vars(args).items() if k not in ("command", "family", "handler")},
        **plan.record,
    }
    epochs_run = plan.epochs - initial_epoch
    if plan.examples:
        record["examples_per_second"] = epochs_run * plan.examples / seconds
    if plan.finish is not None:
        plan.finish(plan.model, out, record)
    training.discard_backup(backup_dir)
    plotting.training_curves(record["history"], os.path.join(out, "training_curves.png"), units=plan.units)
    record["seconds"] = time.perf_counter() - begin
    atomic_write_json(os.path.join(out, HISTORY), record)
    resumed = f", resumed after epoch {initial_epoch}" if initial_epoch else ""
    rate = f", {record['examples_per_second']:.0f} examples/s" if plan.examples else ""
    result = f" {plan.summary(record)};" if plan.summary is not None else ""
    print(
        f"Done in {record['seconds']:.0f} s ({plan.epochs} epoch(s) of training in {seconds:.0f} s{rate}"
        f"{resumed});{result} model {path}, history and pictures in {out}"
    )
    return 0


def read_history(model_path):
    """The `history.json` written beside `model_path` by `train`, or `None`."""
    record = os.path.join(os.path.dirname(os.path.abspath(model_path)), HISTORY)
    try:
        with open(record) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def dataset_of(args, family):
    """`--dataset`, else the data set in the model's `history.json`, else the family's default."""
    if args.dataset:
        return args.dataset
    record = read_history(args.model) or {}
    dataset = record.get("args", {}).get("dataset") if isinstance(record, dict) else None
    return dataset or family.default_dataset


def evaluate(model, family, args):
    """Run `keras-genmodels evaluate`: the family's metrics, written to `--json` if asked."""
    args.dataset = dataset_of(args, family)
    if args.limit is not None:
        v.check_positive_int("--limit", args.limit)
    v.check_positive_int("--batch-size", args.batch_size)
    metrics = family.hooks("cli").evaluate(model, args)
    if getattr(args, "quality", False):
        metrics["quality"] = sample_quality(model, family, args)
    if args.json:
        atomic_write_json(args.json, metrics)
    return 0


def quality_samples(model, family, args, n):
    """`n` samples of `model` as `keras-genmodels sample` draws them: the family's `sample` hook.

    The hook gets a copy of `args` with `n`, and the defaults of the
    family's own `sample` flags (`add_sample_arguments`, e.g. an RBM's
    `--gibbs-steps`) where `args` lacks them. A family may give a
    `quality_samples(model, args)` hook instead (same arguments).

    Returns:
        A `Samples`.
    """
    hooks = family.hooks("cli")
    sample_args = argparse.Namespace(**vars(args))
    if hasattr(hooks, "add_sample_arguments"):
        flags = argparse.ArgumentParser(add_help=False)
        hooks.add_sample_arguments(flags)
        for key, value in vars(flags.parse_args([])).items():
            if not hasattr(sample_args, key):
                setattr(sample_args, key, value)
    sample_args.n = n
    draw = getattr(hooks, "quality_samples", hooks.sample)
    return draw(model, sample_args)


def sample_quality(model, family, args):
    """`evaluate --quality`: scores of `--quality-samples` samples of the model; a dict.

    Samples that are 28 x 28 grey-level images are compared with the
    images of `--dataset`'s `--split` by `metrics.image_quality` (FD, KD,
    precision and recall in the library's feature network; not InceptionV3's,
    see docs/quality.md). Other samples (spin configurations, ...) are not
    scored here: the result says why, and which Python function scores them.
    """
    from keras_genmodels.metrics import images as image_scores

    n = v.check_positive_int("--quality-samples", args.quality_samples)
    samples = quality_samples(model, family, args, n)
    values = np.asarray(samples.values)
    shape = None if samples.image_shape is None else tuple(samples.image_shape)
    if shape != image_scores.IMAGE_SHAPE[:2]:
        reason = (
            f"the samples of this {type(model).__name__} are not 28 x 28 images (shape "
            f"{values.shape}), and the image scores need the feature network's 28 x 28 grey levels. "
            "For 2D Ising configurations use keras_genmodels.metrics.ising_distances(samples, "
            "reference_samples, temperature) in Python, with Monte Carlo reference samples at the "
            "model's temperature (keras_genmodels.physics.sample_ising); see docs/quality.md"
        )
        print(f"Sample quality: not computed: {reason}.")
        return {"computed": False, "reason": reason, "n_samples": int(values.shape[0])}
    reference = f"{args.dataset}:{args.split}"
    image_scores.parse_reference(reference)
    # Grey levels are in [0, 1]; a Gaussian decoder's means may leave it (the grids clip them too).
    finite = np.isfinite(values)
    outside = float(np.mean(finite & ((values < 0) | (values > 1))))
    values = np.where(finite, np.clip(values, 0.0, 1.0), values)
    detail = f" ({samples.detail})" if samples.detail else ""
    print(f"Scoring {values.shape[0]:,} samples{detail} against {reference} ...", flush=True)
    # KD's subsets are always seed 0's, so that the scores of models compare.
    scores = image_scores.image_quality(values, reference, n=n, seed=0, local_dir=args.local_dir)
    clipped = f"; {outside:.2%} of the pixels were outside [0, 1] and clipped" if outside else ""
    print(f"Sample quality: {image_scores.format_quality(scores)} ({scores['seconds']:.0f} s{clipped})")
    return {"computed": True, **scores, "clipped_fraction": outside}


def sample(model, family, args):
    """Run `keras-genmodels sample`: the family's samples, as a PNG grid or a `.npy` file.

    Samples that are not grey-level images go to a `.npy` file: `--out` itself
    if it ends in `.npy`, else `--out` with its extension replaced, and the
    closing line names the file actually written.
    """
    from keras_genmodels import plotting

    v.check_positive_int("--n", args.n)
    samples = family.hooks("cli").sample(model, args)
    values = np.asarray(samples.values)
    if samples.image_shape is not None:
        path = args.out
        plotting.image_grid(values.reshape((-1,) + tuple(samples.image_shape)), path, title=samples.title)
    else:
        path = args.out if args.out.endswith(".npy") else os.path.splitext(args.out)[0] + ".npy"
        np.save(path, values)
    detail = f" ({samples.detail})" if samples.detail else ""
    print(f"Wrote {values.shape[0]} samples{detail} to {path}")
    return 0
