"""The machinery shared by every restricted Boltzmann machine.

An RBM with visible units v (D of them) and binary hidden units h (H of them)
has an energy E(v, h) whose hidden part is always

    E(v, h) = E_v(v) - c . h - s(v) W h,

with s(v) = v for binary visible units and s(v) = v / sigma^2 for Gaussian
ones. Summing the hidden units out in closed form gives the free energy

    F(v) = -log sum_h exp(-E(v, h)) = E_v(v) - sum_j softplus(c_j + (s(v) W)_j),

and p(v) = exp(-F(v)) / Z. The gradient of the mean log-likelihood is the
positive phase minus the negative phase,

    d<log p(v)>_data / d theta = <-dF/d theta>_data - <-dF/d theta>_model,

where the model expectation is estimated by k steps of block Gibbs sampling,
started at the data (CD-k) or from persistent fantasy particles (PCD-k).
The subclasses (`BernoulliRBM`, `GaussianBernoulliRBM`) supply E_v, the
visible conditional and the closed-form gradients; this module holds the
training step, the metrics, the samplers and the partition function.
"""

import contextlib
import math

import keras
import numpy as np
from keras import ops

from keras_genmodels import distribute
from keras_genmodels._validation import (
    check_bool,
    check_array,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from keras_genmodels import _arrays
from keras_genmodels.rbm import partition
from keras_genmodels.rbm import _backend
from keras_genmodels.rbm._backend import compile_function

# The training metrics are estimated on the first 1/_MONITOR_FRACTION of the
# batch of every _MONITOR_EVERY-th step (and of the first step after each
# reset of the metrics): with PCD the reconstruction error would otherwise
# cost one more full matmul per step (+25%), and the ~30 small ops of the
# metrics cost ~10% of a batch-100 step. Evaluation (test_step) uses every
# example.
_MONITOR_FRACTION = 10

# The largest number of weights W an RBM may have (TensorFlow's int32 sizes).
MAX_WEIGHTS = 2**31 - 1
_MONITOR_EVERY = 10

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def bernoulli(p, seed):
    """Sample h ~ Bernoulli(p) elementwise as `u < p`, u ~ U[0, 1)."""
    u = _backend.uniform(ops.shape(p), p.dtype, seed)
    return ops.cast(ops.less(u, p), p.dtype)


class _PerExampleMeans(keras.metrics.Metric):
    """Running means of several per-example quantities, reported by name.

    `update_state(values)` takes a (batch, len(names)) tensor; `result()` is
    a dict {name: mean}, which Keras spreads into the logs.
    """

    def __init__(self, names, name="per_example_means", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.names = tuple(names)
        self.total = self.add_variable(
            shape=(len(self.names),), initializer="zeros", name="total"
        )
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, weight=1.0):
        """Add the rows of `values`, each counted `weight` times (0 skips them)."""
        values = ops.cast(values, self.dtype)
        weight = ops.cast(weight, self.dtype)
        self.total.assign_add(weight * ops.sum(values, axis=0))
        self.count.assign_add(weight * ops.cast(ops.shape(values)[0], self.dtype))

    def result(self):
        means = self.total / ops.maximum(self.count, 1.0)
        return {name: means[i] for i, name in enumerate(self.names)}

    def reset_state(self):
        self.total.assign(ops.zeros_like(self.total))
        self.count.assign(0.0)

    def get_config(self):
        return {"names": list(self.names), "name": self.name, "dtype": self.dtype}


class RestrictedBoltzmannMachine(keras.Model):
    """Base class of the restricted Boltzmann machines (not used directly).

    Abstract (its energy is left to subclasses), hence not registered for
    serialisation; `BernoulliRBM` and `GaussianBernoulliRBM` are.

    Holds the weights W (`kernel`, shape (n_visible, n_hidden)), the hidden
    biases c, the `model.fit` training step (CD-k or PCD-k), the metrics, the
    block Gibbs sampler and the partition-function estimators. Subclasses add
    the visible units' energy and conditional.

    Args:
        n_visible: int, number of visible units D. Inputs of any shape whose
            feature dimensions multiply to D (e.g. (batch, 28, 28, 1) for
            D = 784) are flattened.
        n_hidden: int, number of binary hidden units H.
        k: int, number of block Gibbs steps per update (CD-k / PCD-k).
            Defaults to `1`.
        persistent: bool, whether the negative phase uses persistent chains
            (PCD, Tieleman 2008) instead of chains started at the data (CD).
            Defaults to `False`.
        n_chains: int, number of persistent fantasy particles (PCD only).
            Defaults to `100`.
        weight_decay: float >= 0, L2 penalty: `weight_decay * W` is subtracted
            from the log-likelihood gradient of W. Defaults to `0.0`.
        seed: int or `None`, seed of the weight initialiser and of every random
            draw of training and sampling. Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`, ...).
    """

    def __init__(
        self,
        n_visible,
        n_hidden,
        k=1,
        persistent=False,
        n_chains=100,
        weight_decay=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_visible = check_positive_int("n_visible", n_visible, max_value=MAX_WEIGHTS)
        self.n_hidden = check_positive_int("n_hidden", n_hidden, max_value=MAX_WEIGHTS)
        if self.n_visible * self.n_hidden > MAX_WEIGHTS:
            raise ValueError(
                f"`n_visible * n_hidden` must be at most {MAX_WEIGHTS} weights. "
                f"Received: n_visible={n_visible}, n_hidden={n_hidden}"
            )
        self.k = check_positive_int("k", k)
        self.persistent = check_bool("persistent", persistent)
        self.n_chains = check_positive_int("n_chains", n_chains)
        self.weight_decay = check_positive_float(
            "weight_decay", weight_decay, allow_zero=True
        )
        self.seed = check_seed("seed", seed)
        # Training's generator: under a tf.distribute strategy each replica
        # folds its id into the seed, so replicas draw independent samples.
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        # Public samplers reseed this one when given `seed=`, so that a
        # seeded call is reproducible without retracing the compiled loop.
        self.sampling_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1
        )

        self.kernel = self.add_weight(
            shape=(self.n_visible, self.n_hidden),
            initializer=keras.initializers.RandomNormal(stddev=0.01, seed=seed),
            name="kernel",
        )
        self.visible_bias = self.add_weight(
            shape=(self.n_visible,), initializer="zeros", name="visible_bias"
        )
        self.hidden_bias = self.add_weight(
            shape=(self.n_hidden,), initializer="zeros", name="hidden_bias"
        )
        self._build_visible_weights()
        # Running mean of the training data (exact over everything seen by
        # `fit`): the base-rate model of AIS and the centring offset.
        self.data_mean = self.add_weight(
            shape=(self.n_visible,),
            initializer="zeros",
            trainable=False,
            name="data_mean",
        )
        self.data_count = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="data_count"
        )
        if self.persistent:
            # PCD's fantasy particles, stored as their binary hidden states
            # (n_chains, n_hidden): one matmul per step cheaper than storing v.
            self.persistent_hidden = self.add_weight(
                shape=(self.n_chains, self.n_hidden),
                initializer="zeros",
                trainable=False,
                name="persistent_hidden",
            )
        self.built = True

        # One tracker for all the per-example metrics: a third of the small
        # ops of three `keras.metrics.Mean`s, which matters at batch 100.
        self.metric_tracker = _PerExampleMeans(self.metric_names, name="rbm_metrics")
        self._gibbs_fn = None
        # Set by `fit` while it feeds chunks of mini-batches (see `_use_chunks`).
        self._minibatch_size = None
        # ((mini-batch size, steps per execution, XLA), Keras train function)
        # of the last chunked `fit`, reused by the next one with the same key.
        self._chunk_train_function = None
        self._jit_request = "auto"

    # ------------------------------------------------------------------
    # Subclass interface (keras.ops only).
    # ------------------------------------------------------------------
    def _build_visible_weights(self):
        """Create the visible units' extra weights (e.g. their variance)."""

    def visible_energy(self, v):
        """E_v(v): the part of E(v, h) that involves v alone, shape (batch,)."""
        raise NotImplementedError

    def _visible_scale(self, v):
        """s(v) in the coupling term -s(v) W h (v itself for binary units)."""
        return v

    def compute_visible_mean(self, h):
        """E[v | h], shape (batch, n_visible)."""
        raise NotImplementedError

    def draw_visible(self, h, seed):
        """A draw of v ~ P(v | h) and its mean E[v | h]."""
        raise NotImplementedError

    def _gradient(self, v, ph, row_weight):
        """Closed-form gradient of the contrastive loss, one tensor per trainable weight.

        The loss L = <F(v)>_data - <F(v)>_model (samples held fixed) has
        dL/dtheta = <dF/dtheta>_data - <dF/dtheta>_model = -(positive phase -
        negative phase), minus the log-likelihood gradient; it is computed as
        sum_r row_weight_r (-dF(v_r)/dtheta). The kernel's is one matmul,
        s(V)^T (row_weight * PH).

        Args:
            v: (R, D) visible rows of both phases, data rows first.
            ph: (R, H) P(h=1 | v) of those rows.
            row_weight: (R,) -1/B for the B data rows and +1/M for the M model
                rows, so that sum_r row_weight_r f(v_r) = <f>_model - <f>_data.

        Returns:
            A list of gradients aligned with `trainable_variables`.
        """
        raise NotImplementedError

    def _check_visible_values(self, name, arr, mean_field=False):
        """Check the values of a NumPy batch eagerly (binary, finite, ...)."""
        raise NotImplementedError

    def _valid_batch(self, v):
        """A boolean scalar tensor: whether every value of `v` is admissible."""
        raise NotImplementedError

    def _max_abs_preactivation(self):
        """An upper bound on |c_j + (s(v) W)_j| over the visible states, or `None` if unbounded."""
        return None

    # AIS interface: see `partition.log_partition_ais`.
    def ais_base(self, data):  # pragma: no cover - abstract
        raise NotImplementedError

    def _ais_log_ratio(self, v, base):  # pragma: no cover
        """log p*_B(v) - log p*_A(v) without the hidden units' softplus terms."""
        raise NotImplementedError

    # The noise `_ais_sample_visible` takes: "uniform" (U[0, 1)) or "normal" (N(0, 1)).
    _ais_noise = "uniform"

    def _ais_sample_visible(self, h, beta, base, noise):  # pragma: no cover
        """v ~ P_beta(v | h) of the intermediate model, from `noise` of shape (M, D)."""
        raise NotImplementedError

    def _ais_sample_base(self, n, base, seed):  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------
    # Energy, free energy, conditionals (keras.ops).
    # ------------------------------------------------------------------
    def compute_hidden_logits(self, v):
        """c + s(v) W, shape (batch, n_hidden): the logits of P(h=1 | v)."""
        return ops.matmul(self._visible_scale(v), self.kernel) + self.hidden_bias

    def compute_free_energy(self, v, pre=None):
        """F(v) = E_v(v) - sum_j softplus(c_j + (s(v) W)_j), shape (batch,).

        softplus(x) = log(1 + e^x) is evaluated stably by `ops.softplus`.
        """
        if pre is None:
            pre = self.compute_hidden_logits(v)
        return self.visible_energy(v) - ops.sum(ops.softplus(pre), axis=-1)

    def compute_energy(self, v, h):
        """E(v, h) = E_v(v) - c . h - s(v) W h, shape (batch,)."""
        coupling = ops.sum(
            ops.matmul(self._visible_scale(v), self.kernel) * h, axis=-1
        )
        return self.visible_energy(v) - ops.sum(h * self.hidden_bias, -1) - coupling

    def _gibbs_step(self, v, seed):
        """One sweep v -> h ~ P(h|v) -> v' ~ P(v|h); returns (v', E[v'|h])."""
        h = bernoulli(ops.sigmoid(self.compute_hidden_logits(v)), seed)
        return self.draw_visible(h, seed)

    def call(self, inputs):
        """P(h = 1 | v) for a batch of visible vectors (the feature map)."""
        v = self._flatten(inputs)
        return ops.sigmoid(self.compute_hidden_logits(v))

    # ------------------------------------------------------------------
    # Training.
    # ------------------------------------------------------------------
    def compile(self, optimizer=None, jit_compile="auto", **kwargs):
        """Configure training; `optimizer` defaults to SGD with momentum.

        Args:
            optimizer: any Keras optimizer (it minimises, and is handed the
                negative log-likelihood gradient). Defaults to
                `keras.optimizers.SGD(learning_rate=0.01, momentum=0.5)`
                (with PCD-1 at this learning rate, momentum 0.9 is unstable
                on Fashion-MNIST).
            jit_compile: `True`, `False` or `"auto"`: whether the training
                step is compiled by XLA. `"auto"` (the default) compiles the
                chunked training loop that `fit` runs on NumPy data (see
                `fit`) with XLA on every device, where it is ~1.6x faster
                than TensorFlow's graph executor on a CPU, and leaves the
                other cases to Keras (XLA on a GPU, not on a CPU). The
                setting is saved with the model as given.
            **kwargs: other `keras.Model.compile` arguments; in particular
                `steps_per_execution` (use ~50-100 at small batch sizes: it
                runs that many steps per call into the compiled graph).
                A `loss` is not used: the RBM's gradient is computed in
                closed form. Under a `tf.distribute` strategy with several
                replicas, `steps_per_execution` is set to 1 and `jit_compile`
                to `False` (`distribute.supported_compile_arguments`).
        """
        if optimizer is None:
            optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=0.5)
        if not (isinstance(jit_compile, bool) or jit_compile == "auto"):
            raise ValueError(
                f'`jit_compile` must be True, False or "auto". Received: jit_compile={jit_compile!r}'
            )
        kwargs = distribute.supported_compile_arguments(
            dict(kwargs, jit_compile=jit_compile), getattr(self, "distribute_strategy", None)
        )
        super().compile(optimizer=optimizer, **kwargs)
        self._jit_request = kwargs["jit_compile"]
        # Save the request, not Keras's resolution of "auto" on this machine.
        self._compile_config.config["jit_compile"] = self._jit_request
        self._chunk_train_function = None

    def compile_from_config(self, config):
        """Recompile a loaded model (optimizer, `steps_per_execution`, ...).

        The optimizer's variables (e.g. SGD momenta) are then restored from
        the `.keras` file, so training resumes where it stopped.
        """
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _flatten(self, x):
        """Flatten (batch, ...) to (batch, n_visible), checking static shapes."""
        shape = tuple(x.shape)
        if len(shape) < 2:
            raise ValueError(
                f"Expected visible vectors of shape (batch, {self.n_visible}) or "
                f"(batch, ...) with {self.n_visible} features. "
                f"Received: shape={shape}"
            )
        feature = shape[1:]
        if all(d is not None for d in feature):
            size = int(np.prod(feature))
            if size != self.n_visible:
                raise ValueError(
                    f"Expected {self.n_visible} visible units per example. "
                    f"Received: shape={shape} ({size} features)"
                )
        if len(shape) != 2:
            x = ops.reshape(x, (-1, self.n_visible))
        return ops.cast(x, self.compute_dtype)

    def _checked_batch(self, data):
        """The visible batch of `data`, flattened, with its values asserted.

        Shapes are checked when the step is traced (a `ValueError`); values
        (binary for Bernoulli units, finite always) by a graph assertion, which
        raises `InvalidArgumentError` naming the problem. Under
        `jit_compile=True` XLA drops assertions, so `fit` also checks NumPy
        inputs up front (see `fit`).
        """
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        v = self._flatten(x)
        if keras.backend.backend() == "tensorflow" and not _backend.in_xla_context():
            import tensorflow as tf

            with tf.control_dependencies(
                [tf.debugging.Assert(self._valid_batch(v), [self._invalid_message()])]
            ):
                v = tf.identity(v)
        return v

    def _invalid_message(self):
        return "Expected finite visible values. Received NaN or Inf."

    def _negative_phase_start(self, v, ph_data):
        """The hidden states the k Gibbs steps of the negative phase start from.

        PCD: this replica's share of the persistent chains (all of them on one
        device; rows `distribute.replica_slice(n_chains)` under a strategy).
        """
        if self.persistent:
            chains = ops.convert_to_tensor(self.persistent_hidden)
            start, stop = distribute.replica_slice(self.n_chains)
            if distribute.num_replicas() == 1:
                return chains
            return chains[start:stop]
        return bernoulli(ph_data, self.seed_generator)

    def _global_batch_sums(self, *values):
        """(N, [Σ_i t_i for t in values]) over the global batch of N examples.

        Each t is (batch, ...) on this replica; the sums are all-reduced over
        the replicas (one all-reduce), so every replica gets the global ones.
        """
        dtype = self.data_count.dtype
        batch = ops.cast(ops.shape(values[0])[0], dtype)
        if distribute.num_replicas() == 1:
            return batch, [ops.sum(ops.cast(t, dtype), axis=0) for t in values]
        sums = [ops.reshape(ops.sum(ops.cast(t, dtype), axis=0), (-1,)) for t in values]
        sizes = [int(np.prod(t.shape[1:])) for t in values]
        total = distribute.all_reduce_sum(ops.concatenate([ops.reshape(batch, (1,))] + sums, 0))
        out, offset = [], 1
        for t, size in zip(values, sizes):
            out.append(ops.reshape(total[offset : offset + size], t.shape[1:]))
            offset += size
        return total[0], out

    def _update_data_statistics(self, v):
        """Running mean of every training example seen: mu_N = mu_{N-B} + B/N (mean_B - mu_{N-B}).

        B and mean_B are those of the global batch (all replicas), so the
        statistics are the same on every replica and as on one device.

        Returns:
            B, the global batch size (a float scalar tensor).
        """
        batch, (total,) = self._global_batch_sums(v)
        self._update_running_mean(batch, total)
        return batch

    def _update_running_mean(self, batch, total):
        """data_mean and data_count from a global batch of `batch` rows summing to `total`."""
        count = self.data_count + batch
        self.data_mean.assign(self.data_mean + (total / batch - self.data_mean) * (batch / count))
        self.data_count.assign(count)

    def train_step(self, data):
        """One CD-k / PCD-k update; returns the metrics.

        Positive phase: P(h | v_data). Negative phase: k block Gibbs steps from
        h ~ P(h | v_data) (CD) or from the persistent chains (PCD), ending in
        v_model and P(h | v_model). The optimizer minimises
        L = <F(v)>_data - <F(v)>_model + weight_decay/2 ||W||^2, whose
        gradient is minus the log-likelihood gradient (positive phase minus
        negative phase) plus the weight decay. With PCD the positive-phase and
        the final negative-phase hidden activations are one matmul
        [v_data; v_model] W of 2 x batch rows, and the kernel gradient is one
        more, s([v_data; v_model])^T (row_weight * [P(h|v_data); P(h|v_model)]).
        The metrics are estimated on the first tenth of the batch of every
        tenth step (in a `cond`: the other steps skip their ops).

        Under a `tf.distribute` strategy with R replicas, replica r holds n_r
        of the B examples of the global batch and its share of the M chains
        (PCD; M = B for CD). Its rows are weighted -1/B and +1/M, so the
        optimizer's all-reduced (summed) gradient is the single-device
        gradient of the global batch (the weight-decay term, which each
        replica adds in full, is divided by R). The data statistics and the
        chains are all-reduced, so every replica holds the same values.
        """
        if self._minibatch_size is not None:
            return self._train_chunk(data)
        v, batch, n_monitor, global_batch = self._begin_step(data)
        dtype = self.compute_dtype

        if self.persistent:
            v_model, _ = self._negative_chain(self._negative_phase_start(v, None))
            n_model = ops.shape(v_model)[0]
            rows = ops.concatenate([v, v_model], axis=0)
            pre = self.compute_hidden_logits(rows)  # (B + M, H)
            ph = ops.sigmoid(pre)
            pre_data, ph_data, ph_model = pre[:batch], ph[:batch], ph[batch:]
            # This replica's chains, assembled with the others' (n_chains, H).
            self.persistent_hidden.assign(
                distribute.gather_replica_slices(
                    bernoulli(ph_model, self.seed_generator), self.n_chains
                )
            )

            def reconstruct():
                # E[v | h ~ P(h|v)] of the monitored rows only.
                return self.compute_visible_mean(
                    bernoulli(ph_data[:n_monitor], self.seed_generator)
                )
        else:
            pre_data = self.compute_hidden_logits(v)
            ph_data = ops.sigmoid(pre_data)
            v_model, first_mean = self._negative_chain(self._negative_phase_start(v, ph_data))

            def reconstruct():
                return first_mean[:n_monitor]  # CD's first step gives it

            n_model = ops.shape(v_model)[0]
            rows = ops.concatenate([v, v_model], axis=0)
            ph_model = ops.sigmoid(self.compute_hidden_logits(v_model))
            ph = ops.concatenate([ph_data, ph_model], axis=0)

        # Monitor this step? Every _MONITOR_EVERY-th, and the first after a reset.
        monitor = ops.logical_or(
            ops.equal(ops.mod(self.optimizer.iterations, _MONITOR_EVERY), 0),
            ops.equal(self.metric_tracker.count, 0.0),
        )
        global_model = ops.cast(self.n_chains, dtype) if self.persistent else global_batch
        self._contrastive_update(rows, ph, batch, n_model, global_batch, global_model)

        def monitored():
            return self._metric_values(
                v[:n_monitor], pre_data[:n_monitor], v[:n_monitor], reconstruct()
            )

        def skipped():
            return ops.zeros((n_monitor, len(self.metric_names)), dtype)

        values = ops.cond(monitor, monitored, skipped)
        self.metric_tracker.update_state(values, weight=ops.cast(monitor, dtype))
        return distribute.step_outputs(self.metric_tracker.result())

    def _negative_chain(self, h):
        """The k block Gibbs steps of the negative phase, from hidden states h.

        v_1 ~ P(v | h), then k - 1 times h ~ P(h | v), v ~ P(v | h); returns
        (v_k, E[v_1 | h]).
        """
        v_model, first_mean = self.draw_visible(h, self.seed_generator)
        for _ in range(self.k - 1):
            h = bernoulli(ops.sigmoid(self.compute_hidden_logits(v_model)), self.seed_generator)
            v_model, _ = self.draw_visible(h, self.seed_generator)
        return v_model, first_mean

    def _begin_step(self, data):
        """The checked batch v of a training step, and (n_r, n_monitor, B).

        n_r is this replica's number of examples, n_monitor the rows the
        metrics use, B the global batch size (float); the running data
        statistics are updated with the global batch.
        """
        v = self._checked_batch(data)
        batch = ops.shape(v)[0]
        n_monitor = ops.maximum(batch // _MONITOR_FRACTION, 1)
        global_batch = ops.cast(self._update_data_statistics(v), self.compute_dtype)
        return v, batch, n_monitor, global_batch

    def _contrastive_update(self, rows, ph, batch, n_model, global_batch, global_model):
        """Apply the CD gradient of `rows` = [v_data; v_model] with P(h|rows) = `ph`.

        The rows are weighted -1/B (the `batch` data rows) and +1/M (the
        `n_model` model rows), B and M counted over the global batch and all
        the chains, so that the replicas' summed gradient is the
        single-device gradient; plus the L2 weight decay.
        """
        dtype = self.compute_dtype
        row_weight = ops.concatenate(
            [
                ops.full((batch,), -1.0 / global_batch, dtype=dtype),
                ops.full((n_model,), 1.0 / global_model, dtype=dtype),
            ],
            axis=0,
        )
        grads = self._gradient(rows, ph, row_weight)
        if self.weight_decay:
            # L2 penalty weight_decay/2 ||W||^2 added to the loss (its gradient
            # divided by R, as the replicas' gradients are summed).
            grads[0] = grads[0] + distribute.scale_loss_for_distribution(
                self.weight_decay * self.kernel
            )
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))

    def _train_chunk(self, data):
        """CD/PCD updates on consecutive mini-batches of one chunk, in one compiled loop.

        `fit` on NumPy data hands the step chunks of `steps_per_execution`
        mini-batches as `(rows, x)`, the indices of the chunk's rows and the
        whole data set (see `_arrays.row_chunks`); this runs `train_step`
        on each mini-batch of `_minibatch_size` rows in turn (a last, smaller
        one for the rows left over), gathering its rows itself: exactly the
        updates Keras's own loop would make, without a `tf.data` fetch and a
        function call per mini-batch. Every slice has a size known when XLA
        compiles the chunk, so under `jit_compile=True` the whole chunk is one
        XLA loop.
        """
        rows, x = data
        size = self._minibatch_size
        n = ops.shape(rows)[0]  # a Python int, or a tensor XLA knows when it compiles
        n_full = n // size
        # Mini-batches of min(size, n) rows: a chunk smaller than one mini-batch
        # makes no full update, but XLA still compiles the loop body.
        full = min(size, n) if isinstance(n, int) else ops.minimum(size, n)

        def batch(start, length):
            return ops.take(x, ops.slice(rows, (start,), (length,)), axis=0)

        def one_update(i, carry):
            self.train_step(batch(i * size, full))
            return carry + 1

        def last_update():
            self.train_step(batch(n_full * size, n - n_full * size))
            return ops.zeros((), "int32")

        self._minibatch_size = None  # trace the per-mini-batch step inside the loop
        try:
            ops.fori_loop(0, n_full, one_update, ops.zeros((), "int32"))
            left = n - n_full * size
            if isinstance(left, int):
                if left:
                    last_update()
            else:
                ops.cond(left > 0, last_update, lambda: ops.zeros((), "int32"))
        finally:
            self._minibatch_size = size
        return distribute.step_outputs(self.metric_tracker.result())

    def test_step(self, data):
        """Metrics on held-out data: reconstruction error, F(v), and more."""
        v = self._checked_batch(data)
        pre = self.compute_hidden_logits(v)
        h = bernoulli(ops.sigmoid(pre), self.seed_generator)
        self.metric_tracker.update_state(
            self._metric_values(v, pre, v, self.compute_visible_mean(h))
        )
        return distribute.step_outputs(self.metric_tracker.result())

    # Names of the columns of `_metric_values`, in order.
    metric_names = ("reconstruction_error", "free_energy")

    def _metric_values(self, v, pre, rec_target, reconstruction):
        """Per-example metrics, shape (batch, len(metric_names)).

        reconstruction_error: mean squared error per visible unit between v
        and E[v | h ~ P(h|v)]; free_energy: F(v).
        """
        free_energy = self.visible_energy(v) - ops.sum(ops.softplus(pre), axis=-1)
        error = ops.mean(ops.square(rec_target - reconstruction), axis=-1)
        return ops.stack([error, free_energy], axis=1)

    @property
    def metrics(self):
        return [self.metric_tracker]

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        **kwargs,
    ):
        """`keras.Model.fit`, with the data's values checked up front.

        NumPy (or list) inputs are checked here, eagerly, with messages that
        say what was expected and received: the number of visible units,
        finite values, and binary values for a `BernoulliRBM`. Datasets are
        checked batch by batch inside the step (shapes when it is traced,
        values by graph assertions; those are dropped under
        `jit_compile=True`, so check such data yourself).

        When `validation_data` is given, a `FreeEnergyGap` callback is added
        (unless one is already present) so that every epoch also reports
        `free_energy_gap` = <F>_held-out - <F>_train.
        """
        if isinstance(x, (np.ndarray, list)):
            x = self._validate("x", x)
        held_out = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                first = validation_data[0]
            else:
                first = validation_data
            if isinstance(first, (np.ndarray, list)):
                held_out = self._validate("validation_data", first)
                if isinstance(validation_data, (tuple, list)):
                    validation_data = (held_out,) + tuple(validation_data[1:])
                else:
                    validation_data = held_out
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        chunked = self._use_chunks(x, y, kwargs)
        own_pipeline = chunked or _arrays.own_pipeline_applies(self, x, y, kwargs)
        if own_pipeline:
            batch_size = 32 if batch_size is None else batch_size
            if validation_split and validation_data is None:  # Keras: validation_data wins
                # Keras's split (the last fraction, before shuffling), done here
                # because `fit` is handed a dataset below.
                x, validation_data = _arrays.split_for_validation(x, validation_split)
        callbacks = list(callbacks or [])
        if validation_data is not None:
            from keras_genmodels.rbm.callbacks import FreeEnergyGap

            if not any(isinstance(cb, FreeEnergyGap) for cb in callbacks):
                gap = FreeEnergyGap.from_data(x, validation_data, n=1000)
                if gap is not None:
                    callbacks.append(gap)
        if not own_pipeline:
            return super().fit(
                x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                validation_split=validation_split, validation_data=validation_data, **kwargs,
            )
        # NumPy data: batched here, without tf.data's autotuning (`_arrays`).
        kwargs["validation_batch_size"] = kwargs.get("validation_batch_size") or batch_size
        validation_data = _arrays.validation_batches(validation_data, kwargs["validation_batch_size"])
        shuffle = kwargs.pop("shuffle", True)
        seed = _arrays.seed_from_state(self.seed_generator)
        fit_args = dict(epochs=epochs, verbose=verbose, callbacks=callbacks,
                        validation_data=validation_data, shuffle=False, **kwargs)
        if not chunked:
            return super().fit(_arrays.batches(x, batch_size, shuffle, seed), **fit_args)
        chunks = _arrays.row_chunks(x, batch_size * self.steps_per_execution, shuffle, seed)
        with self._chunked_training(batch_size):
            return super().fit(chunks, **fit_args)

    @contextlib.contextmanager
    def _chunked_training(self, minibatch):
        """Keras runs one chunk of `steps_per_execution` mini-batches per call.

        Inside, `train_step` is `_train_chunk` for mini-batches of `minibatch`
        rows, Keras's own `steps_per_execution` is 1 (one chunk per call of
        its train function, so callbacks and the progress bar see chunks), and
        XLA compiles the chunk when `jit_compile="auto"`. The compiled chunk
        function is kept for the next `fit` with the same settings; Keras's
        other functions are restored on the way out.
        """
        jit = self.jit_compile if self._jit_request != "auto" else (
            keras.backend.backend() == "tensorflow"
        )
        key = (minibatch, self.steps_per_execution, jit)
        saved = (self.steps_per_execution, self.jit_compile, self.train_function, self.test_function)
        cached_key, cached_function = self._chunk_train_function or (None, None)
        self._minibatch_size = minibatch
        self.steps_per_execution = 1
        self.jit_compile = jit
        self.train_function = cached_function if cached_key == key else None
        self.test_function = None
        try:
            yield
        finally:
            self._chunk_train_function = (key, self.train_function)
            self._minibatch_size = None
            self.steps_per_execution, self.jit_compile, self.train_function, self.test_function = (
                saved
            )

    def _use_chunks(self, x, y, fit_kwargs):
        """Whether `fit` trains on chunks of `steps_per_execution` mini-batches.

        For in-memory NumPy data (checked by `fit`) on one device, `fit`
        feeds the data in chunks of `steps_per_execution` mini-batches
        (`_arrays.row_chunks`) and `train_step` loops over the
        mini-batches of each chunk inside one compiled function
        (`_train_chunk`): the same updates, in the same order, as Keras's
        multi-step loop over mini-batches, without a `tf.data` fetch per
        mini-batch, and compiled by XLA as one loop. Off where
        `_arrays.own_pipeline_applies` is (datasets, targets `y`,
        `sample_weight`, `class_weight`, `steps_per_epoch`, `shuffle="batch"`,
        any tf.distribute strategy, even of one replica: the optimizer's
        cross-replica update, a merge_call, cannot run inside the chunk's
        loop), for `steps_per_execution` = 1 and for eager runs.
        """
        if self.steps_per_execution <= 1 or self.run_eagerly:
            return False
        return _arrays.own_pipeline_applies(self, x, y, fit_kwargs)

    # ------------------------------------------------------------------
    # Public eager methods (validated inputs, NumPy outputs).
    # ------------------------------------------------------------------
    def _validate(self, name, x, mean_field=False):
        """Check a user batch eagerly; return it as a (batch, n_visible) array."""
        arr = check_array(name, x)
        if arr.ndim < 2 or int(np.prod(arr.shape[1:])) != self.n_visible:
            raise ValueError(
                f"`{name}` must have {self.n_visible} visible units per example "
                f"(shape (batch, {self.n_visible}) or (batch, ...) with "
                f"{self.n_visible} features). Received: shape={arr.shape}"
            )
        self._check_visible_values(name, arr, mean_field=mean_field)
        return arr.reshape(arr.shape[0], self.n_visible)

    def _map(self, fn, x, batch_size=4096):
        """Apply a keras.ops function to `x` in batches; return NumPy."""
        out = [
            ops.convert_to_numpy(
                fn(ops.convert_to_tensor(x[i : i + batch_size], self.compute_dtype))
            )
            for i in range(0, x.shape[0], batch_size)
        ]
        return np.concatenate(out, axis=0)

    def _reseed(self, seed):
        if check_seed("seed", seed) is not None:
            self.sampling_seed_generator.state.assign(
                ops.convert_to_tensor(
                    [int(seed), 0], dtype=self.sampling_seed_generator.state.dtype
                )
            )

    def free_energy(self, v):
        """F(v) = -log sum_h exp(-E(v, h)) in closed form, one value per example.

        Args:
            v: visible vectors, shape (batch, n_visible) or (batch, ...).

        Returns:
            NumPy array of shape (batch,).
        """
        v = self._validate("v", v)
        return self._map(self.compute_free_energy, v)

    def energy(self, v, h):
        """E(v, h) for paired visible and hidden configurations, shape (batch,)."""
        v = self._validate("v", v)
        h = check_array("h", h, feature_shape=(self.n_hidden,), binary=True)
        if h.shape[0] != v.shape[0]:
            raise ValueError(
                f"`v` and `h` must have the same batch size. "
                f"Received: {v.shape[0]} and {h.shape[0]}"
            )
        return ops.convert_to_numpy(
            self.compute_energy(
                ops.convert_to_tensor(v, self.compute_dtype),
                ops.convert_to_tensor(h, self.compute_dtype),
            )
        )

    def hidden_probabilities(self, v):
        """P(h_j = 1 | v) = sigmoid(c_j + (s(v) W)_j): the feature transform.

        Like scikit-learn's `BernoulliRBM.transform`; a `BernoulliRBM` also
        accepts mean-field inputs in [0, 1] here.

        Returns:
            NumPy array of shape (batch, n_hidden).
        """
        v = self._validate("v", v, mean_field=True)
        return self._map(lambda t: ops.sigmoid(self.compute_hidden_logits(t)), v)

    def sample_hidden(self, v, seed=None):
        """A draw h ~ P(h | v), h_j = 1[u_j < P(h_j = 1 | v)], shape (batch, n_hidden)."""
        v = self._validate("v", v)
        self._reseed(seed)
        return self._map(
            lambda t: bernoulli(
                ops.sigmoid(self.compute_hidden_logits(t)), self.sampling_seed_generator
            ),
            v,
        )

    def sample_visible(self, h, seed=None):
        """A draw v ~ P(v | h), shape (batch, n_visible)."""
        h = check_array("h", h, feature_shape=(self.n_hidden,), binary=True)
        self._reseed(seed)
        return self._map(lambda t: self.draw_visible(t, self.sampling_seed_generator)[0], h)

    def visible_mean(self, h):
        """E[v | h]: P(v_i = 1 | h) for binary units, b + W h for Gaussian ones."""
        h = check_array("h", h, feature_shape=(self.n_hidden,), min_value=0, max_value=1)
        return self._map(self.compute_visible_mean, h)

    def reconstruct(self, v, sample_hidden=False, seed=None):
        """E[v' | h] with h = P(h | v) (mean field) or h ~ P(h | v).

        Args:
            v: visible vectors.
            sample_hidden: whether to sample h instead of using its
                probabilities. Defaults to `False` (deterministic).
            seed: int seed when sampling. Defaults to `None`.
        """
        v = self._validate("v", v, mean_field=True)
        self._reseed(seed)

        def fn(t):
            ph = ops.sigmoid(self.compute_hidden_logits(t))
            if sample_hidden:
                ph = bernoulli(ph, self.sampling_seed_generator)
            return self.compute_visible_mean(ph)

        return self._map(fn, v)

    def _compiled_gibbs(self):
        if self._gibbs_fn is None:

            def chain(v, steps):
                def body(i, state):
                    v, _ = state
                    return self._gibbs_step(v, self.sampling_seed_generator)

                return ops.fori_loop(0, steps, body, (v, v))

            # Not XLA: TensorFlow's own random numbers, which the exported
            # `sample` signature (served without XLA) reproduces exactly.
            self._gibbs_fn = compile_function(chain, jit_compile=False)
        return self._gibbs_fn

    def gibbs(self, v, steps=1, seed=None, return_means=False):
        """Run `steps` sweeps of block Gibbs sampling v -> h -> v from `v`.

        Args:
            v: starting visible states, shape (batch, n_visible) or (batch, ...).
            steps: int >= 1, number of sweeps. Defaults to `1`.
            seed: int seed for reproducible chains. Defaults to `None`.
            return_means: whether to return E[v | h] of the last sweep instead
                of the sampled v. Defaults to `False`.

        Returns:
            NumPy array of shape (batch, n_visible).
        """
        v_new, mean = self._gibbs_both(v, steps, seed)
        return mean if return_means else v_new

    def _gibbs_both(self, v, steps, seed=None):
        """(sampled v, E[v | h]) after `steps` sweeps from `v`, as NumPy."""
        v = self._validate("v", v)
        steps = check_positive_int("steps", steps)
        self._reseed(seed)
        v_new, mean = self._compiled_gibbs()(
            ops.convert_to_tensor(v, self.compute_dtype),
            ops.convert_to_tensor(steps, "int32"),
        )
        return ops.convert_to_numpy(v_new), ops.convert_to_numpy(mean)

    def sample(self, n, steps=1000, seed=None, return_means=True):
        """Draw `n` samples by block Gibbs sampling from the base-rate model.

        Chains start from the data's base-rate model (independent units with
        the training data's means, tracked by `fit`) and run `steps` sweeps.

        Args:
            n: int, number of samples.
            steps: int, number of Gibbs sweeps. Defaults to `1000`.
            seed: int seed. Defaults to `None`.
            return_means: whether to return E[v | h] of the last sweep (smooth
                images) rather than the binary/noisy samples. Defaults to `True`.

        Returns:
            NumPy array of shape (n, n_visible).
        """
        n = check_positive_int("n", n, max_value=2**31 - 1)
        steps = check_positive_int("steps", steps)
        self._reseed(seed)
        base = self.ais_base(None)
        v0 = self._ais_sample_base(n, base, self.sampling_seed_generator)
        v_new, mean = self._compiled_gibbs()(v0, ops.convert_to_tensor(steps, "int32"))
        return ops.convert_to_numpy(mean if return_means else v_new)

    @property
    def persistent_chains(self):
        """E[v | h] of PCD's fantasy particles, shape (n_chains, n_visible)."""
        if not self.persistent:
            raise ValueError(
                "`persistent_chains` exists for PCD models only (persistent=True). "
                "Received: persistent=False (CD-k keeps no chains)."
            )
        return ops.convert_to_numpy(self.compute_visible_mean(self.persistent_hidden))

    # ------------------------------------------------------------------
    # Partition function and likelihood.
    # ------------------------------------------------------------------
    def log_partition_exact(self, chunk_size=2**14, max_states_log2=24):
        """log Z by exhaustive summation over the smaller layer, in chunks.

        See `keras_genmodels.rbm.partition.log_partition_exact`.
        """
        return partition.log_partition_exact(
            self, chunk_size=chunk_size, max_states_log2=max_states_log2
        )

    def log_partition_ais(self, data=None, betas=None, n_chains=100, seed=None):
        """log Z by annealed importance sampling, with an error bar.

        See `keras_genmodels.rbm.partition.log_partition_ais`.
        """
        return partition.log_partition_ais(
            self, data=data, betas=betas, n_chains=n_chains, seed=seed
        )

    def log_likelihood(self, data, log_z=None, method="auto", **ais_kwargs):
        """Mean log-likelihood <log p(v)> = -<F(v)> - log Z in nats per example.

        Args:
            data: visible vectors.
            log_z: a known log Z (float or `AISEstimate`); computed if `None`.
            method: `"exact"`, `"ais"` or `"auto"` (exact when the layer to
                enumerate has at most 20 units, else AIS). Defaults to `"auto"`.
            **ais_kwargs: passed to `log_partition_ais`.
        """
        return partition.log_likelihood(
            self, data, log_z=log_z, method=method, **ais_kwargs
        )

    # ------------------------------------------------------------------
    def _seed_generators_to_save(self):
        return {"seed_state": self.seed_generator, "sampling_seed_state": self.sampling_seed_generator}

    def save_own_variables(self, store):
        """Save the weights, and the random-number generators' states too.

        Keras does not save `SeedGenerator` states; a loaded model would then
        replay the random stream of its first training steps. Saving them makes
        resumed (P)CD training continue its stream.
        """
        super().save_own_variables(store)
        for key, generator in self._seed_generators_to_save().items():
            store[key] = generator.state

    def load_own_variables(self, store):
        keys = set(store.keys())
        extra = set(self._seed_generators_to_save())
        super().load_own_variables({k: store[k] for k in keys - extra})
        for key, generator in self._seed_generators_to_save().items():
            if key in keys:  # absent from files written before this was saved
                generator.state.assign(store[key])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_visible": self.n_visible,
                "n_hidden": self.n_hidden,
                "k": self.k,
                "persistent": self.persistent,
                "n_chains": self.n_chains,
                "weight_decay": self.weight_decay,
                "seed": self.seed,
            }
        )
        return config

