"""Training under `tf.distribute`: strategies by name and replica-aware helpers.

Under a `tf.distribute` strategy, `keras.Model.fit` splits each global batch of
N examples into R per-replica shards of n_r examples (Σ_r n_r = N), runs
`train_step` once per replica inside `strategy.run`, and the optimizer sums
the replicas' gradients (an all-reduce) before applying them to the mirrored
weights. A custom `train_step` is correct when:

- its loss is the sum of the per-example losses of its shard divided by the
  *global* batch size, L_r = Σ_{i ∈ r} ℓ_i / N, so that the summed gradient
  Σ_r ∇L_r = ∇(Σ_i ℓ_i / N) is the single-device gradient of the global batch
  (`global_batch_size`, `scale_loss_for_distribution` for batch-independent
  terms such as regularisers, which every replica computes in full);
- its metrics are `keras.metrics` (their variables are on-read, SUM-aggregated:
  totals and counts add up over the replicas, so the epoch's logs are means
  over the global batch, not one replica's);
- its random draws differ between replicas (`ReplicaSeedGenerator` folds the
  replica id into every seed; with one replica it is a plain `SeedGenerator`);
- its updates of non-trainable state (running means, persistent chains) are
  computed from all-reduced quantities (`all_reduce_sum`,
  `gather_replica_slices`), so that every replica writes the same value.

The helpers are no-ops outside a strategy, with one replica, and on backends
other than TensorFlow, so a model's step reads the same everywhere.
"""

import os
import warnings

import keras
from keras import ops

from keras_genmodels import _validation as v

STRATEGIES = ("none", "mirrored", "multiworker")

# Multiplier of the replica id folded into a seed's first word (an odd 31-bit
# constant, the golden-ratio hash), so that replica r's stream cannot be that
# of a generator seeded with seed + r.
_REPLICA_SEED_STRIDE = 0x61C88647


def get_strategy(name="none", devices=None):
    """A `tf.distribute.Strategy` from its command-line name.

    Args:
        name: `"none"` (the default strategy: one device), `"mirrored"`
            (`MirroredStrategy`: synchronous data parallelism over the GPUs of
            this machine, or its CPU when it has none) or `"multiworker"`
            (`MultiWorkerMirroredStrategy`: the same over the machines listed
            in the `TF_CONFIG` environment variable). Defaults to `"none"`.
        devices: `MirroredStrategy` devices, e.g. `["/cpu:0", "/cpu:1"]`, or
            `None` for all local GPUs. Defaults to `None`.

    Returns:
        The strategy. Build and compile the model inside `strategy.scope()`.
    """
    v.check_choice("strategy", name, STRATEGIES)
    import tensorflow as tf

    if name == "none":
        if devices is not None:
            raise ValueError(
                f"`devices` applies to the mirrored strategy only. Received: devices={devices!r}"
            )
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    if devices is not None:
        raise ValueError(
            "`devices` applies to the mirrored strategy only; multi-worker training "
            f"uses each worker's GPUs, or its CPU. Received: devices={devices!r}"
        )
    if not os.environ.get("TF_CONFIG"):
        raise ValueError(
            "The multiworker strategy needs the TF_CONFIG environment variable "
            '(e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}). Received: TF_CONFIG unset.'
        )
    return tf.distribute.MultiWorkerMirroredStrategy()


def _multi_worker(strategy):
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    in_multi_worker_mode = getattr(strategy.extended, "_in_multi_worker_mode", None)
    return bool(in_multi_worker_mode and in_multi_worker_mode())


def supported_compile_arguments(kwargs, strategy=None):
    """`compile` keyword arguments adjusted to what Keras can run under `strategy`.

    With several replicas (or workers), Keras 3
    - fails to run several steps per call ("You must feed a value for
      placeholder tensor ...", keras-team/keras#19246): `steps_per_execution`
      becomes 1;
    - compiles the whole multi-replica step as one XLA cluster, which cannot
      reach the other devices' variables (and which its own
      `jit_compile="auto"` therefore never chooses): `jit_compile=True`
      becomes `False`.
    Each change comes with a warning. On one replica, and on backends other
    than TensorFlow, `kwargs` is returned unchanged.

    Returns:
        A new dict.
    """
    kwargs = dict(kwargs)
    if keras.backend.backend() != "tensorflow":
        return kwargs
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    if strategy.num_replicas_in_sync == 1 and not _multi_worker(strategy):
        return kwargs
    where = f"{type(strategy).__name__} with {strategy.num_replicas_in_sync} replicas"
    if kwargs.get("steps_per_execution", 1) != 1:
        warnings.warn(
            f"steps_per_execution={kwargs['steps_per_execution']} is not supported by Keras "
            f"under {where} (keras-team/keras#19246); using steps_per_execution=1.",
            stacklevel=3,
        )
        kwargs["steps_per_execution"] = 1
    if kwargs.get("jit_compile") is True:
        warnings.warn(
            f"jit_compile=True is not supported by Keras under {where} (its XLA cluster "
            "would span the replicas' devices); using jit_compile=False.",
            stacklevel=3,
        )
        kwargs["jit_compile"] = False
    return kwargs


def split_cpu(n):
    """Split this machine's CPU into `n` logical devices `/cpu:0` ... `/cpu:{n-1}`.

    For testing and benchmarking `MirroredStrategy` without GPUs. Must be
    called before TensorFlow initialises its devices (before any op runs).

    Returns:
        The device names, for `get_strategy("mirrored", devices=...)`.
    """
    n = v.check_positive_int("n", n)
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    config = [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
    try:
        tf.config.set_logical_device_configuration(cpu, config)
    except RuntimeError as e:
        current = tf.config.list_logical_devices("CPU")
        if len(current) != n:
            raise RuntimeError(
                f"Cannot split the CPU into {n} logical devices: TensorFlow is already "
                f"initialised with {len(current)}. Call split_cpu first thing."
            ) from e
    return [f"/cpu:{i}" for i in range(n)]


def worker_index(strategy=None):
    """This worker's index in a multi-worker cluster (0, the chief, otherwise)."""
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return 0
    return int(resolver.task_id or 0)


def is_chief(strategy=None):
    """Whether this process writes the outputs (worker 0, or a single process)."""
    return worker_index(strategy) == 0


def _replica_context():
    """The TF replica context inside `strategy.run` with > 1 replica, else `None`."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return None
    return ctx


def num_replicas():
    """R, the number of replicas the running step is one of (1 outside strategies)."""
    ctx = _replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


def replica_id():
    """r in [0, R), this replica's index among all workers' replicas (0 outside).

    A Python int where TensorFlow knows it when tracing (MirroredStrategy and
    MultiWorkerMirroredStrategy trace one graph per replica), else a tensor.
    """
    ctx = _replica_context()
    if ctx is None:
        return 0
    import tensorflow as tf

    r = ctx.replica_id_in_sync_group
    static = tf.get_static_value(r)
    return r if static is None else int(static)


def all_reduce_sum(value):
    """Σ_r value_r over the replicas (the value itself with one replica)."""
    ctx = _replica_context()
    if ctx is None:
        return value
    return ctx.all_reduce("sum", value)


def global_batch_size(local_batch_size, dtype="float32"):
    """N = Σ_r n_r, the global batch size, from this replica's n_r, as `dtype`.

    Exact even when the last global batch splits unevenly (or leaves a
    replica with no example), unlike n_r · R.
    """
    return all_reduce_sum(ops.cast(local_batch_size, dtype))


def scale_loss_for_distribution(loss):
    """loss / R: for a term every replica computes in full (e.g. a weight penalty),
    so that the all-reduced (summed) gradient counts it once."""
    r = num_replicas()
    return loss if r == 1 else loss * ops.cast(1.0 / r, loss.dtype)


def replica_slice(n):
    """(start, stop) of this replica's share of `n` rows: rows [r·n//R, (r+1)·n//R).

    For state split between replicas, such as persistent Markov chains:
    with one replica, (0, n). Python ints when the replica id is known at
    trace time (so the slice has a static shape, as XLA needs).
    """
    count = num_replicas()
    if count == 1:
        return 0, n
    r = replica_id()
    return (r * n) // count, ((r + 1) * n) // count


def gather_replica_slices(rows, n):
    """The full (n, ...) tensor from each replica's `replica_slice(n)` rows.

    Each replica pads its rows with zeros to n rows and the replicas' tensors
    are summed (one all-reduce), so every replica gets the same full tensor,
    which it can write to a mirrored variable. With one replica, `rows`.
    """
    ctx = _replica_context()
    if ctx is None:
        return rows
    start, stop = replica_slice(n)
    rank = len(rows.shape)
    padding = [[start, n - stop]] + [[0, 0]] * (rank - 1)
    return ctx.all_reduce("sum", ops.pad(rows, padding))


def fold_in_replica_id(seed):
    """A seed (shape (2,), as drawn from a `SeedGenerator`) unique to this replica.

        seed' = (seed_0 + r · 0x61C88647, seed_1)

    TensorFlow hashes the whole pair into the key of its counter-based
    generator, so distinct pairs give independent streams. Replica 0 (and any
    run outside a strategy) keeps the seed unchanged.
    """
    if num_replicas() == 1:
        return seed
    r = ops.cast(replica_id(), seed.dtype)
    offset = ops.stack([r * _REPLICA_SEED_STRIDE, ops.zeros_like(r)])
    return seed + offset


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A `keras.random.SeedGenerator` whose draws differ between replicas.

    Its state is an ordinary (mirrored) variable, advanced identically on every
    replica; each draw folds the replica id into the seed
    (`fold_in_replica_id`), so the R replicas of a `tf.distribute` strategy
    draw independent noise for their shards instead of R copies of the same.
    Outside a strategy, or with one replica, it draws exactly what a
    `SeedGenerator` with the same seed draws. (Not registered for
    serialisation: the layers that hold one rebuild it from their `seed`.)

    Args:
        seed: int or `None`. Defaults to `None`.
        **kwargs: `SeedGenerator` keyword arguments (`name`).

    Example:

    >>> gen = ReplicaSeedGenerator(seed=1)
    >>> eps = keras.random.normal((4, 2), seed=gen)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(seed=v.check_seed("seed", seed), **kwargs)

    def next(self, ordered=True):
        return fold_in_replica_id(super().next(ordered=ordered))


def shard_by_data(dataset):
    """Set a `tf.data.Dataset` to be split between workers by elements.

    `MultiWorkerMirroredStrategy` shards input by files by default, which fails
    for a data set read from one file (e.g. an IDX archive): with this option
    every worker reads the pipeline and keeps its share of each global batch.
    Harmless on one worker.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def step_outputs(logs):
    """A `train_step`/`test_step`'s dict of scalar logs, made safe to return.

    Under multi-worker `MultiWorkerMirroredStrategy`, Keras 3 reduces a step's
    outputs with `strategy.reduce("MEAN", value, axis=0)`, which fails on
    scalars ("Invalid reduction dimension 0 for input with 0 dimensions",
    tensorflow/tensorflow#72388); there each scalar is returned with shape (1,),
    which that reduction turns back into the scalar mean over the replicas.
    Elsewhere the logs are returned unchanged.
    """
    if keras.backend.backend() != "tensorflow":
        return logs
    import tensorflow as tf

    if not _multi_worker(tf.distribute.get_strategy()):
        return logs
    return {
        k: ops.reshape(value, (1,)) if len(value.shape) == 0 else value
        for k, value in logs.items()
    }
