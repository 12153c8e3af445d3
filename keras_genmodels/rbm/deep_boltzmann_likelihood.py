"""The partition function and the mean-field bound of a `DeepBoltzmannMachine`.

A two-layer DBM is bipartite between h1 and (v, h2): it is an RBM with
visible units [v; h2] (`as_rbm`), whose log Z the library's AIS or
enumeration gives (Salakhutdinov & Hinton's AIS over the h1 marginal); the
mean-field bound -E_Q[E] + H(Q) - log Z follows. `DeepBoltzmannLikelihood`
is that part of `DeepBoltzmannMachine`.
"""

import numpy as np
from keras import ops

from keras_genmodels._validation import (
    check_positive_int,
)
from keras_genmodels.rbm import bounds, partition
from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM


class DeepBoltzmannLikelihood:
    """`as_rbm`, `log_partition_*`, `log_likelihood_bound`, `log_likelihood_exact`, for `DeepBoltzmannMachine`."""

    # ------------------------------------------- partition function, likelihood
    def as_rbm(self, data=None):
        """The `BernoulliRBM` this DBM is: visible units (v, h2), hidden units h1.

        E(v, h1, h2) = -[v; h2] [W1; W2^T] h1 - [b; c2] . [v; h2] - c1 . h1,
        the energy of an RBM with D + H2 visible units, H1 hidden units, the
        kernel [W1; W2^T] (D + H2, H1), visible biases [b; c2] and hidden biases
        c1: the same Z and the same p(v, h2). Its `data_mean` and `data_count`,
        the base rate of its AIS, are [mean of v; mean of mu2] and their count:
        those of `data` (mean field with `mean_field_steps`) if given, else the
        running means of `fit`; a DBM never fitted gets count 0 (the RBM's AIS
        then starts from its visible biases [b; c2]). The RBM's AIS smooths the
        means as (count * mean + 1) / (count + 2).

        Args:
            data: binary visible vectors, or `None`. Defaults to `None`.

        Returns:
            A new `BernoulliRBM` (a copy: changing it leaves the DBM alone).
        """
        if data is not None:
            data = self.check_visible("data", data)
            mean = np.concatenate([data.mean(0, dtype="float64"), self.mean_field(data)[1].mean(0, dtype="float64")])
            count = data.shape[0]
        else:
            mean = np.concatenate([ops.convert_to_numpy(self.data_mean), ops.convert_to_numpy(self.hidden_2_mean)])
            count = float(ops.convert_to_numpy(self.data_count))
        rbm = BernoulliRBM(self.n_visible + self.n_hidden_2, self.n_hidden_1, dtype=self.dtype_policy.name)
        rbm.kernel.assign(ops.concatenate([self.kernel_1, ops.transpose(self.kernel_2)], axis=0))
        rbm.visible_bias.assign(ops.concatenate([self.visible_bias, self.hidden_bias_2], axis=0))
        rbm.hidden_bias.assign(self.hidden_bias_1)
        rbm.data_mean.assign(mean.astype(rbm.data_mean.dtype))
        rbm.data_count.assign(count)
        return rbm

    def log_partition_exact(self, chunk_size=2**14, max_states_log2=24):
        """log Z by exhaustive summation: over h1, or over (v, h2) if that layer is smaller.

        log Z = log sum_h1 exp(c1 . h1 + sum_i softplus(b_i + (W1 h1)_i)
                               + sum_k softplus(c2_k + (h1 W2)_k)),

        that of `as_rbm()` (see `keras_genmodels.rbm.partition.log_partition_exact`).
        """
        return self.as_rbm().log_partition_exact(chunk_size=chunk_size, max_states_log2=max_states_log2)

    def log_partition_ais(self, n_chains=100, betas=None, seed=None, data=None, verbose=0):
        """log Z by annealed importance sampling over p*(v, h2) = sum_h1 exp(-E(v, h1, h2)).

        Salakhutdinov & Hinton's AIS for a 2-layer DBM: h1 is summed out in
        closed form and the chains anneal (v, h2) from the base-rate model;
        it is the RBM AIS of `as_rbm(data)` (`rbm.partition.log_partition_ais`).

        Args:
            n_chains: int, annealing runs. Defaults to `100`.
            betas: the schedule, or `None` for `default_ais_schedule()`
                (14,501 temperatures). Defaults to `None`.
            seed: int seed. Defaults to `None`.
            data: binary visible vectors whose statistics give the base rate
                (see `as_rbm`), or `None` for the running ones. Defaults to `None`.
            verbose: 0, 1 (a progress bar) or 2. Defaults to `0`.

        Returns:
            An `AISEstimate`.
        """
        return partition.log_partition_ais(
            self.as_rbm(data), betas=betas, n_chains=n_chains, seed=seed, verbose=verbose
        )

    def log_likelihood_bound(self, data, log_z=None, mean_field_steps=None, ais_chains=100, betas=None, seed=None):
        """The mean-field lower bound on log p(v), per example, in nats.

            log p(v) >= -E_Q[E(v, h1, h2)] + H(Q) - log Z

        with Q the mean-field posterior of v (`compute_variational_bound`).
        With an exact log Z this is a true lower bound; with an AIS estimate,
        which underestimates log Z on average, it can overshoot by the AIS
        error (in `stderr`).

        Args:
            data: binary visible vectors.
            log_z: a known log Z (a float or an `AISEstimate`), or `None`:
                exact when the layer to enumerate has at most 20 units
                (`partition.auto_method`), else AIS. Defaults to `None`.
            mean_field_steps: fixed-point iterations, or `None` for the
                model's. Defaults to `None`.
            ais_chains: annealing runs of the AIS. Defaults to `100`.
            betas: the AIS schedule (`None`: the default). Defaults to `None`.
            seed: int seed of the AIS. Defaults to `None`.

        Returns:
            A `LikelihoodBound`: mean, stderr = sqrt(s.e. over the examples^2 +
            AIS std^2), per_example (N,) and the log Z used.
        """
        data = self.check_visible("data", data)
        steps = self.mean_field_steps if mean_field_steps is None else check_positive_int(
            "mean_field_steps", mean_field_steps
        )
        log_z, log_z_std = self._resolve_log_z(log_z, data, ais_chains, betas, seed)
        unnormalized = self.map_batches(
            lambda t: self.compute_variational_bound(t, self.compute_mean_field(t, steps)), data
        ).astype("float64")
        return bounds.likelihood_bound(unnormalized, log_z, log_z_std)

    def _resolve_log_z(self, log_z, data, ais_chains, betas, seed):
        """(log Z, its std): given, exact, or by AIS (base rate of `data` if `fit` has seen none)."""
        rbm = None
        if log_z is None:
            rbm = self.as_rbm(data if float(ops.convert_to_numpy(self.data_count)) == 0 else None)
        return bounds.resolve_log_z(rbm, log_z, ais_chains=ais_chains, betas=betas, seed=seed)

    def log_likelihood_exact(self, data, log_z=None):
        """log p(v) of each example by enumerating h1 (H1 <= 20), in float64 nats.

            log p*(v) = b . v + log sum_h1 exp(c1 . h1 + v W1 h1
                                               + sum_k softplus(c2_k + (h1 W2)_k)),

        h2 summed out in closed form; log p(v) = log p*(v) - log Z.

        Args:
            data: binary visible vectors.
            log_z: a known exact log Z, or `None` for `log_partition_exact()`.
                Defaults to `None`.

        Returns:
            NumPy float64 array of shape (N,).
        """
        data = self.check_visible("data", data)
        m = self.n_hidden_1
        if m > partition.AUTO_EXACT_MAX_UNITS:
            raise ValueError(
                f"`log_likelihood_exact` enumerates the 2^H1 states of h1; expected "
                f"n_hidden_1 <= {partition.AUTO_EXACT_MAX_UNITS}. Received: n_hidden_1={m}. "
                "Use log_likelihood_bound() instead."
            )
        log_z = self.log_partition_exact() if log_z is None else float(log_z)
        w1, w2, b, c1, c2 = (ops.cast(p, "float64") for p in self.parameter_variables())
        chunk = min(2**m, max(1, 2**22 // max(1, data.shape[0])))
        result = np.full(data.shape[0], -np.inf)
        v = ops.convert_to_tensor(data, "float64")
        vw1 = ops.matmul(v, w1)  # (N, H1)
        for start in range(0, 2**m, chunk):
            idx = np.arange(start, min(start + chunk, 2**m))
            h1 = ops.convert_to_tensor(((idx[:, None] >> np.arange(m)) & 1).astype("float64"))  # (S, H1)
            # log sum_h2 exp(-E) - b . v for every (v, h1): (N, S)
            per_state = ops.matmul(h1, c1) + ops.sum(ops.softplus(ops.matmul(h1, w2) + c2), -1)  # (S,)
            joint = ops.matmul(vw1, ops.transpose(h1)) + per_state[None, :]
            result = np.logaddexp(result, ops.convert_to_numpy(ops.logsumexp(joint, axis=1)))
        return result + ops.convert_to_numpy(ops.matmul(v, b)) - log_z

