"""The terms of the evidence lower bound, written in `keras.ops`.

All functions return one value per example (shape `(batch,)`), in nats, so
that callers can average over the global batch or keep per-example values.

    ELBO(x) = E_Q[log p(x|h)] - KL(Q(h|x) || p(h))
"""

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _sum_over_features(t):
    """Sum every axis but the first: (batch, ...) -> (batch,)."""
    return ops.sum(ops.reshape(t, (ops.shape(t)[0], -1)), axis=-1)


def kl_diagonal_gaussians(mean0, log_var0, mean1, log_var1):
    """KL(N(μ0, Σ0) || N(μ1, Σ1)) for diagonal covariances, summed over dimensions.

        KL = ½ Σ_j [ log σ1_j² − log σ0_j² + (σ0_j² + (μ0_j − μ1_j)²) / σ1_j² − 1 ]

    Args:
        mean0, log_var0: mean and log-variance of the first Gaussian, `(batch, d)`.
        mean1, log_var1: those of the second; broadcastable to `(batch, d)`.

    Returns:
        Tensor of shape `(batch,)`.
    """
    var_ratio = ops.exp(log_var0 - log_var1)  # σ0² / σ1²
    mahalanobis = ops.square(mean0 - mean1) * ops.exp(-log_var1)  # (μ0−μ1)² / σ1²
    return 0.5 * ops.sum(var_ratio + mahalanobis - 1.0 - (log_var0 - log_var1), axis=-1)


def kl_standard_normal(mean, log_var):
    """KL(N(μ, diag σ²) || N(0, I)), the closed form of Kingma & Welling (2013):

        KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)

    Args:
        mean, log_var: `(batch, d)` mean and log-variance of Q(h|x).

    Returns:
        Tensor of shape `(batch,)`.
    """
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def bernoulli_log_likelihood(x, logits):
    """log p(x|h) for independent Bernoulli pixels with p = sigmoid(logits).

        log p(x|h) = Σ_i [x_i log p_i + (1 − x_i) log(1 − p_i)]
                   = Σ_i [x_i l_i − softplus(l_i)]

    computed from the logits l for stability (never log(sigmoid(l))).
    For x in [0, 1] that is not binary, this is minus the summed binary
    cross-entropy, as in the keras.io VAE example.

    Returns:
        Tensor of shape `(batch,)`.
    """
    return _sum_over_features(x * logits - ops.softplus(logits))


def gaussian_log_likelihood(x, mean, sigma2):
    """log N(x | f(h), σ² I) with a fixed variance σ² (a hyperparameter):

        log p(x|h) = −‖x − f(h)‖² / (2σ²) − (D/2) log(2πσ²)

    Returns:
        Tensor of shape `(batch,)`.
    """
    sq = _sum_over_features(ops.square(x - mean))
    dim = ops.cast(ops.size(x) // ops.shape(x)[0], sq.dtype)
    return -0.5 * sq / sigma2 - 0.5 * dim * (LOG_2PI + math.log(sigma2))


def diagonal_gaussian_log_density(h, mean, log_var):
    """log N(h | μ, diag σ²), summed over the last axis.

        log N = −½ Σ_j [log 2π + log σ_j² + (h_j − μ_j)² / σ_j²]
    """
    return -0.5 * ops.sum(
        LOG_2PI + log_var + ops.square(h - mean) * ops.exp(-log_var), axis=-1
    )


def standard_normal_log_density(h):
    """log N(h | 0, I), summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + ops.square(h), axis=-1)
