"""The CD-k / PCD-k training step of a restricted Boltzmann machine.

The gradient of the mean log-likelihood is the positive phase minus the
negative phase,

    d<log p(v)>_data / d theta = <-dF/d theta>_data - <-dF/d theta>_model,

where the model expectation is estimated by k steps of block Gibbs sampling,
started at the data (CD-k, Hinton 2002) or from persistent fantasy particles
(PCD-k, Tieleman 2008). The optimizer minimises

    L = <F(v)>_data - <F(v)>_model + weight_decay/2 ||W||^2

with the samples held fixed, whose gradient is minus that (plus the weight
decay); the subclasses give it in closed form (`contrastive_gradient`).

`ContrastiveDivergence` is the part of `RestrictedBoltzmannMachine` that holds
the step (`train_step`, `test_step`), the metrics and `compile`. The TensorFlow
specific part is only the graph assertion on a batch's values.
"""

import keras
import numpy as np
from keras import ops

from keras_genmodels import distribute
from keras_genmodels.sampling.backend import bernoulli, in_xla_context

# The training metrics are estimated on the first 1/MONITOR_FRACTION of the
# batch of every MONITOR_EVERY-th step (and of the first step after each
# reset of the metrics): with PCD the reconstruction error would otherwise
# cost one more full matmul per step (+25%), and the ~30 small ops of the
# metrics cost ~10% of a batch-100 step. Evaluation (test_step) uses every
# example.
MONITOR_FRACTION = 10
MONITOR_EVERY = 10


class PerExampleMeans(keras.metrics.Metric):
    """Running means of several per-example quantities, reported by name.

    `update_state(values)` takes a (batch, len(names)) tensor; `result()` is
    a dict {name: mean}, which Keras spreads into the logs. One tracker for
    all of a step's metrics: a third of the small ops of three
    `keras.metrics.Mean`s, which matters at batch 100.

    Args:
        names: the names of the columns.
        name: the metric's name. Defaults to `"per_example_means"`.
        dtype: the metric's dtype. Defaults to `None`.
    """

    def __init__(self, names, name="per_example_means", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.names = tuple(names)
        self.total = self.add_variable(shape=(len(self.names),), initializer="zeros", name="total")
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


class ContrastiveDivergence:
    """The CD-k / PCD-k step, its metrics and `compile`, for `RestrictedBoltzmannMachine`."""

    # Names of the columns of `metric_values`, in order.
    metric_names = ("reconstruction_error", "free_energy")

    # ------------------------------------------------------------ compile
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
                chunked training loop that `fit` runs on NumPy data
                (`keras_genmodels.rbm.chunked`) with XLA on every device,
                where it is ~1.6x faster than TensorFlow's graph executor on
                a CPU, and leaves the other cases to Keras (XLA on a GPU, not
                on a CPU). The setting is saved with the model as given.
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
        self.jit_request = kwargs["jit_compile"]
        # Save the request, not Keras's resolution of "auto" on this machine.
        self._compile_config.config["jit_compile"] = self.jit_request
        self.forget_compiled_chunks()

    def forget_compiled_chunks(self):
        """Hook of the chunked `fit` (`rbm.chunked`): drop compiled functions of an earlier `compile`."""

    # ---------------------------------------------------------- the batch
    def checked_batch(self, data):
        """The visible batch of `data`, flattened, with its values asserted.

        Shapes are checked when the step is traced (a `ValueError`); values
        (binary for Bernoulli units, finite always) by a graph assertion, which
        raises `InvalidArgumentError` naming the problem. Under
        `jit_compile=True` XLA drops assertions, so `fit` also checks NumPy
        inputs up front.
        """
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        v = self.flatten_visible(x)
        if keras.backend.backend() == "tensorflow" and not in_xla_context():
            import tensorflow as tf

            with tf.control_dependencies(
                [tf.debugging.Assert(self.valid_batch(v), [self.invalid_batch_message()])]
            ):
                v = tf.identity(v)
        return v

    # --------------------------------------------------------- the step
    def train_step(self, data):
        """One CD-k / PCD-k update on the batch of `data`; returns the metrics."""
        return self.contrastive_step(self.checked_batch(data))

    def contrastive_step(self, v):
        """One CD-k / PCD-k update on the checked visible batch `v`; returns the metrics.

        Positive phase: P(h | v_data). Negative phase: k block Gibbs steps from
        h ~ P(h | v_data) (CD) or from the persistent chains (PCD), ending in
        v_model and P(h | v_model). With PCD the positive-phase and the final
        negative-phase hidden activations are one matmul [v_data; v_model] W
        of 2 x batch rows, and the kernel gradient is one more,
        s([v_data; v_model])^T (row_weight * [P(h|v_data); P(h|v_model)]).
        The metrics are estimated on the first tenth of the batch of every
        tenth step (`monitor`).

        Under a `tf.distribute` strategy with R replicas, replica r holds n_r
        of the B examples of the global batch and its share of the M chains
        (PCD; M = B for CD). Its rows are weighted -1/B and +1/M, so the
        optimizer's all-reduced (summed) gradient is the single-device
        gradient of the global batch (the weight-decay term, which each
        replica adds in full, is divided by R). The data statistics and the
        chains are all-reduced, so every replica holds the same values.
        """
        batch, n_monitor, global_batch = self.begin_step(v)
        if self.persistent:
            v_model, _ = self._negative_chain(self._negative_phase_start(None))
            n_model = ops.shape(v_model)[0]
            rows = ops.concatenate([v, v_model], axis=0)
            pre = self.compute_hidden_logits(rows)  # (B + M, H)
            ph = ops.sigmoid(pre)
            pre_data, ph_data, ph_model = pre[:batch], ph[:batch], ph[batch:]
            # This replica's chains, assembled with the others' (n_chains, H).
            self.persistent_hidden.assign(
                distribute.gather_replica_slices(bernoulli(ph_model, self.seed_generator), self.n_chains)
            )

            def reconstruct():
                # E[v | h ~ P(h|v)] of the monitored rows only.
                return self.compute_visible_mean(bernoulli(ph_data[:n_monitor], self.seed_generator))

            global_model = ops.cast(self.n_chains, self.compute_dtype)
        else:
            pre_data = self.compute_hidden_logits(v)
            ph_data = ops.sigmoid(pre_data)
            v_model, first_mean = self._negative_chain(self._negative_phase_start(ph_data))

            def reconstruct():
                return first_mean[:n_monitor]  # CD's first step gives it

            n_model = ops.shape(v_model)[0]
            rows = ops.concatenate([v, v_model], axis=0)
            ph = ops.concatenate([ph_data, ops.sigmoid(self.compute_hidden_logits(v_model))], axis=0)
            global_model = global_batch
        # Decided before the update, which advances the optimizer's step count.
        monitor = self.monitor_this_step()
        self.contrastive_update(rows, ph, batch, n_model, global_batch, global_model)
        return self.monitor(monitor, v[:n_monitor], pre_data[:n_monitor], reconstruct)

    def _negative_phase_start(self, ph_data):
        """The hidden states the k Gibbs steps of the negative phase start from.

        CD: h ~ P(h | v_data). PCD: this replica's share of the persistent
        chains (all of them on one device; rows
        `distribute.replica_slice(n_chains)` under a strategy).
        """
        if not self.persistent:
            return bernoulli(ph_data, self.seed_generator)
        chains = ops.convert_to_tensor(self.persistent_hidden)
        if distribute.num_replicas() == 1:
            return chains
        start, stop = distribute.replica_slice(self.n_chains)
        return chains[start:stop]

    def _negative_chain(self, h):
        """The k block Gibbs steps of the negative phase, from hidden states h.

        v_1 ~ P(v | h), then k - 1 times h ~ P(h | v), v ~ P(v | h); returns
        (v_k, E[v_1 | h]).
        """
        v_model, first_mean = self.draw_visible(h, self.seed_generator)
        for _ in range(self.k - 1):
            v_model, _ = self.draw_visible(self.draw_hidden(v_model, self.seed_generator), self.seed_generator)
        return v_model, first_mean

    def begin_step(self, v):
        """`(n_r, n_monitor, B)` of a step on the checked batch `v`; updates the data statistics.

        n_r is this replica's number of examples, n_monitor the rows the
        metrics use, B the global batch size (float); the running data
        statistics are updated with the global batch.
        """
        batch = ops.shape(v)[0]
        n_monitor = ops.maximum(batch // MONITOR_FRACTION, 1)
        global_batch = ops.cast(self.update_data_statistics(v), self.compute_dtype)
        return batch, n_monitor, global_batch

    def contrastive_update(self, rows, ph, batch, n_model, global_batch, global_model):
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
        grads = self.contrastive_gradient(rows, ph, row_weight)
        if self.weight_decay:
            # L2 penalty weight_decay/2 ||W||^2 added to the loss (its gradient
            # divided by R, as the replicas' gradients are summed).
            grads[0] = grads[0] + distribute.scale_loss_for_distribution(self.weight_decay * self.kernel)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))

    # ------------------------------------------------------ statistics
    def global_batch_sums(self, *values):
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

    def update_data_statistics(self, v):
        """Running mean of every training example seen: mu_N = mu_{N-B} + B/N (mean_B - mu_{N-B}).

        B and mean_B are those of the global batch (all replicas), so the
        statistics are the same on every replica and as on one device.

        Returns:
            B, the global batch size (a float scalar tensor).
        """
        batch, (total,) = self.global_batch_sums(v)
        self.update_running_mean(batch, total)
        return batch

    def update_running_mean(self, batch, total):
        """data_mean and data_count from a global batch of `batch` rows summing to `total`."""
        count = self.data_count + batch
        self.data_mean.assign(self.data_mean + (total / batch - self.data_mean) * (batch / count))
        self.data_count.assign(count)

    # ---------------------------------------------------------- metrics
    @property
    def metrics(self):
        return [self.metric_tracker]

    def monitor_this_step(self):
        """Whether this step estimates the metrics: every `MONITOR_EVERY`-th, and the first after a reset."""
        return ops.logical_or(
            ops.equal(ops.mod(self.optimizer.iterations, MONITOR_EVERY), 0),
            ops.equal(self.metric_tracker.count, 0.0),
        )

    def monitor(self, monitor, v, pre, reconstruct):
        """Update the metrics with the rows `v` (logits `pre`) when `monitor`; return the logs.

        `reconstruct()` gives E[v | h ~ P(h|v)] of those rows; inside a `cond`,
        so that the steps that do not monitor skip every metric op.
        """
        dtype = self.compute_dtype

        def monitored():
            return self.metric_values(v, pre, v, reconstruct())

        def skipped():
            return ops.zeros((ops.shape(v)[0], len(self.metric_names)), dtype)

        values = ops.cond(monitor, monitored, skipped)
        self.metric_tracker.update_state(values, weight=ops.cast(monitor, dtype))
        return distribute.step_outputs(self.metric_tracker.result())

    def metric_values(self, v, pre, rec_target, reconstruction):
        """Per-example metrics, shape (batch, len(metric_names)).

        reconstruction_error: mean squared error per visible unit between v
        and E[v | h ~ P(h|v)]; free_energy: F(v).
        """
        free_energy = self.visible_energy(v) - ops.sum(ops.softplus(pre), axis=-1)
        error = ops.mean(ops.square(rec_target - reconstruction), axis=-1)
        return ops.stack([error, free_energy], axis=1)

    def test_step(self, data):
        """Metrics on held-out data, on every example: reconstruction error, F(v), and more."""
        v = self.checked_batch(data)
        pre = self.compute_hidden_logits(v)
        h = bernoulli(ops.sigmoid(pre), self.seed_generator)
        self.metric_tracker.update_state(self.metric_values(v, pre, v, self.compute_visible_mean(h)))
        return distribute.step_outputs(self.metric_tracker.result())

    # ------------------------------------------------------------- fit
    def check_training_data(self, x, name="x"):
        """NumPy training data checked eagerly: the number of visible units, finite, binary where needed."""
        return self.check_visible(name, x)

    def fit_callbacks(self, x, validation_data, callbacks):
        """Adds a `FreeEnergyGap` (the overfitting monitor) when there is `validation_data`."""
        if validation_data is None:
            return callbacks
        from keras_genmodels.rbm.callbacks import FreeEnergyGap

        if not any(isinstance(cb, FreeEnergyGap) for cb in callbacks):
            gap = FreeEnergyGap.from_data(x, validation_data, n=1000)
            if gap is not None:
                callbacks.append(gap)
        return callbacks
