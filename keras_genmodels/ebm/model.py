"""`EnergyBasedModel`: p(x) = exp(−E_θ(x)) / Z with E_θ a neural network, trained by Langevin chains.

The log-likelihood gradient of an energy-based model is a positive phase on
the data minus a negative phase on the model's own samples,

    ∇_θ log p(x) = −∇_θ E_θ(x) + E_{x' ~ p_θ}[∇_θ E_θ(x')]

(the second term is ∇_θ log Z). Each step estimates the expectation with
samples from short Langevin chains (`keras_genmodels.sampling.langevin_steps`)
started from a replay buffer of earlier samples, a fraction restarted from
uniform noise (Du & Mordatch 2019), and descends

    L = mean_i E(x_i) − mean_j E(x'_j) + α (mean_i E(x_i)² + mean_j E(x'_j)²),

the contrastive term whose gradient is the negative log-likelihood gradient
above, plus a penalty that keeps the energies near 0 (without it nothing
stops both energies from drifting together).
"""

import keras
import numpy as np
from keras import ops

from keras_genmodels import _validation as v
from keras_genmodels import distribute
from keras_genmodels.ebm.networks import conv_energy_network, mlp_energy_network
from keras_genmodels.generative_model import GenerativeModel
from keras_genmodels.sampling import backend
from keras_genmodels.sampling.langevin import langevin_steps

ARCHITECTURES = ("auto", "conv", "mlp")
MAX_BUFFER = 2**24
MAX_BUFFER_VALUES = 2**28  # buffer_size x values per example: 1 GiB of float32
MAX_UNITS = 2**16


def _check_hidden_units(hidden_units):
    if isinstance(hidden_units, (str, bytes, dict)) or not hasattr(hidden_units, "__iter__"):
        raise ValueError(
            f"`hidden_units` must be a sequence of positive ints. Received: hidden_units={hidden_units!r}"
        )
    return tuple(v.check_positive_int("hidden_units", u, max_value=MAX_UNITS) for u in hidden_units)


def _check_range(data_range):
    try:
        lo, hi = (float(b) for b in data_range)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(
            f"`data_range` must be (low, high) with finite low < high. Received: data_range={data_range!r}"
        )
    return lo, hi


def _check_data_shape(data_shape):
    try:
        shape = tuple(int(d) for d in data_shape)
        ok = len(shape) >= 1 and all(d >= 1 for d in shape) and all(
            not isinstance(d, bool) and float(d) == int(d) for d in data_shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "`data_shape` must be the shape of one example, a tuple of positive ints such as (32, 32, 1) or (2,). "
            f"Received: data_shape={data_shape!r}"
        )
    return shape


@keras.saving.register_keras_serializable(package="keras_genmodels")
class EnergyBasedModel(GenerativeModel):
    """A deep energy-based model p(x) ∝ exp(−E_θ(x)), trained by `fit` with Langevin negative samples.

    Each training step:

    1. the data x get Gaussian noise of standard deviation `data_noise` and
       are clipped to `data_range` (Foster's recipe: smooths the data
       distribution that the energy must fit);
    2. the negative phase draws one buffer slot per example without
       replacement; each chain starts from its slot's sample or, with
       probability `restart_fraction`, from uniform noise on `data_range`,
       and runs `steps` Langevin steps (`sampling.langevin_steps`: the
       gradient clipped to ±`grad_clip`, noise `noise_scale`, the states
       clipped to `data_range`; with `metropolis=True` MALA steps instead);
       the final states x' go back into their slots;
    3. one optimizer step on L = mean E(x) − mean E(x') + α (mean E(x)² +
       mean E(x')²), with x' held fixed (no gradient through the chains).

    The replay buffer is a non-trainable variable, saved in the `.keras`
    file: `fit` after loading continues with the same negative samples.
    Under a `tf.distribute` strategy the replicas draw their slots from one
    permutation (no two replicas share a slot) and every replica writes all
    the replicas' new samples, so the buffer stays identical everywhere; the
    loss of each replica is its examples' sum over the global batch size.

    Metrics: `loss`, `energy_data` (mean E of the data), `energy_model`
    (mean E of the negative samples), `energy_gap` (energy_model −
    energy_data), `regularizer` (α (E² + E'²) per example) and, with MALA,
    `acceptance_rate`.

    Args:
        data_shape: the shape of one example, e.g. `(32, 32, 1)` or `(2,)`.
        energy_network: a Keras model from `(batch,) + data_shape` to
            `(batch, 1)` or `(batch,)`, or `None` for the default of
            `architecture`. Defaults to `None`.
        architecture: `"conv"` (Foster's network,
            `networks.conv_energy_network`), `"mlp"`
            (`networks.mlp_energy_network` with `hidden_units`) or `"auto"`
            (conv for images of rank 3, else mlp). Ignored when
            `energy_network` is given. Defaults to `"auto"`.
        hidden_units: widths of the MLP's hidden layers. Defaults to `(128, 128)`.
        data_range: `(low, high)`: the data's values lie in it, the chains are
            kept in it and restart from uniform noise on it. Defaults to `(-1.0, 1.0)`.
        buffer_size: samples kept in the replay buffer. Defaults to `8192`.
        restart_fraction: probability that a chain restarts from noise, in
            [0, 1]. Defaults to `0.05`.
        steps: Langevin steps per training step. Defaults to `60`.
        step_size: ε of the gradient term, x ← x − ε ∇E(x) + noise. Defaults to `10.0`.
        noise_scale: standard deviation of the Langevin noise, or `None` for
            √(2ε) (Langevin dynamics proper). Defaults to `0.005`.
        grad_clip: elementwise clip of ∇E in the chains, or `None`. Defaults to `0.03`.
        alpha: weight α of the energy penalty. Defaults to `0.1`.
        data_noise: standard deviation of the noise added to the data, ≥ 0.
            Defaults to `0.005`.
        metropolis: whether the chains are Metropolis-adjusted (MALA).
            Defaults to `False`.
        sample_steps: Langevin steps of `sample` from noise. Defaults to `1000`.
        seed: int or `None`: the initialisation of the network and the buffer,
            and every random draw. Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    The defaults are Foster's recipe for 32 x 32 images in [−1, 1]
    (*Generative Deep Learning*, 2nd ed., ch. 7).

    Example:

    ```python
    import numpy as np
    from keras_genmodels.ebm import EnergyBasedModel, toy

    x = toy.gaussian_mixture(2000, seed=0)
    model = EnergyBasedModel((2,), data_range=(-4, 4), step_size=0.01, noise_scale=None,
                             grad_clip=None, steps=20, data_noise=0.0, buffer_size=2000, seed=0)
    model.compile(optimizer="adam")
    model.fit(x, batch_size=200, epochs=1, verbose=0)
    samples = model.sample(100, steps=50, seed=1)   # (100, 2)
    ```

    References:
        Du & Mordatch 2019, "Implicit Generation and Generalization in
        Energy-Based Models", arXiv 1903.08689. Foster, *Generative Deep
        Learning*, 2nd ed., ch. 7. Welling & Teh 2011 (Langevin dynamics).
    """

    def __init__(
        self,
        data_shape,
        energy_network=None,
        architecture="auto",
        hidden_units=(128, 128),
        data_range=(-1.0, 1.0),
        buffer_size=8192,
        restart_fraction=0.05,
        steps=60,
        step_size=10.0,
        noise_scale=0.005,
        grad_clip=0.03,
        alpha=0.1,
        data_noise=0.005,
        metropolis=False,
        sample_steps=1000,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.data_shape = _check_data_shape(data_shape)
        self.architecture = v.check_choice("architecture", architecture, ARCHITECTURES)
        self.hidden_units = _check_hidden_units(hidden_units)
        self.data_range = _check_range(data_range)
        self.buffer_size = v.check_positive_int("buffer_size", buffer_size, max_value=MAX_BUFFER)
        if self.buffer_size * int(np.prod(self.data_shape)) > MAX_BUFFER_VALUES:
            raise ValueError(
                f"`buffer_size` x the values of one example must be at most {MAX_BUFFER_VALUES} (1 GiB of float32). "
                f"Received: buffer_size={buffer_size} for data_shape={self.data_shape}"
            )
        self.restart_fraction = _check_fraction(restart_fraction)
        self.steps = v.check_positive_int("steps", steps)
        self.step_size = v.check_positive_float("step_size", step_size)
        self.noise_scale = None if noise_scale is None else v.check_positive_float("noise_scale", noise_scale)
        self.grad_clip = None if grad_clip is None else v.check_positive_float("grad_clip", grad_clip)
        self.alpha = v.check_positive_float("alpha", alpha, allow_zero=True)
        self.data_noise = v.check_positive_float("data_noise", data_noise, allow_zero=True)
        self.metropolis = v.check_bool("metropolis", metropolis)
        self.sample_steps = v.check_positive_int("sample_steps", sample_steps)
        self.seed = v.check_seed("seed", seed)
        if energy_network is None:
            energy_network = self._default_network(seed)
        elif not isinstance(energy_network, keras.Model):
            raise ValueError(
                "`energy_network` must be a keras.Model from (batch,) + data_shape to (batch, 1), or None. "
                f"Received: energy_network={type(energy_network).__name__}"
            )
        self.energy_network = energy_network
        # Training's noise (per replica under a strategy); the buffer's slots
        # (one permutation shared by the replicas); `sample`'s stream.
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        self.slot_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 2)
        self.sampling_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)
        lo, hi = self.data_range
        self.buffer = self.add_weight(
            shape=(self.buffer_size,) + self.data_shape,
            initializer=keras.initializers.RandomUniform(lo, hi, seed=seed),
            trainable=False,
            dtype="float32",
            name="replay_buffer",
        )
        self._check_network_output()
        self.built = True
        names = ["loss", "energy_data", "energy_model", "energy_gap", "regularizer"]
        if self.metropolis:
            names.append("acceptance_rate")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self._sample_fn = None

    # ------------------------------------------------------------- building
    def _default_network(self, seed):
        architecture = self.architecture
        if architecture == "auto":
            architecture = "conv" if len(self.data_shape) == 3 else "mlp"
        if architecture == "conv":
            if len(self.data_shape) != 3:
                raise ValueError(
                    "`architecture='conv'` needs image data of shape (height, width, channels). "
                    f"Received: data_shape={self.data_shape}"
                )
            network = conv_energy_network(self.data_shape, seed=seed)
        else:
            network = mlp_energy_network(int(np.prod(self.data_shape)), self.hidden_units, seed=seed)
            if len(self.data_shape) != 1:
                x_in = keras.Input(self.data_shape)
                network = keras.Model(x_in, network(keras.layers.Flatten()(x_in)), name="energy")
        return network

    def _check_network_output(self):
        probe = ops.zeros((2,) + self.data_shape, "float32")
        try:
            out = self.energy_network(probe)
        except Exception as e:
            raise ValueError(
                f"`energy_network` must accept a batch of shape (batch,) + data_shape = (batch, "
                f"{', '.join(map(str, self.data_shape))}). Calling it failed: {e}"
            ) from e
        if tuple(out.shape) not in ((2,), (2, 1)):
            raise ValueError(
                "`energy_network` must return one energy per example, of shape (batch,) or (batch, 1). "
                f"Received: shape {tuple(out.shape)} for a batch of 2"
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "data_shape": self.data_shape,
                "energy_network": keras.saving.serialize_keras_object(self.energy_network),
                "architecture": self.architecture,
                "hidden_units": self.hidden_units,
                "data_range": self.data_range,
                "buffer_size": self.buffer_size,
                "restart_fraction": self.restart_fraction,
                "steps": self.steps,
                "step_size": self.step_size,
                "noise_scale": self.noise_scale,
                "grad_clip": self.grad_clip,
                "alpha": self.alpha,
                "data_noise": self.data_noise,
                "metropolis": self.metropolis,
                "sample_steps": self.sample_steps,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        network = config.get("energy_network")
        if isinstance(network, dict):
            network = keras.saving.deserialize_keras_object(network)
        config["energy_network"] = network
        return cls(**config)

    # --------------------------------------------------------------- energy
    def call(self, x, training=False):
        """E_θ(x), one float32 energy per example: shape (batch,)."""
        e = self.energy_network(x, training=training)
        if len(e.shape) == 2:
            e = ops.squeeze(e, axis=-1)
        return ops.cast(e, "float32")

    def energy(self, x, batch_size=1000):
        """E_θ(x) of NumPy (or tensor) data, validated, as a float32 NumPy array (batch,)."""
        x = self.check_data(x, "x")
        batch_size = v.check_positive_int("batch_size", batch_size)
        return np.concatenate([
            ops.convert_to_numpy(self(ops.convert_to_tensor(x[i : i + batch_size], "float32")))
            for i in range(0, len(x), batch_size)
        ])

    def check_data(self, x, name="x"):
        """`x` checked eagerly: shape `(batch,) + data_shape`, finite, inside `data_range`; a NumPy array."""
        lo, hi = self.data_range
        return v.check_array(name, x, feature_shape=self.data_shape, min_value=lo, max_value=hi)

    def check_training_data(self, x, name="x"):
        return self.check_data(x, name)

    def data_seed_generator(self):
        """Training's generator: its state seeds the order of NumPy data in `fit`."""
        return self.seed_generator

    # ---------------------------------------------------- the training step
    def langevin_settings(self, metropolis=None):
        """The keyword arguments of `sampling.langevin_steps` that the model's chains use."""
        return dict(
            step_size=self.step_size,
            noise_scale=self.noise_scale,
            metropolis=self.metropolis if metropolis is None else metropolis,
            grad_clip=self.grad_clip,
            bounds=self.data_range,
        )

    def buffer_slots(self, n):
        """`(slots, offset, n_global, permutation)`: the buffer rows of this replica's n chains.

        The slots are rows `offset .. offset + n − 1` of one random
        permutation of the buffer, the same on every replica (its seed is
        not folded with the replica id); `offset` is the number of examples of
        the replicas before this one, `n_global` the global batch size,
        `permutation` the shuffled buffer rows (`write_buffer` takes the
        global batch's slots from it). Batches larger than the buffer would
        reuse slots (modulo its size); `fit` refuses them.
        """
        permutation = ops.argsort(keras.random.uniform((self.buffer_size,), seed=self.slot_seed_generator))
        if distribute.num_replicas() == 1:
            offset, n_global = 0, n
        else:
            counts = distribute.all_reduce_sum(
                ops.one_hot(distribute.replica_id(), distribute.num_replicas(), dtype="int32") * n
            )
            offset = ops.sum(counts[: distribute.replica_id()])
            n_global = ops.sum(counts)
        rows = ops.mod(offset + ops.arange(n, dtype="int32"), self.buffer_size)
        return ops.take(permutation, rows), offset, n_global, permutation

    def negative_phase(self, n, dtype="float32"):
        """Langevin chains for n examples: `(x_model, acceptance_rate)`; the buffer is updated.

        Each chain starts from its buffer slot's sample or, with probability
        `restart_fraction`, from U(data_range); after `steps` Langevin steps
        the final states are written back to the slots (all replicas' states
        to every replica's buffer).
        """
        slots, offset, n_global, permutation = self.buffer_slots(n)
        lo, hi = self.data_range
        shape = (n,) + self.data_shape
        start = ops.take(self.buffer, slots, axis=0)
        noise = keras.random.uniform(shape, lo, hi, dtype=dtype, seed=self.seed_generator)
        restart = keras.random.uniform((n,), seed=self.seed_generator) < self.restart_fraction
        restart = ops.reshape(restart, (n,) + (1,) * len(self.data_shape))
        x0 = ops.where(restart, noise, start)
        x_model, acceptance = langevin_steps(
            self, x0, self.steps, seed_generator=self.seed_generator, **self.langevin_settings()
        )
        x_model = ops.stop_gradient(x_model)
        self.write_buffer(x_model, slots, offset, n_global, permutation)
        return x_model, acceptance

    def write_buffer(self, x_model, slots, offset, n_global, permutation):
        """Write the final states into their slots: this replica's `slots` on one device; under a strategy
        every replica's rows, all-reduced, into the global batch's slots of `permutation`."""
        if distribute.num_replicas() == 1:
            self.buffer.assign(ops.scatter_update(self.buffer, ops.expand_dims(slots, -1), x_model))
            return
        n = ops.shape(x_model)[0]
        padding = [[offset, n_global - offset - n]] + [[0, 0]] * len(self.data_shape)
        rows = distribute.all_reduce_sum(ops.pad(x_model, padding))  # (n_global,) + data_shape
        slots = ops.take(permutation, ops.mod(ops.arange(n_global), self.buffer_size))
        self.buffer.assign(ops.scatter_update(self.buffer, ops.expand_dims(slots, -1), rows))

    def prepare_batch(self, data):
        """The data of a batch as float32, with the `data_noise` jitter, clipped to `data_range`."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, "float32")
        if self.data_noise:
            x = x + self.data_noise * keras.random.normal(ops.shape(x), seed=self.seed_generator)
            x = ops.clip(x, *self.data_range)
        return x

    def contrastive_terms(self, x_data, x_model, training=True):
        """Per-example terms of the loss: `(E(x), E(x'), α (E(x)² + E(x')²))`, each (n,).

        The data and the model samples go through the network in one batch.
        """
        n = ops.shape(x_data)[0]
        energies = self(ops.concatenate([x_data, x_model], axis=0), training=training)
        e_data, e_model = energies[:n], energies[n:]
        return e_data, e_model, self.alpha * (ops.square(e_data) + ops.square(e_model))

    def train_step(self, data):
        """One step: the negative phase, then a gradient step on L (see the class docstring).

        On R replicas with n_r examples each (N = Σ_r n_r), replica r
        differentiates Σ_{i ∈ r} (E(x_i) − E(x'_i) + α (E(x_i)² + E(x'_i)²)) / N;
        the optimizer sums the replicas' gradients.
        """
        import tensorflow as tf

        x = self.prepare_batch(data)
        n = tf.shape(x)[0]
        x_model, acceptance = self.negative_phase(n)
        global_batch = distribute.global_batch_size(n)
        with tf.GradientTape() as tape:
            e_data, e_model, reg = self.contrastive_terms(x, x_model)
            loss = tf.reduce_sum(e_data - e_model + reg) / global_batch
            scaled = self.optimizer.scale_loss(loss)
        variables = self.energy_network.trainable_variables
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        return self.update_metrics(e_data, e_model, reg, acceptance)

    def test_step(self, data):
        """The metrics on held-out data, against the buffer's current samples (no new chains)."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, "float32")
        n = ops.shape(x)[0]
        x_model = ops.take(self.buffer, ops.mod(ops.arange(n), self.buffer_size), axis=0)
        e_data, e_model, reg = self.contrastive_terms(x, x_model, training=False)
        return self.update_metrics(e_data, e_model, reg, None)

    def update_metrics(self, e_data, e_model, reg, acceptance):
        t = self.trackers
        t["loss"].update_state(e_data - e_model + reg)
        t["energy_data"].update_state(e_data)
        t["energy_model"].update_state(e_model)
        t["energy_gap"].update_state(e_model - e_data)
        t["regularizer"].update_state(reg)
        if "acceptance_rate" in t and acceptance is not None:
            t["acceptance_rate"].update_state(acceptance, sample_weight=ops.cast(ops.shape(e_data)[0], "float32"))
        return distribute.step_outputs({name: m.result() for name, m in t.items()})

    @property
    def metrics(self):
        return list(self.trackers.values())

    def fit(self, x=None, *args, batch_size=None, **kwargs):
        """`GenerativeModel.fit`; `batch_size` must not exceed `buffer_size` (one slot per chain)."""
        if batch_size is not None and v.check_positive_int("batch_size", batch_size) > self.buffer_size:
            raise ValueError(
                f"`batch_size` must be at most `buffer_size` ({self.buffer_size}): each example's chain "
                f"takes its own buffer slot. Received: batch_size={batch_size}"
            )
        return super().fit(x, *args, batch_size=batch_size, **kwargs)

    def with_buffer_size(self, buffer_size):
        """A copy of the model whose replay buffer keeps only its first `buffer_size` samples.

        The energy network's weights and the random streams are copied; the
        optimizer is not. For shipping a model whose full buffer would make a
        large file (8192 images of 32 x 32 are 33.5 MB); `sample(start="buffer")`
        then draws from the samples kept.
        """
        buffer_size = v.check_positive_int("buffer_size", buffer_size, max_value=self.buffer_size)
        config = self.get_config()
        config["buffer_size"] = buffer_size
        copy = type(self).from_config(config)
        copy.energy_network.set_weights(self.energy_network.get_weights())
        copy.buffer.assign(ops.convert_to_numpy(self.buffer)[:buffer_size])
        for mine, theirs in zip(self.seed_generators(), copy.seed_generators()):
            theirs.state.assign(mine.state)
        return copy

    # ------------------------------------------------------------- sampling
    def reseed(self, seed):
        """Restart `sample`'s stream at the seed pair [seed, 0]; `None` leaves it."""
        if v.check_seed("seed", seed) is not None:
            state = self.sampling_seed_generator.state
            state.assign(ops.convert_to_tensor([int(seed), 0], dtype=state.dtype))

    def run_chains(self, x0, steps, metropolis=None):
        """`steps` Langevin steps from `x0` with the model's settings (compiled, not XLA); `(x, acceptance)`.

        The draws come from `sample`'s generator (see `reseed`). The same
        computation as the exported `sample` signature.
        """
        if self._sample_fn is None:
            self._sample_fn = {}
        metropolis = self.metropolis if metropolis is None else bool(metropolis)
        if metropolis not in self._sample_fn:

            def chain(x, n_steps):
                return langevin_steps(self, x, n_steps, seed_generator=self.sampling_seed_generator,
                                      **self.langevin_settings(metropolis))

            self._sample_fn[metropolis] = backend.compile_function(chain, jit_compile=False)
        return self._sample_fn[metropolis](
            ops.convert_to_tensor(x0, "float32"), ops.convert_to_tensor(steps, "int32")
        )

    def initial_states(self, n, start="noise"):
        """n chain starts: uniform noise on `data_range`, or random samples of the replay buffer."""
        v.check_choice("start", start, ("noise", "buffer"))
        if start == "noise":
            lo, hi = self.data_range
            return keras.random.uniform((n,) + self.data_shape, lo, hi, seed=self.sampling_seed_generator)
        rows = keras.random.randint((n,), 0, self.buffer_size, seed=self.sampling_seed_generator)
        return ops.take(self.buffer, rows, axis=0)

    def sample(self, n, seed=None, *, steps=None, start="noise", metropolis=None, batch_size=1000,
               return_acceptance=False):
        """Draw n samples by Langevin chains; a float32 NumPy array `(n,) + data_shape`.

        Args:
            n: number of samples (chains), a positive int.
            seed: int for reproducible samples, or `None` to continue the
                model's sampling stream. Defaults to `None`.
            steps: Langevin steps per chain; `None` for `sample_steps`.
                Defaults to `None`.
            start: `"noise"` (uniform on `data_range`) or `"buffer"` (random
                samples of the replay buffer, as Du & Mordatch sample).
                Defaults to `"noise"`.
            metropolis: MALA instead of the training's chains, or `None` for
                the training's setting. Defaults to `None`.
            batch_size: chains run together (memory). Defaults to `1000`.
            return_acceptance: also return the mean acceptance rate. Defaults to `False`.
        """
        n = v.check_positive_int("n", n, max_value=2**31 - 1)
        steps = self.sample_steps if steps is None else v.check_positive_int("steps", steps)
        batch_size = v.check_positive_int("batch_size", batch_size)
        v.check_choice("start", start, ("noise", "buffer"))
        if metropolis is not None:
            v.check_bool("metropolis", metropolis)
        self.reseed(seed)
        out, accepted = [], []
        for i in range(0, n, batch_size):
            m = min(batch_size, n - i)
            x, acceptance = self.run_chains(self.initial_states(m, start), steps, metropolis)
            out.append(ops.convert_to_numpy(x))
            accepted.append(float(ops.convert_to_numpy(acceptance)) * m)
        samples = np.concatenate(out)
        return (samples, sum(accepted) / n) if return_acceptance else samples

    def sample_chain(self, n, steps, record_every=10, seed=None, start="noise", metropolis=None):
        """The chains' states every `record_every` steps: float32 `(frames, n) + data_shape`.

        Frame 0 is the start; frame k the state after k · record_every steps.
        """
        n = v.check_positive_int("n", n, max_value=2**31 - 1)
        steps = v.check_positive_int("steps", steps)
        record_every = v.check_positive_int("record_every", record_every)
        self.reseed(seed)
        x = self.initial_states(n, start)
        frames = [ops.convert_to_numpy(x)]
        done = 0
        while done < steps:
            k = min(record_every, steps - done)
            x, _ = self.run_chains(x, k, metropolis)
            frames.append(ops.convert_to_numpy(x))
            done += k
        return np.stack(frames)


def _check_fraction(value):
    ok = not isinstance(value, bool)
    try:
        ok = ok and 0.0 <= float(value) <= 1.0
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"`restart_fraction` must be a float in [0, 1]. Received: restart_fraction={value!r}")
    return float(value)
