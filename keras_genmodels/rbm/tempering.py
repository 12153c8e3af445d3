"""Parallel tempering (replica exchange) for Bernoulli RBMs: sampling and training.

K replicas of the RBM at inverse temperatures 0 <= beta_1 < ... < beta_K = 1,

    p_beta(v, h) ∝ exp(-beta E(v, h)),   p_beta(v) ∝ exp(-F_beta(v)),
    F_beta(v) = -beta b . v - sum_j softplus(beta (c_j + (v W)_j)),

each run M chains of block Gibbs sweeps (P(h_j = 1 | v) = sigmoid(beta
(c_j + (vW)_j)), P(v_i = 1 | h) = sigmoid(beta (b_i + (W h)_i))). After every
sweep, neighbouring replicas k, k+1 (the even pairs, then the odd pairs)
propose to exchange their states, accepted with the Metropolis probability

    A = min(1, exp(F_k(v_k) + F_{k+1}(v_{k+1}) - F_k(v_{k+1}) - F_{k+1}(v_k))),

F_k = F_{beta_k}, which leaves the product of the K marginals invariant. The
hot replicas (beta near 0: independent fair bits) cross between the modes
that block Gibbs at beta = 1 cannot leave (the ±m phases of an Ising model
below T_c), and the exchanges carry those crossings down to beta = 1.

- `parallel_tempering_sample`: samples of any `BernoulliRBM` at beta = 1.
- `TemperedBernoulliRBM`: a `BernoulliRBM` whose `model.fit` takes the
  negative phase from persistent parallel-tempering chains (Desjardins et
  al. 2010) instead of CD/PCD chains.

References:
    - Swendsen & Wang 1986; Geyer 1991 (replica exchange).
    - Desjardins, Courville, Bengio, Vincent & Delalleau 2010, "Tempered
      Markov chain Monte Carlo for training of restricted Boltzmann
      machines" (AISTATS).
"""

import keras
import numpy as np
from keras import ops

from keras_genmodels import distribute
from keras_genmodels._validation import check_positive_int, check_seed
from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM
from keras_genmodels.rbm.rbm_base import MAX_WEIGHTS
from keras_genmodels.sampling import tempering
from keras_genmodels.sampling.backend import bernoulli, compile_function
from keras_genmodels.sampling.tempering import check_betas, default_betas  # noqa: F401  (public here too)


def tempered_free_energy(rbm, v, beta):
    """F_beta(v) = -beta b . v - sum_j softplus(beta (c_j + (v W)_j)), shape (batch,).

    `beta`: a scalar or one value per row, shape (batch,).
    """
    beta = ops.reshape(ops.cast(beta, v.dtype), (-1, 1))  # (batch or 1, 1)
    pre = rbm.compute_hidden_logits(v)  # (batch, H)
    return -beta[:, 0] * ops.matmul(v, rbm.visible_bias) - ops.sum(ops.softplus(beta * pre), -1)


def _tempered_sweep(rbm, v, beta_rows, seed):
    """One block Gibbs sweep of every row at its own beta; beta_rows (R, 1)."""
    h = bernoulli(ops.sigmoid(beta_rows * rbm.compute_hidden_logits(v)), seed)
    pre_v = ops.matmul(h, ops.transpose(rbm.kernel)) + rbm.visible_bias
    return bernoulli(ops.sigmoid(beta_rows * pre_v), seed)


def _pt_sweeps(rbm, v, betas, n_rounds, seed):
    """`n_rounds` rounds of parallel tempering of the states v (K, M, D) (`tempering.sweeps`).

    The exchanges need log p*_beta(v) = -F_beta(v) = beta b . v + sum_j softplus(beta pre_j)
    at two betas per state: its statistics (b . v, pre = c + v W) are computed once.
    """

    def statistics(flat):
        return ops.sum(flat * rbm.visible_bias, -1), rbm.compute_hidden_logits(flat)  # (R,), (R, H)

    def log_density(stats, beta):  # beta (K', 1), stats (K', M) and (K', M, H)
        bv, pre = stats
        return beta * bv + ops.sum(ops.softplus(beta[..., None] * pre), -1)

    def transition(flat, beta_rows, seed):
        return _tempered_sweep(rbm, flat, beta_rows, seed)

    return tempering.sweeps(v, betas, transition, statistics, log_density, n_rounds, seed)


def parallel_tempering_sample(rbm, n, sweeps=1000, betas=None, initial=None, seed=None):
    """Draw `n` samples of a `BernoulliRBM` by parallel tempering.

    Args:
        rbm: a `BernoulliRBM`.
        n: int, chains per replica (samples returned).
        sweeps: int, rounds of sweep + exchanges. Defaults to `1000`.
        betas: the ladder, increasing to 1. Defaults to `default_betas(10)`.
        initial: (n, n_visible) binary start of every replica. Defaults to
            `None` (independent fair bits).
        seed: int or `None`. Defaults to `None`.

    Returns:
        A dict: `samples` (n, n_visible) at beta = 1 (NumPy), `betas`, and
        `swap_acceptance` (K-1,): the acceptance rate of each pair's
        exchanges (a pair proposes once per round).
    """
    n = check_positive_int("n", n)
    sweeps = check_positive_int("sweeps", sweeps)
    seed = check_seed("seed", seed)
    betas = check_betas(default_betas() if betas is None else betas)
    K, D = len(betas), rbm.n_visible
    seed_gen = keras.random.SeedGenerator(seed)
    if initial is None:
        v0 = bernoulli(ops.full((K, n, D), 0.5, rbm.compute_dtype), seed_gen)
    else:
        start = rbm.check_visible("initial", initial)
        if start.shape[0] != n:
            raise ValueError(f"Expected {n} initial states. Received: shape={np.shape(initial)}")
        v0 = ops.broadcast_to(ops.convert_to_tensor(start, rbm.compute_dtype), (K, n, D))
    fn = compile_function(lambda v, b, s: _pt_sweeps(rbm, v, b, s, seed_gen))
    v, acc = fn(
        v0, ops.convert_to_tensor(betas, rbm.compute_dtype), ops.convert_to_tensor(sweeps, "int32")
    )
    return {
        "samples": ops.convert_to_numpy(v[-1]),
        "betas": betas,
        "swap_acceptance": ops.convert_to_numpy(acc) / sweeps,
    }


@keras.saving.register_keras_serializable(package="keras_genmodels")
class TemperedBernoulliRBM(BernoulliRBM):
    """A `BernoulliRBM` trained with a parallel-tempering negative phase.

    The negative phase of each `model.fit` step runs `k` rounds of (one block
    Gibbs sweep of every replica at its beta, exchanges of the even pairs,
    of the odd pairs) on persistent chains, `n_chains` per replica, and takes
    the beta = 1 replica as the model sample (Desjardins et al. 2010):

        d<log p>/dtheta = <-dF/dtheta>_data - <-dF/dtheta>_{v ~ PT at beta = 1}.

    Everything else (gradients, centring, weight decay, metrics, sampling) is
    `BernoulliRBM`'s; `persistent` is implied.

    Args:
        n_visible: int, visible units D.
        n_hidden: int, hidden units H.
        k: int, rounds of sweeps + exchanges per update. Defaults to `1`.
        n_chains: int, chains per temperature (split between the replicas of a
            `tf.distribute` strategy). Defaults to `100`.
        n_temperatures: int >= 2, replicas K, at betas evenly spaced from
            `beta_min` to 1. Defaults to `10`.
        beta_min: float in [0, 1), the hottest replica's beta. Defaults to `0.0`.
        **kwargs: `BernoulliRBM` arguments (weight_decay, centering, seed, ...).

    Example:

    ```python
    rbm = TemperedBernoulliRBM(64, 64, k=5, n_chains=100, n_temperatures=10, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
    rbm.fit(x, batch_size=100, epochs=10)
    print(rbm.swap_acceptance)  # per neighbouring pair
    ```

    References:
        - Desjardins et al. 2010, "Tempered Markov chain Monte Carlo for
          training of restricted Boltzmann machines".
    """

    def __init__(
        self, n_visible, n_hidden, k=1, n_chains=100, n_temperatures=10, beta_min=0.0, **kwargs
    ):
        kwargs.pop("persistent", None)
        self.betas = default_betas(n_temperatures, beta_min)
        self.n_temperatures = int(n_temperatures)
        self.beta_min = float(beta_min)
        super().__init__(n_visible, n_hidden, k=k, persistent=False, n_chains=n_chains, **kwargs)
        if self.n_temperatures * self.n_chains * self.n_visible > MAX_WEIGHTS:
            raise ValueError(
                f"The tempered chains (n_temperatures, n_chains, n_visible) must hold at most "
                f"{MAX_WEIGHTS} values. Received: n_temperatures={n_temperatures}, "
                f"n_chains={n_chains}, n_visible={n_visible}"
            )
        # The K x M replica states (K, M, D), beta increasing along axis 0.
        self.tempered_chains = self.add_weight(
            shape=(self.n_temperatures, self.n_chains, self.n_visible),
            initializer="zeros",
            trainable=False,
            name="tempered_chains",
        )
        # Exchanges accepted per pair, summed, and rounds run (for `swap_acceptance`).
        self.swap_accepted = self.add_weight(
            shape=(self.n_temperatures - 1,), initializer="zeros", trainable=False, name="swap_accepted"
        )
        self.swap_rounds = self.add_weight(shape=(), initializer="zeros", trainable=False, name="swap_rounds")

    @property
    def swap_acceptance(self):
        """Acceptance rate of the exchanges of each neighbouring pair during training, (K-1,)."""
        rounds = max(float(ops.convert_to_numpy(self.swap_rounds)), 1.0)
        return ops.convert_to_numpy(self.swap_accepted) / rounds

    def contrastive_step(self, v):
        """One update on the checked batch `v` with the parallel-tempering negative phase.

        Returns the metrics, estimated as `BernoulliRBM`'s are: on the first
        tenth of the batch of every tenth step (`monitor`).

        Under a `tf.distribute` strategy with R replicas, replica r holds n_r
        of the B examples of the global batch and its share of the M chains at
        every temperature (`distribute.replica_slice`); the rows are weighted
        -1/B and +1/M, so the summed gradient is the single-device one, and
        the chains and exchange statistics are reassembled over the replicas.
        """
        batch, n_monitor, global_batch = self.begin_step(v)
        dtype = self.compute_dtype
        betas = ops.convert_to_tensor(self.betas, dtype)
        start, stop = distribute.replica_slice(self.n_chains)
        chains = ops.convert_to_tensor(self.tempered_chains)
        if distribute.num_replicas() > 1:
            chains = chains[:, start:stop]  # this replica's chains, (K, m_r, D)
        chains, accepted = _pt_sweeps(self, chains, betas, self.k, self.seed_generator)
        # The (K, M, D) states of all replicas: chains first for the gather.
        full = distribute.gather_replica_slices(ops.transpose(chains, (1, 0, 2)), self.n_chains)
        self.tempered_chains.assign(ops.transpose(full, (1, 0, 2)))
        # Accepted fraction over all M chains: sum_r m_r a_r / M.
        local = ops.cast(ops.shape(chains)[1], dtype)
        self.swap_accepted.assign_add(
            distribute.all_reduce_sum(accepted * local) / ops.cast(self.n_chains, dtype)
        )
        self.swap_rounds.assign_add(float(self.k))
        v_model = chains[-1]  # beta = 1, (m_r, D)
        n_model = ops.shape(v_model)[0]
        rows = ops.concatenate([v, v_model], axis=0)
        pre = self.compute_hidden_logits(rows)  # (n_r + m_r, H)
        ph = ops.sigmoid(pre)
        monitor = self.monitor_this_step()
        self.contrastive_update(rows, ph, batch, n_model, global_batch, ops.cast(self.n_chains, dtype))

        def reconstruct():
            return self.compute_visible_mean(bernoulli(ph[:n_monitor], self.seed_generator))

        return self.monitor(monitor, v[:n_monitor], pre[:n_monitor], reconstruct)

    def get_config(self):
        config = super().get_config()
        config.pop("persistent", None)
        config.update({"n_temperatures": self.n_temperatures, "beta_min": self.beta_min})
        return config
