"""Parallel tempering (replica exchange), for any model with a tempered density.

K replicas of a model at inverse temperatures 0 <= beta_1 < ... < beta_K = 1,
p_beta(x) ∝ exp(log p*_beta(x)), each run M chains of a transition that leaves
its p_beta invariant. After every round of transitions, neighbouring replicas
k, k+1 (the even pairs, then the odd pairs) propose to exchange their states,
accepted with the Metropolis probability

    A = min(1, exp(log p*_k(x_{k+1}) + log p*_{k+1}(x_k) - log p*_k(x_k) - log p*_{k+1}(x_{k+1}))),

which leaves the product of the K distributions invariant (Swendsen & Wang
1986; Geyer 1991). Hot replicas cross between the modes that the chain at
beta = 1 cannot leave, and the exchanges carry those crossings down.

A model supplies `statistics(x)`, what its tempered log-density needs of a
state (computed once per state per exchange), and
`log_density(statistics, beta)`, the unnormalised log p*_beta from them, with
beta broadcast against the states' leading axes; for an energy model
`statistics` is E(x) and `log_density` is -beta E. `exchange` and `sweeps`
run in `keras.ops` (compile them with `backend.compile_function`). The RBM
uses them in `keras_genmodels.rbm.tempering`.
"""

import numpy as np
from keras import ops

from keras_genmodels._validation import check_positive_int
from keras_genmodels.sampling import backend


def default_betas(n_temperatures=10, beta_min=0.0):
    """`n_temperatures` inverse temperatures evenly spaced from `beta_min` to 1."""
    n_temperatures = check_positive_int("n_temperatures", n_temperatures, max_value=2**16)
    if n_temperatures < 2:
        raise ValueError(
            f"Parallel tempering needs `n_temperatures` >= 2. Received: n_temperatures={n_temperatures}"
        )
    if not (isinstance(beta_min, (int, float)) and not isinstance(beta_min, bool) and 0.0 <= beta_min < 1.0):
        raise ValueError(f"`beta_min` must be a float in [0, 1). Received: beta_min={beta_min!r}")
    return np.linspace(float(beta_min), 1.0, n_temperatures)


def check_betas(betas):
    """`betas` as float64 if it is a valid ladder: >= 2 values, increasing, in [0, 1], last 1."""
    try:
        arr = np.asarray(betas, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(
            f"`betas` must be a 1-D ladder of inverse temperatures (floats). Received: betas={betas!r}"
        ) from None
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            f"`betas` must be a 1-D ladder of at least 2 inverse temperatures. Received: shape={arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or arr[0] < 0 or arr[-1] != 1.0 or np.any(np.diff(arr) <= 0):
        raise ValueError(
            "`betas` must increase strictly from a value >= 0 to beta = 1 (the model itself). "
            f"Received: betas={arr.tolist()}"
        )
    return arr


def exchange(x, betas, statistics, log_density, parity, seed):
    """Propose swaps of the pairs (k, k+1), k = parity mod 2, of the states x (K, M, ...).

    Args:
        x: the replicas' states, (K, M, ...), beta increasing along axis 0.
        betas: the K inverse temperatures, a tensor.
        statistics: `statistics(x_flat)` of the (K M, ...) states: a tensor
            or a tuple of tensors with leading axis K M.
        log_density: `log_density(stats, beta)`: log p*_beta from `stats`
            reshaped to (K', M, ...) and `beta` of shape (K', 1); (K', M).
        parity: 0 (pairs 0-1, 2-3, ...) or 1 (pairs 1-2, 3-4, ...).
        seed: a `keras.random.SeedGenerator`.

    Returns:
        `(x, accepted)`: the new states and the (K-1,) fraction of accepted
        swaps of each pair (zero for the pairs of the other parity).
    """
    K, M = ops.shape(x)[0], ops.shape(x)[1]
    flat = ops.reshape(x, (K * M,) + tuple(x.shape[2:]))
    stats = statistics(flat)
    single = not isinstance(stats, tuple)
    stats = (stats,) if single else stats
    stats = tuple(ops.reshape(s, (K, M) + tuple(s.shape[1:])) for s in stats)

    def density(beta, rows):
        picked = tuple(s[rows] for s in stats)
        return log_density(picked[0] if single else picked, beta)

    b = ops.reshape(betas, (-1, 1))  # (K, 1)
    lo, hi = slice(None, -1), slice(1, None)
    own = density(b, slice(None))  # log p*_k(x_k), (K, M)
    # log p*_k(x_{k+1}) and log p*_{k+1}(x_k), (K-1, M)
    cross_lo, cross_hi = density(b[lo], hi), density(b[hi], lo)
    log_a = -own[lo] - own[hi] + cross_lo + cross_hi
    u = backend.uniform(ops.shape(log_a), log_a.dtype, seed)
    pair = ops.cast(ops.equal(ops.arange(K - 1) % 2, parity), "bool")[:, None]  # (K-1, 1)
    accept = ops.logical_and(pair, ops.less(ops.log(u), log_a))  # (K-1, M)
    no = ops.zeros((1, M), "bool")
    extra = (1,) * (len(x.shape) - 2)
    take_next = ops.reshape(ops.concatenate([accept, no], 0), (K, M) + extra)  # k takes x_{k+1}
    take_prev = ops.reshape(ops.concatenate([no, accept], 0), (K, M) + extra)  # k+1 takes x_k
    x_next = ops.concatenate([x[1:], x[-1:]], 0)
    x_prev = ops.concatenate([x[:1], x[:-1]], 0)
    x = ops.where(take_next, x_next, ops.where(take_prev, x_prev, x))
    return x, ops.mean(ops.cast(accept, log_a.dtype), axis=1)


def sweeps(x, betas, transition, statistics, log_density, n_rounds, seed):
    """`n_rounds` rounds of (a transition of every replica, even exchanges, odd exchanges).

    Args:
        x: (K, M, ...) states.
        betas: the K inverse temperatures, a tensor.
        transition: `transition(x_flat, beta_rows, seed)`: one step of every
            (K M, ...) state at its replica's beta, `beta_rows` (K M, 1).
        statistics, log_density: as in `exchange`.
        n_rounds: the number of rounds (a Python int or a scalar tensor).
        seed: a `keras.random.SeedGenerator`.

    Returns:
        `(x, accepted)`: the states, and the (K-1,) accepted fractions summed
        over the rounds (divide by `n_rounds` for the acceptance rates).
    """
    K, M = ops.shape(x)[0], ops.shape(x)[1]
    beta_rows = ops.reshape(ops.repeat(betas, M), (K * M, 1))
    state_shape = tuple(x.shape[2:])

    def body(i, state):
        x, acc = state
        flat = transition(ops.reshape(x, (K * M,) + state_shape), beta_rows, seed)
        x = ops.reshape(flat, (K, M) + state_shape)
        x, a0 = exchange(x, betas, statistics, log_density, 0, seed)
        x, a1 = exchange(x, betas, statistics, log_density, 1, seed)
        return x, acc + a0 + a1

    return ops.fori_loop(0, n_rounds, body, (x, ops.zeros((K - 1,), x.dtype)))
