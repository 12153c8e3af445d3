"""Callbacks for long, interruptible training runs.

- `TerminateOnNonFinite`: stops `fit` at the first NaN or Inf in the logged
  losses and metrics, with an error naming the epoch and the step, *before* any
  later callback (a backup, a checkpoint) can save the broken weights.
- `StepProgbar`: Keras's progress bar, counting training steps however
  `fit` groups them (never past the epoch's end; an RBM's chunks as their
  mini-batches); `GenerativeModel.fit` uses it.
- `TrainingClock`: the wall-clock and CPU time of each batch end and of each
  epoch end, the steps done, the last logs; stops `fit` past a budget of
  seconds (benchmarks at an equal wall-clock budget, time-boxed studies).
- `EpochSampleGrids`: a grid of samples from a fixed seed after each epoch
  (the base of the families' `SampleGrids`).
- `AtomicBackupAndRestore`: `keras.callbacks.BackupAndRestore` whose backups
  are written atomically (a crash or SIGKILL during a save leaves the previous
  backup usable) and which keeps the history of the epochs already run, so a
  resumed run can report the whole of it.

`training_callbacks` puts them in the right order for the command line.
"""

import contextlib
import glob
import json
import math
import os
import time

import keras
import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels._files import atomic_path, atomic_write_text

_METADATA = "training_metadata.json"


class TrainingClock(keras.callbacks.Callback):
    """The time of each batch end and epoch end of `fit`, and an optional budget of seconds.

    A batch end comes after the step's results are read back (reading a
    logged metric waits for the step), so the times are those of finished
    steps. The process's CPU time (all its threads) is kept beside the wall
    clock: on a shared machine it is less disturbed by other jobs.

    Args:
        start: the `time.perf_counter()` that the times and the budget count
            from, or `None` for the start of `fit` (`on_train_begin`). Set it
            before the model is built to count construction and tracing too.
            Defaults to `None`.
        budget_seconds: stop `fit` after the first batch end at least this
            many seconds after `start` (the epoch is cut short), or `None`
            for no budget. Defaults to `None`.

    Attributes:
        start: as above (set at the start of `fit` if it was `None`).
        times, cpu_times: `time.perf_counter()` and `time.process_time()` at each batch end.
        steps: the training steps done at each batch end, counted across epochs
            (with `steps_per_execution` s, a batch end comes every s steps).
        seconds: the seconds since `start` at the end of each epoch.
        last_logs: the logs of the last batch end, as floats.
        total_steps: the steps done (0 before the first batch end).
    """

    def __init__(self, start=None, budget_seconds=None):
        super().__init__()
        if budget_seconds is not None:
            budget_seconds = v.check_positive_float("budget_seconds", budget_seconds)
        self.start, self.budget_seconds = start, budget_seconds
        self.times, self.cpu_times, self.steps, self.seconds, self.last_logs = [], [], [], [], {}
        self._epoch_offset = self._epoch_steps = 0

    def on_train_begin(self, logs=None):
        if self.start is None:
            self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_offset += self._epoch_steps
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.last_logs = {k: float(val) for k, val in (logs or {}).items()}
        self.times.append(time.perf_counter())
        self.cpu_times.append(time.process_time())
        # `batch` is the epoch's index of the last step run (with `steps_per_execution` s, a batch end every s steps).
        self._epoch_steps = batch + 1
        self.steps.append(self._epoch_offset + self._epoch_steps)
        if self.budget_seconds is not None and self.times[-1] - self.start >= self.budget_seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)

    @property
    def total_steps(self):
        return self.steps[-1] if self.steps else 0


class EpochSampleGrids(keras.callbacks.Callback):
    """Write `folder/epoch_{k:03d}.png`, a grid of `n` samples drawn with a fixed seed, after each epoch.

    The base of the families' sample-grid callbacks: a subclass gives
    `grid(epoch) -> (images in [0, 1] of shape (n, H, W, C), title)`, drawn
    with `self.n` and `self.seed`, so that the grids of successive epochs
    differ only by the weights.

    Args:
        folder: where the PNG files go (created).
        n: samples per grid. Defaults to `36`.
        seed: the samples' seed. Defaults to `0`.
        every: write every `every` epochs (and after the last). Defaults to `1`.

    Attributes:
        paths: the files written.
    """

    def __init__(self, folder, n=36, seed=0, every=1):
        super().__init__()
        self.folder = folder
        self.n = v.check_positive_int("n", n)
        self.seed = 0 if seed is None else v.check_seed("seed", seed)
        self.every = v.check_positive_int("every", every)
        self.paths = []

    def grid(self, epoch):
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        from keras_genmodels import plotting

        last = self.params and epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        os.makedirs(self.folder, exist_ok=True)
        path = os.path.join(self.folder, f"epoch_{epoch + 1:03d}.png")
        images, title = self.grid(epoch)
        plotting.image_grid(images, path, title=title)
        self.paths.append(path)


class NonFiniteLossError(FloatingPointError):
    """Raised by `TerminateOnNonFinite` when a loss or metric is NaN or Inf."""


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stop training at the first NaN or Inf in the logs, naming the step.

    Unlike `keras.callbacks.TerminateOnNaN`, which sets `stop_training` (so
    that the epoch still ends, and a `BackupAndRestore` or `ModelCheckpoint`
    placed after it saves the NaN weights over the last good ones), this raises
    `NonFiniteLossError` at once: `fit` stops without calling the remaining
    callbacks, and the last good checkpoint stays as it was. Put it first in
    the callback list.

    With `steps_per_execution = s > 1` Keras reports the logs once per s steps;
    the logged values are running means over the epoch, so the first
    non-finite value came in the steps of that call, which the message names.
    Steps are counted by the optimizer's step counter when it is built, so
    they are training updates even when one Keras step makes several (an
    RBM's `fit` on NumPy data runs a chunk of mini-batches per Keras step).

    Args:
        monitor: names of the logs to check, or `None` for every numeric log
            (losses and metrics, training and validation). Defaults to `None`.

    Example:

    >>> model.fit(x, epochs=10, callbacks=[TerminateOnNonFinite(),
    ...                                    keras.callbacks.BackupAndRestore("backup")])
    """

    def __init__(self, monitor=None):
        super().__init__()
        if monitor is not None:
            if isinstance(monitor, str):
                monitor = [monitor]
            monitor = [str(m) for m in monitor]
        self.monitor = monitor
        self._epoch = 0
        self._first_step = 0
        self._global_step = 0
        self._epoch_start = self._last_iteration = None

    def _bad(self, logs):
        bad = {}
        for name, value in (logs or {}).items():
            if self.monitor is not None and name not in self.monitor:
                continue
            try:
                value = float(np.asarray(value))
            except (TypeError, ValueError):
                continue
            if not math.isfinite(value):
                bad[name] = value
        return bad

    def _iterations(self):
        """The optimizer's step counter (which a restored backup carries on), or None."""
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not getattr(optimizer, "built", False):
            return None
        return int(np.asarray(optimizer.iterations))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = self._last_iteration = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._first_step = batch

    def on_train_batch_end(self, batch, logs=None):
        steps = batch - self._first_step + 1
        self._global_step += steps
        now = self._iterations()
        previous, self._last_iteration = self._last_iteration, now
        bad = self._bad(logs)
        if not bad:
            return
        if None not in (now, previous, self._epoch_start):
            # Optimizer steps: exact also when one Keras step is several updates
            # (steps_per_execution, or an RBM's chunk of mini-batches).
            steps = now - previous
            first, last = previous - self._epoch_start + 1, now - self._epoch_start
            self._global_step = now
        else:
            first, last = self._first_step + 1, batch + 1
            if now is not None:
                self._global_step = now
        if steps > 1:
            where = (
                f"in steps {first}-{last} of epoch {self._epoch + 1} "
                f"(one compiled call of {steps} steps; global steps "
                f"{self._global_step - steps + 1}-{self._global_step})"
            )
        else:
            where = (
                f"at step {last} of epoch {self._epoch + 1} "
                f"(global step {self._global_step})"
            )
        self._fail(bad, where)

    def on_epoch_end(self, epoch, logs=None):
        bad = self._bad(logs)
        if bad:
            self._fail(bad, f"at the end of epoch {epoch + 1} (validation)")

    def _fail(self, bad, where):
        values = ", ".join(f"{k}={v}" for k, v in bad.items())
        if self.model is not None:
            self.model.stop_training = True
        raise NonFiniteLossError(
            f"Non-finite training values ({values}) {where}. Training stopped before "
            "anything was saved: the last good checkpoint or backup is intact. Lower the "
            "learning rate, or check the data for NaN, Inf or out-of-range values."
        )


class StepProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting mini-batches however `fit` groups them.

    - With `steps_per_execution` s, Keras reports the end of each group of s
      steps, so its bar read e.g. 480/469 before the end of an epoch of 469
      steps: here the count stops at the epoch's steps.
    - A Keras step that is k mini-batches (the RBM's `fit` on NumPy data runs
      chunks of `steps_per_execution` mini-batches per Keras step) counts k,
      up to `total` mini-batches per epoch, instead of one per chunk.

    Args:
        minibatches_per_step: k. Defaults to `1`.
        total: mini-batches per epoch, or `None` for Keras's steps times k.
            Defaults to `None`.
    """

    def __init__(self, minibatches_per_step=1, total=None):
        super().__init__()
        self.count_minibatches(minibatches_per_step, total)

    def count_minibatches(self, minibatches_per_step, total=None):
        """Count `minibatches_per_step` mini-batches per Keras step, `total` per epoch."""
        self.minibatches_per_step = v.check_positive_int("minibatches_per_step", minibatches_per_step)
        self.total = None if total is None else v.check_positive_int("total", total)

    def set_params(self, params):
        super().set_params(params)
        if self.total is not None:
            self.target = self.total
        elif self.target is not None:
            self.target *= self.minibatches_per_step

    def on_train_batch_end(self, batch, logs=None):
        seen = (batch + 1) * self.minibatches_per_step
        if self.target is not None:
            seen = min(seen, self.target)
        super().on_train_batch_end(seen - 1, logs)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` with atomic backups and the history kept.

    Keras' callback overwrites `latest.weights.h5` in place and then its
    metadata, so a process killed during a save can leave a truncated weights
    file, or new weights with the old epoch number. Here each backup is

    1. the weights (trainable and non-trainable variables, the optimizer's
       state, and whatever a model's `save_own_variables` adds, such as the
       RBM's random-number generator states) written to a temporary file and
       renamed to `epoch-NNNNNN.weights.h5`;
    2. `training_metadata.json` (the epoch reached, that file's name, and the
       logs of every epoch so far) written to a temporary file and renamed
       over the old one: the commit point;
    3. older weight files removed.

    A kill at any moment leaves a metadata file naming a complete weights file.
    Restoring (at the start of `fit`) loads those weights and starts at the
    saved epoch: a killed run loses at most the epoch in progress.

    Args:
        backup_dir: folder of the backups (local path).
        save_freq: `"epoch"` or a number of batches. Keras resumes at an
            epoch boundary, so `"epoch"` is the meaningful choice. Defaults to
            `"epoch"`.
        delete_checkpoint: whether to delete the backup folder when `fit`
            ends normally. Defaults to `True`.
        restore_learning_rate: whether a constant learning rate is restored
            from the backup too (Keras saves it with the optimizer's state).
            `False` keeps the one the model was compiled with, so a run
            resumed after a NaN can use a lower one; learning-rate schedules
            always continue from the restored step count. Defaults to `False`.

    Attributes:
        history: dict of lists, the logs of every epoch run so far, those of
            the runs before a restore included.
        initial_epoch: the epoch restored from the backup (0 when none).
    """

    def __init__(
        self, backup_dir, save_freq="epoch", delete_checkpoint=True, restore_learning_rate=False
    ):
        super().__init__(
            backup_dir, save_freq=save_freq, double_checkpoint=False,
            delete_checkpoint=delete_checkpoint,
        )
        self.restore_learning_rate = v.check_bool("restore_learning_rate", restore_learning_rate)
        self.history = {}
        self.initial_epoch = 0

    def read_metadata(self):
        """The last committed metadata, or `None` when there is no backup."""
        return _read_backup_metadata(self.backup_dir, "epochs")

    def saved_epoch(self):
        """The epoch a `fit` with this callback will restore (0 when there is no backup)."""
        metadata = self.read_metadata()
        return 0 if metadata is None else int(metadata["epoch"])

    def _load_model(self):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, the model must be built before "
                f"`fit()`. Received an unbuilt {type(self.model).__name__}."
            )
        metadata = self.read_metadata()
        if metadata is None:
            return
        weights = os.path.join(self.backup_dir, metadata.get("weights", "latest.weights.h5"))
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        # A constant learning rate is a variable of the optimizer (a schedule is not).
        learning_rate = getattr(optimizer, "_learning_rate", None)
        keep = None
        if not self.restore_learning_rate and isinstance(learning_rate, keras.Variable):
            keep = np.asarray(learning_rate)
        self.model.load_weights(weights)
        if keep is not None:
            learning_rate.assign(keep)
        self.initial_epoch = int(metadata["epoch"])
        self.history = {k: list(vals) for k, vals in metadata.get("history", {}).items()}
        self._current_epoch = self.initial_epoch
        self.model._initial_epoch = self.initial_epoch

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            try:
                self.history.setdefault(key, []).append(float(np.asarray(value)))
            except (TypeError, ValueError):
                pass
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        name = f"epoch-{self._current_epoch:06d}-batch-{self._last_batch_seen:09d}.weights.h5"
        metadata = {
            "epoch": self._current_epoch,
            "batch": self._last_batch_seen,
            "weights": name,
            "history": self.history,
        }
        _commit_backup(self.backup_dir, self.model, name, metadata)


def _commit_backup(backup_dir, model, name, metadata):
    """Write `model`'s weights to `backup_dir/name`, then `metadata` (the commit point), atomically;
    then remove the older weight files."""
    os.makedirs(backup_dir, exist_ok=True)
    with atomic_path(os.path.join(backup_dir, name), suffix=".weights.h5") as tmp:
        model.save_weights(tmp, overwrite=True)
    atomic_write_text(os.path.join(backup_dir, _METADATA), json.dumps(metadata))
    for old in glob.glob(os.path.join(backup_dir, "*.weights.h5")):
        if os.path.basename(old) != name:
            os.remove(old)


class StageBackup:
    """Atomic backups of a model trained in stages (e.g. a deep belief network's layers).

    A model trained by one `fit` after another (greedy layer-wise training)
    cannot use one `BackupAndRestore` across them. After each finished stage,
    `commit` writes the model's weights to `stage-NN.weights.h5` (a temporary
    file renamed) and then `training_metadata.json` (the stages done and their
    histories; the commit point), and removes older weight files, as
    `AtomicBackupAndRestore` does per epoch; `restore` loads the last one. A
    killed run loses at most the stage in progress. The files are those of
    `AtomicBackupAndRestore`, so `discard_backup` removes them too.

    Args:
        backup_dir: folder of the backups (local path).
    """

    KIND = "stages"

    def __init__(self, backup_dir):
        if not isinstance(backup_dir, (str, os.PathLike)):
            raise ValueError(f"Expected `backup_dir` to be a path. Received: backup_dir={backup_dir!r}")
        self.backup_dir = os.fspath(backup_dir)

    def read_metadata(self):
        """The last committed metadata, or `None` when there is no backup."""
        return _read_backup_metadata(self.backup_dir, self.KIND)

    def restore(self, model):
        """Load the last committed weights into `model`; returns `(stages done, {stage: history})`."""
        metadata = self.read_metadata()
        if metadata is None:
            return 0, {}
        weights = os.path.join(self.backup_dir, metadata["weights"])
        try:
            model.load_weights(weights)
        except (ValueError, OSError) as e:
            raise ValueError(
                f"Expected the backup {weights!r} to hold the weights of this {type(model).__name__}. "
                f"Received weights it cannot take ({e}); a run of another model in the same folder? "
                f"Delete the folder {self.backup_dir!r} to start afresh."
            ) from e
        return int(metadata["stages"]), dict(metadata["histories"])

    def commit(self, model, stages, histories):
        """Back up `model` after `stages` finished stages, with `{stage: {metric: [values]}}`."""
        stages = v.check_positive_int("stages", stages)
        name = f"stage-{stages:02d}.weights.h5"
        metadata = {"kind": self.KIND, "stages": stages, "weights": name, "histories": histories}
        _commit_backup(self.backup_dir, model, name, metadata)


def _read_backup_metadata(backup_dir, kind):
    """`training_metadata.json` of `backup_dir` (`None` if absent), checked to be of a training by `kind`."""
    path = os.path.join(backup_dir, _METADATA)
    try:
        with open(path) as f:
            metadata = json.load(f)
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise ValueError(
            f"Expected a JSON training metadata file. Received {path!r}, which cannot be parsed "
            f"({e}); delete the folder {backup_dir!r} to start afresh."
        ) from e
    found = metadata.get("kind", "epochs") if isinstance(metadata, dict) else None
    if found != kind:
        raise ValueError(
            f"Expected the backup in {backup_dir!r} to be that of a training by {kind}. Received one of "
            f"a training by {found} (a run of another model in the same folder?); delete the folder to "
            "start afresh."
        )
    return metadata


def training_callbacks(backup_dir=None, resume=False, extra=()):
    """The command line's callbacks: `TerminateOnNonFinite` first, then `extra`,
    then an `AtomicBackupAndRestore` in `backup_dir` (if given).

    Without `resume`, a backup left in `backup_dir` by an earlier run is
    deleted, so the run starts afresh. The backup is not deleted when `fit`
    ends: remove it (`discard_backup`) once the final model is saved.

    Returns:
        `(callbacks, backup)`, `backup` being the `AtomicBackupAndRestore` or `None`.
    """
    v.check_bool("resume", resume)
    callbacks = [TerminateOnNonFinite(), *extra]
    backup = None
    if backup_dir is not None:
        if not resume:
            discard_backup(backup_dir)
        backup = AtomicBackupAndRestore(backup_dir, delete_checkpoint=False)
        callbacks.append(backup)
    elif resume:
        raise ValueError("`resume=True` needs a `backup_dir`. Received: backup_dir=None")
    return callbacks, backup


def epoch_stream(data, start_epoch=0):
    """A finite `tf.data.Dataset` as one stream of epochs that a resumed run can enter.

    A pipeline that reshuffles (`shuffle(..., reshuffle_each_iteration=True)`)
    or redraws noise (`Dataset.random(rerandomize_each_iteration=True)`) each
    pass takes the next seeds of its seed generator each time an iterator of
    it (or a pass of a `repeat` of it) is made, and Keras' `fit` makes
    iterators as it likes (two per epoch in Keras 3.15). A run resumed after
    epoch `start_epoch` would then see the first epoch's order and noise
    again. Here:
    - the passes are one repeated stream, read by `fit` through a single
      iterator (`steps_per_epoch` = the batches of one pass), so epoch e is the
      stream's e-th pass;
    - a resumed run first makes and drops `start_epoch` iterators, so that the
      seeds the skipped passes drew are drawn again (nothing is read), and its
      first pass is the uninterrupted run's pass `start_epoch + 1`.
    With the model's own states restored from the backup, the resumed run is
    then the uninterrupted one (anything that reads the stream before training,
    such as `GenerativeModel.fit`'s check of the first batch, does so alike in
    both runs).

    Args:
        data: the training data given to `fit`.
        start_epoch: non-negative int, the epochs already trained. Defaults to 0.

    Returns:
        `(data, steps_per_epoch)`: for a `tf.data.Dataset` of known finite
        cardinality, the repeated stream and its batches per pass; otherwise
        `(data, None)`, unchanged (NumPy data is batched by the model or by
        Keras, `GenerativeModel.fit`).
    """
    if start_epoch != 0:
        start_epoch = v.check_positive_int("start_epoch", start_epoch)
    import tensorflow as tf

    if not isinstance(data, tf.data.Dataset):
        return data, None
    steps = int(data.cardinality())
    if steps <= 0:  # infinite, unknown or empty: the caller's steps_per_epoch rules
        return data, None
    for _ in range(start_epoch):
        iter(data)  # made and dropped: the seeds of a skipped pass are drawn
    return data.repeat(), steps


def discard_backup(backup_dir):
    """Delete a backup folder written by `AtomicBackupAndRestore` (if any)."""
    if not os.path.isdir(backup_dir):
        return
    for path in glob.glob(os.path.join(backup_dir, "*.weights.h5")) + glob.glob(
        os.path.join(backup_dir, ".tmp-*")
    ) + [os.path.join(backup_dir, _METADATA)]:
        if os.path.exists(path):
            os.remove(path)
    try:
        os.rmdir(backup_dir)
    except OSError:
        pass  # not empty: files of someone else's, left alone


def output_dir(out, strategy=None):
    """Where this process writes: `out` for the chief (worker 0, or a single
    process), `out/worker-<i>` for the other workers of a multi-worker run."""
    from keras_genmodels import distribute

    index = distribute.worker_index(strategy)
    return out if index == 0 else os.path.join(out, f"worker-{index}")


@contextlib.contextmanager
def compute_policy(mixed_precision):
    """Build models inside this block under the `mixed_bfloat16` policy if `mixed_precision`, else as is.

    Layers take the global dtype policy when they are created: bfloat16
    compute with float32 weights (`mixed_bfloat16`), which the CPUs with AMX
    and the GPUs run much faster. The previous global policy is restored on
    leaving, so that models built later (and in other tests) are unaffected.
    """
    previous = keras.mixed_precision.global_policy()
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
