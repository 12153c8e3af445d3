"""The eager methods of a restricted Boltzmann machine: validated inputs, NumPy outputs.

What a user calls on a trained RBM (free energy, energy, conditionals,
reconstruction, Gibbs chains, samples, partition function, log-likelihood),
each checking its input at once with a message that names what was expected
and what was received, running the `keras.ops` math of `rbm.energy` in
batches, and returning NumPy arrays. Long chains run as one compiled loop
(`keras_genmodels.sampling.backend.compile_function`).

`RBMEagerMethods` is that part of `RestrictedBoltzmannMachine`.
"""

import numpy as np
from keras import ops

from keras_genmodels._validation import check_array, check_positive_int, check_seed
from keras_genmodels.rbm import partition
from keras_genmodels.sampling.backend import bernoulli, compile_function

# Rows per batch of the eager methods (`map_batches`).
ROWS_PER_BATCH = 4096


def map_batches(fn, x, dtype, batch_size=ROWS_PER_BATCH):
    """`fn` (a `keras.ops` function of a batch) on the rows of `x` in batches of `dtype`; NumPy, joined on axis 0."""
    out = [
        ops.convert_to_numpy(fn(ops.convert_to_tensor(x[i : i + batch_size], dtype)))
        for i in range(0, x.shape[0], batch_size)
    ]
    return np.concatenate(out, axis=0)


def restart_stream(generator, seed):
    """Restart the `SeedGenerator` `generator` at `seed` (the seed pair [seed, 0]); `None` leaves it."""
    if check_seed("seed", seed) is not None:
        state = generator.state
        state.assign(ops.convert_to_tensor([int(seed), 0], dtype=state.dtype))


class RBMEagerMethods:
    """The user-facing methods of `RestrictedBoltzmannMachine`."""

    _gibbs_fn = None

    # ------------------------------------------------------------ helpers
    def check_visible(self, name, x, mean_field=False):
        """Check a user batch eagerly; return it as a (batch, n_visible) NumPy array.

        Args:
            name: the argument's name, for the message.
            x: visible vectors, shape (batch, n_visible) or (batch, ...) with
                n_visible features.
            mean_field: whether values in [0, 1] are accepted where units are
                binary (probabilities, as `hidden_probabilities` takes).
                Defaults to `False`.

        Raises:
            ValueError: a non-numeric or empty array, the wrong number of
                visible units, or values the units cannot take (NaN/Inf, and
                non-binary values for binary units), naming what was expected
                and what was received.
        """
        arr = check_array(name, x)
        if arr.ndim < 2 or int(np.prod(arr.shape[1:])) != self.n_visible:
            raise ValueError(
                f"`{name}` must have {self.n_visible} visible units per example "
                f"(shape (batch, {self.n_visible}) or (batch, ...) with "
                f"{self.n_visible} features). Received: shape={arr.shape}"
            )
        self.check_visible_values(name, arr, mean_field=mean_field)
        return arr.reshape(arr.shape[0], self.n_visible)

    def map_batches(self, fn, x, batch_size=ROWS_PER_BATCH):
        """`fn` (a `keras.ops` function of a batch) applied to the rows of `x` in batches; NumPy."""
        return map_batches(fn, x, self.compute_dtype, batch_size)

    def reseed(self, seed):
        """Restart the sampling stream at `seed` (the seed pair [seed, 0]); `None` leaves it.

        The samplers (`sample`, `gibbs`, `sample_hidden`, ...) draw from the
        model's sampling generator, which this restarts, so that a seeded call
        is reproducible without retracing a compiled chain.
        """
        restart_stream(self.sampling_seed_generator, seed)

    # ---------------------------------------------------------- energies
    def free_energy(self, v):
        """F(v) = -log sum_h exp(-E(v, h)) in closed form, one value per example.

        Args:
            v: visible vectors, shape (batch, n_visible) or (batch, ...).

        Returns:
            NumPy array of shape (batch,).
        """
        return self.map_batches(self.compute_free_energy, self.check_visible("v", v))

    def energy(self, v, h):
        """E(v, h) for paired visible and hidden configurations, shape (batch,)."""
        v = self.check_visible("v", v)
        h = check_array("h", h, feature_shape=(self.n_hidden,), binary=True)
        if h.shape[0] != v.shape[0]:
            raise ValueError(
                f"`v` and `h` must have the same batch size. Received: {v.shape[0]} and {h.shape[0]}"
            )
        return ops.convert_to_numpy(
            self.compute_energy(
                ops.convert_to_tensor(v, self.compute_dtype), ops.convert_to_tensor(h, self.compute_dtype)
            )
        )

    # ------------------------------------------------------ conditionals
    def hidden_probabilities(self, v):
        """P(h_j = 1 | v) = sigmoid(c_j + (s(v) W)_j): the feature transform.

        Like scikit-learn's `BernoulliRBM.transform`; a `BernoulliRBM` also
        accepts mean-field inputs in [0, 1] here.

        Returns:
            NumPy array of shape (batch, n_hidden).
        """
        v = self.check_visible("v", v, mean_field=True)
        return self.map_batches(lambda t: ops.sigmoid(self.compute_hidden_logits(t)), v)

    def sample_hidden(self, v, seed=None):
        """A draw h ~ P(h | v), h_j = 1[u_j < P(h_j = 1 | v)], shape (batch, n_hidden)."""
        v = self.check_visible("v", v)
        self.reseed(seed)
        return self.map_batches(lambda t: self.draw_hidden(t, self.sampling_seed_generator), v)

    def sample_visible(self, h, seed=None):
        """A draw v ~ P(v | h), shape (batch, n_visible)."""
        h = check_array("h", h, feature_shape=(self.n_hidden,), binary=True)
        self.reseed(seed)
        return self.map_batches(lambda t: self.draw_visible(t, self.sampling_seed_generator)[0], h)

    def visible_mean(self, h):
        """E[v | h]: P(v_i = 1 | h) for binary units, b + W h for Gaussian ones."""
        h = check_array("h", h, feature_shape=(self.n_hidden,), min_value=0, max_value=1)
        return self.map_batches(self.compute_visible_mean, h)

    def reconstruct(self, v, sample_hidden=False, seed=None):
        """E[v' | h] with h = P(h | v) (mean field) or h ~ P(h | v).

        Args:
            v: visible vectors.
            sample_hidden: whether to sample h instead of using its
                probabilities. Defaults to `False` (deterministic).
            seed: int seed when sampling. Defaults to `None`.
        """
        v = self.check_visible("v", v, mean_field=True)
        self.reseed(seed)

        def fn(t):
            ph = ops.sigmoid(self.compute_hidden_logits(t))
            if sample_hidden:
                ph = bernoulli(ph, self.sampling_seed_generator)
            return self.compute_visible_mean(ph)

        return self.map_batches(fn, v)

    # ---------------------------------------------------------- sampling
    def _compiled_gibbs(self):
        if self._gibbs_fn is None:

            def chain(v, steps):
                def body(i, state):
                    return self.gibbs_sweep(state[0], self.sampling_seed_generator)

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
        v_new, mean = self.gibbs_states(v, steps, seed)
        return mean if return_means else v_new

    def gibbs_states(self, v, steps=1, seed=None):
        """`(v, E[v | h])` after `steps` block Gibbs sweeps from `v`: the sampled
        states and the means of the last sweep, as NumPy arrays (see `gibbs`)."""
        v = self.check_visible("v", v)
        steps = check_positive_int("steps", steps)
        self.reseed(seed)
        v_new, mean = self._compiled_gibbs()(
            ops.convert_to_tensor(v, self.compute_dtype), ops.convert_to_tensor(steps, "int32")
        )
        return ops.convert_to_numpy(v_new), ops.convert_to_numpy(mean)

    def sample(self, n, seed=None, *, steps=1000, return_means=True):
        """Draw `n` samples by block Gibbs sampling from the base-rate model.

        Chains start from the data's base-rate model (independent units with
        the training data's means, tracked by `fit`) and run `steps` sweeps.

        Args:
            n: int, number of samples.
            seed: int seed. Defaults to `None`: the model's own sampling
                stream, which `save` and `load` carry over.
            steps: int, number of Gibbs sweeps. Defaults to `1000`.
            return_means: whether to return E[v | h] of the last sweep (smooth
                images) rather than the binary/noisy samples. Defaults to `True`.

        Returns:
            NumPy array of shape (n, n_visible).
        """
        n = check_positive_int("n", n, max_value=2**31 - 1)
        steps = check_positive_int("steps", steps)
        self.reseed(seed)
        v0 = self.ais_draw_base(n, self.ais_base(None), self.sampling_seed_generator)
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

    # ------------------------------------------- partition function, likelihood
    def log_partition_exact(self, chunk_size=2**14, max_states_log2=24):
        """log Z by exhaustive summation over the smaller layer, in chunks.

        See `keras_genmodels.rbm.partition.log_partition_exact`.
        """
        return partition.log_partition_exact(self, chunk_size=chunk_size, max_states_log2=max_states_log2)

    def log_partition_ais(self, data=None, betas=None, n_chains=100, seed=None, verbose=0):
        """log Z by annealed importance sampling, with an error bar.

        See `keras_genmodels.rbm.partition.log_partition_ais`.
        """
        return partition.log_partition_ais(
            self, data=data, betas=betas, n_chains=n_chains, seed=seed, verbose=verbose
        )

    def log_likelihood(self, data, log_z=None, method="auto", **ais_kwargs):
        """Mean log-likelihood <log p(v)> = -<F(v)> - log Z in nats per example.

        Args:
            data: visible vectors.
            log_z: a known log Z (float or `AISEstimate`); computed if `None`.
            method: `"exact"`, `"ais"` or `"auto"` (exact when the layer to
                enumerate has at most `partition.AUTO_EXACT_MAX_UNITS` = 20
                units, else AIS). Defaults to `"auto"`.
            **ais_kwargs: passed to `log_partition_ais`.
        """
        return partition.log_likelihood(self, data, log_z=log_z, method=method, **ais_kwargs)
