"""The adversarial losses, in `keras.ops`, per example.

With D the discriminator (logits) or critic (scores), x real and x̃ = G(z)
generated:

- DCGAN (Goodfellow et al. 2014, with the non-saturating generator loss):
  discriminator ℓ_D = −log σ(D(x)) − log(1 − σ(D(x̃))), with real labels 1
  (or 1 − ε under one-sided label smoothing, Salimans et al. 2016: the real
  target becomes 1 − ε, the fake target stays 0); generator
  ℓ_G = −log σ(D(x̃)). Both are binary cross-entropies of logits,
  softplus(−d) for target 1 and softplus(d) for target 0, stable for any d.
- WGAN-GP (Gulrajani et al. 2017, Algorithm 1): critic
  ℓ_D = D(x̃) − D(x) + λ (‖∇_x̂ D(x̂)‖₂ − 1)², x̂ = α x + (1 − α) x̃ with
  α ~ U(0, 1) per example; generator ℓ_G = −D(x̃). The critic's estimate of
  the Wasserstein-1 distance is mean D(x) − mean D(x̃).

The per-example forms let a `train_step` divide sums by the global batch
size under `tf.distribute` (`keras_genmodels.distribute`).
"""

import keras
from keras import ops

from keras_genmodels.sampling import backend


def _flat(scores):
    """Scores of shape (batch,) or (batch, 1) as float32 (batch,)."""
    scores = ops.cast(scores, "float32")
    return ops.reshape(scores, (-1,))


def discriminator_losses(real_logits, fake_logits, label_smoothing=0.0):
    """Per-example DCGAN discriminator loss, (batch,).

    ℓ = BCE(σ(D(x)), 1 − ε) + BCE(σ(D(x̃)), 0) with ε = `label_smoothing`
    (one-sided: the fake target is 0, Salimans et al. 2016):
    (1 − ε) softplus(−d) + ε softplus(d) + softplus(d̃).
    """
    d, d_fake = _flat(real_logits), _flat(fake_logits)
    eps = label_smoothing
    return (1.0 - eps) * ops.softplus(-d) + eps * ops.softplus(d) + ops.softplus(d_fake)


def generator_losses(fake_logits):
    """Per-example non-saturating DCGAN generator loss, −log σ(D(x̃)) = softplus(−D(x̃)), (batch,)."""
    return ops.softplus(-_flat(fake_logits))


def critic_losses(real_scores, fake_scores):
    """Per-example WGAN critic loss without the penalty, D(x̃) − D(x), (batch,)."""
    return _flat(fake_scores) - _flat(real_scores)


def critic_generator_losses(fake_scores):
    """Per-example WGAN generator loss, −D(x̃), (batch,)."""
    return -_flat(fake_scores)


def safe_norm(x, axis):
    """‖x‖₂ over `axis`, with gradient 0 (not NaN) where the norm is 0.

    √(Σ x²) has an infinite derivative at 0, and 0 · ∞ = NaN in the backward
    pass (keras-io#624); the two `where`s give the exact value everywhere and
    the subgradient 0 at the origin.
    """
    squared = ops.sum(ops.square(x), axis=axis)
    positive = squared > 0
    return ops.where(positive, ops.sqrt(ops.where(positive, squared, ops.ones_like(squared))), 0.0)


def gradient_penalties(critic, real, fake, seed=None, conditions=None):
    """Per-example gradient penalty (‖∇_x̂ D(x̂)‖₂ − 1)², (batch,).

    x̂ = α x_real + (1 − α) x_fake, α ~ U(0, 1) drawn once per example
    (Gulrajani et al. 2017, Algorithm 1; not a normal draw,
    keras-team/keras-io#143, #415). The gradient is taken with respect to x̂
    only; an enclosing tape differentiates the penalty with respect to the
    critic's weights (a second-order gradient).

    Args:
        critic: a callable from x̂ (or `[x̂, conditions]`) to (batch, 1) or (batch,) scores.
        real, fake: float tensors of one shape (batch, ...).
        seed: int, `keras.random.SeedGenerator`, seed-pair tensor or `None`.
        conditions: the condition batch of a conditional critic, or `None`.
    """
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    shape = ops.shape(real)
    alpha = keras.random.uniform((shape[0],) + (1,) * (len(real.shape) - 1), seed=seed)
    mixed = alpha * real + (1.0 - alpha) * fake

    def score(x):
        out = critic(x if conditions is None else [x, conditions], training=True)
        return _flat(out)

    _, grad = backend.energy_and_gradient(score, mixed)
    norms = safe_norm(ops.reshape(grad, (shape[0], -1)), axis=1)
    return ops.square(norms - 1.0)


def gradient_penalty(critic, real, fake, seed=None, conditions=None):
    """The WGAN-GP gradient penalty: mean over the batch of (‖∇_x̂ D(x̂)‖₂ − 1)².

    x̂ = α x_real + (1 − α) x_fake with α ~ U(0, 1) per example; finite (with
    gradient) at zero gradient norm (`safe_norm`). See `gradient_penalties`.

    Example:

    ```python
    from keras_genmodels.gan import gradient_penalty, wgan_gp_critic
    critic = wgan_gp_critic()
    gp = gradient_penalty(critic, real, fake, seed=0)   # a float32 scalar
    ```

    Reference: Gulrajani et al. 2017, "Improved Training of Wasserstein
    GANs", arXiv 1704.00028, eq. (3).
    """
    return ops.mean(gradient_penalties(critic, real, fake, seed=seed, conditions=conditions))
