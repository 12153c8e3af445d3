"""Variational lower bounds on log p(v) of the deep Boltzmann models, in nats.

Both deep models of the family report a bound of the same form,

    log p(v) >= E_Q[log p*(v, h)] + H(Q(h | v)) - log Z,

with a factorial Q: the deep belief network's recognition distribution
(Salakhutdinov & Murray 2008) and the deep Boltzmann machine's mean-field
posterior (Salakhutdinov & Hinton 2009). What they share lives here: the
entropy of independent Bernoulli units, the log-probability of binary data
under independent Bernoulli units, log Z given, exact or by AIS, and the
`LikelihoodBound` that combines the examples' spread with AIS's error bar.
"""

import math
from typing import NamedTuple

import numpy as np
from keras import ops

from keras_genmodels.rbm import partition
from keras_genmodels.sampling.ais import AISEstimate


class LikelihoodBound(NamedTuple):
    """A variational lower bound on log p(v), in nats.

    Attributes:
        mean: the bound averaged over the examples.
        stderr: its standard error, sqrt(se_examples^2 + std(log Z)^2): the
            examples' standard error (which includes any Monte Carlo noise of
            each example's estimate) and AIS's error bar on log Z (0 for an
            exact or a given float log Z).
        per_example: the bound of each example, a float64 NumPy array (N,).
        log_z: the log Z used, a float.
    """

    mean: float
    stderr: float
    per_example: np.ndarray
    log_z: float


def bernoulli_log_likelihood(x, logits):
    """log prod_i Bernoulli(x_i; sigmoid(a_i)) = sum_i [x_i a_i - softplus(a_i)], over the last axis."""
    return ops.sum(x * logits - ops.softplus(logits), axis=-1)


def bernoulli_entropy(logits):
    """H of independent Bernoulli(sigmoid(a_j)) units: sum_j [softplus(a_j) - sigmoid(a_j) a_j].

    Written in the logits a_j, it stays finite as sigmoid(a_j) -> 0 or 1.
    """
    return ops.sum(ops.softplus(logits) - ops.sigmoid(logits) * logits, axis=-1)


def resolve_log_z(rbm, log_z=None, method="auto", ais_chains=100, betas=None, seed=None):
    """`(log Z, its standard error)` of `rbm`: given, exact, or by AIS.

    Args:
        rbm: the `BernoulliRBM` whose partition function is wanted (the
            top RBM of a DBN, the bipartite view of a DBM).
        log_z: a known log Z (a finite float or an `AISEstimate`), or `None`
            to compute it. Defaults to `None`.
        method: `"auto"` (exact when `partition.auto_method` says so, else
            AIS), `"exact"` or `"ais"`. Defaults to `"auto"`.
        ais_chains, betas, seed: the AIS's runs, schedule and seed.

    Returns:
        `(float, float)`: log Z and its standard error (0 unless by AIS).
    """
    if log_z is None:
        method = partition.auto_method(rbm) if method == "auto" else method
        if method == "exact":
            return rbm.log_partition_exact(), 0.0
        estimate = partition.log_partition_ais(rbm, betas=betas, n_chains=ais_chains, seed=seed)
        return float(estimate.log_z), float(estimate.std)
    if isinstance(log_z, AISEstimate):
        return float(log_z.log_z), float(log_z.std)
    if isinstance(log_z, (bool, np.bool_)) or not isinstance(log_z, (int, float, np.integer, np.floating)) or not (
        math.isfinite(float(log_z))
    ):
        raise ValueError(f"`log_z` must be a finite float or an AISEstimate. Received: log_z={log_z!r}")
    return float(log_z), 0.0


def likelihood_bound(unnormalized, log_z, log_z_std):
    """The `LikelihoodBound` of per-example E_Q[log p*] + H(Q) values, given log Z and its error."""
    per_example = np.asarray(unnormalized, dtype="float64").reshape(-1) - float(log_z)
    n = per_example.size
    spread = float(np.std(per_example, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return LikelihoodBound(
        mean=float(np.mean(per_example)),
        stderr=math.sqrt(spread**2 + float(log_z_std) ** 2),
        per_example=per_example,
        log_z=float(log_z),
    )
