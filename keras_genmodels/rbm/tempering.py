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
from keras_genmodels._validation import check_positive_int
from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM
from keras_genmodels.rbm.rbm_base import MAX_WEIGHTS, bernoulli
from keras_genmodels.rbm import _backend
from keras_genmodels.rbm._backend import compile_function


def default_betas(n_temperatures=10, beta_min=0.0):
    """`n_temperatures` inverse temperatures evenly spaced from `beta_min` to 1."""
    n_temperatures = check_positive_int("n_temperatures", n_temperatures, max_value=2**16)
    if n_temperatures < 2:
        raise ValueError(
            f"Parallel tempering needs `n_temperatures` >= 2. Received: n_temperatures={n_temperatures}"
        )
    if not (isinstance(beta_min, (int, float)) and 0.0 <= beta_min < 1.0):
        raise ValueError(f"`beta_min` must be a float in [0, 1). Received: beta_min={beta_min!r}")
    return np.linspace(float(beta_min), 1.0, n_temperatures)


def check_betas(betas):
    """`betas` as float64 if it is a valid ladder: >= 2 values, increasing, in [0, 1], last 1."""
    arr = np.asarray(betas, dtype="float64")
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            f"`betas` must be a 1-D ladder of at least 2 inverse temperatures. Received: shape={arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or arr[0] < 0 or arr[-1] != 1.0 or np.any(np.diff(arr) <= 0):
        raise ValueError(
            "`betas` must increase strictly from a value >= 0 to beta = 1 (the RBM itself). "
            f"Received: betas={arr.tolist()}"
        )
    return arr


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


def _exchange(rbm, v, betas, parity, seed):
    """Propose swaps of the pairs (k, k+1), k = parity mod 2, of v (K, M, D).

    Returns the new states and the (K-1,) fraction of accepted swaps (zero
    for the pairs of the other parity).
    """
    K, M = ops.shape(v)[0], ops.shape(v)[1]
    pre = rbm.compute_hidden_logits(ops.reshape(v, (K * M, -1)))
    pre = ops.reshape(pre, (K, M, -1))  # c + vW, (K, M, H)
    bv = ops.sum(v * rbm.visible_bias, -1)  # b . v, (K, M)

    def free(beta, bv_, pre_):  # F_beta(v) with beta broadcast over (K', 1)
        return -beta * bv_ - ops.sum(ops.softplus(beta[..., None] * pre_), -1)

    b = ops.reshape(betas, (-1, 1))  # (K, 1)
    own = free(b, bv, pre)  # F_k(v_k), (K, M)
    # F_k(v_{k+1}) and F_{k+1}(v_k), (K-1, M)
    cross_lo = free(b[:-1], bv[1:], pre[1:])
    cross_hi = free(b[1:], bv[:-1], pre[:-1])
    log_a = own[:-1] + own[1:] - cross_lo - cross_hi
    u = _backend.uniform(ops.shape(log_a), log_a.dtype, seed)
    pair = ops.cast(ops.equal(ops.arange(K - 1) % 2, parity), "bool")[:, None]  # (K-1, 1)
    accept = ops.logical_and(pair, ops.less(ops.log(u), log_a))  # (K-1, M)
    no = ops.zeros((1, M), "bool")
    take_next = ops.concatenate([accept, no], 0)[..., None]  # replica k takes v_{k+1}
    take_prev = ops.concatenate([no, accept], 0)[..., None]  # replica k+1 takes v_k
    v_next = ops.concatenate([v[1:], v[-1:]], 0)
    v_prev = ops.concatenate([v[:1], v[:-1]], 0)
    v = ops.where(take_next, v_next, ops.where(take_prev, v_prev, v))
    return v, ops.mean(ops.cast(accept, log_a.dtype), axis=1)


def _pt_sweeps(rbm, v, betas, n_sweeps, seed):
    """`n_sweeps` rounds of (sweep all replicas, exchange even pairs, exchange odd pairs).

    v: (K, M, D); returns (v, accepted (K-1,) summed over rounds).
    """
    K, M = ops.shape(v)[0], ops.shape(v)[1]
    beta_rows = ops.reshape(ops.repeat(betas, M), (K * M, 1))

    def body(i, state):
        v, acc = state
        flat = _tempered_sweep(rbm, ops.reshape(v, (K * M, -1)), beta_rows, seed)
        v = ops.reshape(flat, (K, M, -1))
        v, a0 = _exchange(rbm, v, betas, 0, seed)
        v, a1 = _exchange(rbm, v, betas, 1, seed)
        return v, acc + a0 + a1

    return ops.fori_loop(0, n_sweeps, body, (v, ops.zeros((K - 1,), v.dtype)))


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
    betas = check_betas(default_betas() if betas is None else betas)
    K, D = len(betas), rbm.n_visible
    seed_gen = keras.random.SeedGenerator(seed)
    if initial is None:
        v0 = bernoulli(ops.full((K, n, D), 0.5, rbm.compute_dtype), seed_gen)
    else:
        start = rbm._validate("initial", initial)
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

    def train_step(self, data):
        """One update with the parallel-tempering negative phase; returns the metrics.

        Under a `tf.distribute` strategy with R replicas, replica r holds n_r
        of the B examples of the global batch and its share of the M chains at
        every temperature (`distribute.replica_slice`); the rows are weighted
        -1/B and +1/M, so the summed gradient is the single-device one, and
        the chains and exchange statistics are reassembled over the replicas.
        """
        if self._minibatch_size is not None:
            return self._train_chunk(data)
        v, batch, n_monitor, global_batch = self._begin_step(data)
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
        self._contrastive_update(
            rows, ph, batch, n_model, global_batch, ops.cast(self.n_chains, dtype)
        )
        reconstruction = self.compute_visible_mean(bernoulli(ph[:n_monitor], self.seed_generator))
        self.metric_tracker.update_state(
            self._metric_values(v[:n_monitor], pre[:n_monitor], v[:n_monitor], reconstruction)
        )
        return distribute.step_outputs(self.metric_tracker.result())

    def get_config(self):
        config = super().get_config()
        config.pop("persistent", None)
        config.update({"n_temperatures": self.n_temperatures, "beta_min": self.beta_min})
        return config
