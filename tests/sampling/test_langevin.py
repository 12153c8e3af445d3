"""Langevin dynamics (ULA) and MALA against distributions whose answer is known.

The chains are many and short: every row of a batch is an independent chain,
so the final states of N chains that have converged are N independent draws
and the Monte Carlo error of a statistic is that of N i.i.d. samples. Every
bound below is five of those standard errors (or the matching tail of the
test's null distribution), so a correct sampler fails with probability
< 1e-5; each exactness check is paired with a check that a sampler known to
be wrong (ULA at the same step) fails the same bound.
"""

import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_genmodels.sampling import backend, langevin, langevin_steps

Z = 5.0  # standard errors allowed


def gaussian(sigma):
    """E(x) = ‖x‖² / (2σ²), the N(0, σ² I) energy."""
    return lambda x: ops.sum(x**2, axis=-1) / (2.0 * sigma**2)


def check_variance(x, expected):
    """Sample mean 0 and variance `expected`, within Z standard errors of N i.i.d. normals."""
    x = np.asarray(x, np.float64).ravel()
    n = x.size
    assert abs(x.mean()) < Z * math.sqrt(expected / n)
    # Var of the sample variance of n normals: 2 V² / (n - 1).
    assert abs(x.var() - expected) < Z * expected * math.sqrt(2.0 / (n - 1)), x.var()


# ---------------------------------------------------------------------------
# The Gaussian: ULA's biased stationary variance in closed form, MALA's exact one.


def ula_variance(sigma, eps, s):
    """Stationary variance of x' = (1 - ε/σ²) x + s ξ, the AR(1) that ULA is on a Gaussian."""
    return s**2 / (1.0 - (1.0 - eps / sigma**2) ** 2)


@pytest.mark.parametrize(
    "sigma, eps, noise_scale",
    [(1.0, 0.5, None), (1.5, 1.0, None), (1.0, 0.5, 0.5)],
)
def test_ula_has_the_ar1_stationary_variance(sigma, eps, noise_scale):
    s = math.sqrt(2 * eps) if noise_scale is None else noise_scale
    expected = ula_variance(sigma, eps, s)
    assert abs(expected - sigma**2) > 0.25 * sigma**2  # the bias is visible at this step
    x0 = np.zeros((10000, 4), "float32")
    # |1 - ε/σ²| <= 0.56: after 60 steps the variance is within 1e-15 of its limit.
    x = langevin(gaussian(sigma), x0, 60, eps, noise_scale=noise_scale, seed=0, jit_compile=False)
    check_variance(x, expected)


@pytest.mark.parametrize(
    "sigma, eps, noise_scale, grad_clip, jit_compile",
    [
        (1.0, 0.5, None, None, True),
        (1.0, 0.5, None, None, False),
        (1.5, 1.0, None, None, False),
        (1.0, 0.5, 0.7, None, False),  # s² = 0.49 != 2ε: the proposal density must use s
        (1.0, 0.5, None, 0.5, False),  # |x| > 0.5 clipped: the reverse density must use g clipped
    ],
)
def test_mala_is_exact_on_a_gaussian(sigma, eps, noise_scale, grad_clip, jit_compile):
    x0 = np.zeros((10000, 4), "float32")
    x, rate = langevin(
        gaussian(sigma), x0, 200, eps, noise_scale=noise_scale, grad_clip=grad_clip,
        metropolis=True, seed=1, return_acceptance=True, jit_compile=jit_compile,
    )
    assert x.dtype == "float32" and x.shape == (10000, 4)
    assert 0.3 < rate < 1.0
    check_variance(x, sigma**2)
    # ULA at the same settings misses σ² by far more than the same bound.
    if noise_scale is None and grad_clip is None:
        y = langevin(gaussian(sigma), x0, 200, eps, seed=1, jit_compile=jit_compile)
        with pytest.raises(AssertionError):
            check_variance(y, sigma**2)


# ---------------------------------------------------------------------------
# Two-dimensional densities: Z and the bin probabilities by quadrature on a grid.


def double_well(x):
    """Two wells at x₁ ≈ ±1 tilted to hold 70% / 30% of the mass, barrier ~2."""
    return 2.0 * (x[:, 0] ** 2 - 1.0) ** 2 - 0.5 * x[:, 0] + 0.5 * x[:, 1] ** 2


def ring(x):
    """A ring of radius 2 and radial width 0.3."""
    r = ops.sqrt(ops.sum(x**2, axis=-1) + 1e-12)
    return (r - 2.0) ** 2 / (2 * 0.3**2)


MIX_W = np.array([0.5, 0.3, 0.2], "float32")
MIX_MU = np.array([[-1.5, 0.0], [1.5, 0.5], [0.0, 2.0]], "float32")
MIX_SD = np.array([0.6, 0.7, 0.5], "float32")


def mixture(x):
    """-log Σ_k w_k N(x; μ_k, σ_k² I) (up to a constant)."""
    d2 = ops.sum((x[:, None, :] - MIX_MU) ** 2, axis=-1)  # (batch, 3)
    return -ops.logsumexp(np.log(MIX_W) - d2 / (2 * MIX_SD**2) - 2 * np.log(MIX_SD), axis=-1)


HALF_WIDTH, CELL, BIN = 5.0, 0.025, 20  # grid [-5, 5]², cells of 0.025, bins of 20 x 20 cells


def bin_probabilities(energy):
    """Exact probabilities of the 0.5 x 0.5 bins of [-5, 5]²: p = exp(-E) / Z by the midpoint rule."""
    c = np.arange(-HALF_WIDTH + CELL / 2, HALF_WIDTH, CELL)
    grid = np.stack(np.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2).astype("float32")
    log_p = -np.asarray(energy(grid), np.float64)
    log_p -= np.logaddexp.reduce(log_p)  # log Z (the cell area cancels)
    n = c.size // BIN
    return np.exp(log_p).reshape(n, BIN, n, BIN).sum(axis=(1, 3)).ravel()


def chi_square(samples, probabilities, min_expected=5.0):
    """(Pearson's χ², degrees of freedom) of 2-D samples against the bin probabilities.

    Bins expected to hold fewer than `min_expected` samples are pooled with
    everything outside the grid into one bin.
    """
    samples = np.asarray(samples, np.float64)
    n_bins = math.isqrt(probabilities.size)
    idx = np.floor((samples + HALF_WIDTH) / (CELL * BIN)).astype(np.int64)
    inside = np.all((idx >= 0) & (idx < n_bins), axis=1)
    counts = np.bincount(idx[inside, 0] * n_bins + idx[inside, 1], minlength=probabilities.size)
    expected = probabilities * len(samples)
    keep = expected >= min_expected
    observed = np.append(counts[keep], len(samples) - counts[keep].sum())
    expected = np.append(expected[keep], len(samples) - expected[keep].sum())
    return float(np.sum((observed - expected) ** 2 / expected)), observed.size - 1


def chi_square_bound(dof):
    """χ²_dof's mean + Z standard deviations."""
    return dof + Z * math.sqrt(2 * dof)


@pytest.mark.parametrize(
    "energy, eps, start, ula_fails",
    [
        # From a uniform box that is not the target: the chains must cross the barrier
        # to reach the 70/30 split. ULA at this step diverges (the quartic), so is not run.
        (double_well, 0.1, "uniform", False),
        # From N(0, 2² I). ULA's radial spread is √(0.1 / (1 - 0.44²)) / 0.3 ≈ 1.2 times too wide.
        (ring, 0.05, "normal", True),
        (mixture, 0.2, "normal", True),
    ],
    ids=["double_well", "ring", "mixture"],
)
def test_mala_matches_the_exact_density_in_2d(energy, eps, start, ula_fails):
    rng = np.random.default_rng(0)
    n = 4000
    if start == "uniform":
        x0 = rng.uniform(-2.0, 2.0, size=(n, 2)).astype("float32")
    else:
        x0 = (2.0 * rng.normal(size=(n, 2))).astype("float32")
    p = bin_probabilities(energy)
    x, rate = langevin(energy, x0, 300, eps, metropolis=True, seed=2, return_acceptance=True,
                       jit_compile=False)
    stat, dof = chi_square(x, p)
    assert stat < chi_square_bound(dof), (stat, dof)
    assert 0.5 < rate < 1.0
    if ula_fails:
        y = langevin(energy, x0, 300, eps, seed=2, jit_compile=False)
        stat, dof = chi_square(y, p)
        assert stat > chi_square_bound(dof), (stat, dof)


# ---------------------------------------------------------------------------
# Gradient clipping and bounds.


def test_grad_clip_clips_each_coordinate_of_the_gradient():
    a = np.array([10.0, 0.1], "float32")

    def linear(x):  # ∇E = a everywhere
        return ops.sum(x * a, axis=-1)

    x0 = np.zeros((3, 2), "float32")
    tiny = 1e-7  # noise far below float32's resolution of the drift
    x = langevin(linear, x0, 5, 0.1, noise_scale=tiny, grad_clip=1.0, seed=0, jit_compile=False)
    # g = clip(a, -1, 1) = (1, 0.1): x = -5 ε g.
    np.testing.assert_allclose(np.asarray(x), np.tile([-0.5, -0.05], (3, 1)), atol=1e-5)
    x = langevin(linear, x0, 5, 0.1, noise_scale=tiny, seed=0, jit_compile=False)
    np.testing.assert_allclose(np.asarray(x), np.tile([-5.0, -0.05], (3, 1)), atol=1e-5)


def tilted(x):
    """E(x) = -2 x on [-1, 1]: p(x) = 2 e^{2x} / (e² - e⁻²)."""
    return -2.0 * x[:, 0]


def tilted_cdf(x):
    return (np.exp(2 * x) - np.exp(-2.0)) / (np.exp(2.0) - np.exp(-2.0))


def ks_distance(samples, cdf):
    x = np.sort(np.asarray(samples, np.float64).ravel())
    f = cdf(x)
    n = x.size
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


def test_bounds_mala_samples_the_truncated_density_and_ula_clips():
    n = 4000
    x0 = np.full((n, 1), -0.9, "float32")
    # Kolmogorov's tail: P(√n D > t) ≈ 2 exp(-2 t²); 2 exp(-2 t²) = 1e-6 gives t = 2.69.
    ks_bound = math.sqrt(math.log(2 / 1e-6) / 2) / math.sqrt(n)
    x, rate = langevin(tilted, x0, 300, 0.1, bounds=(-1.0, 1.0), metropolis=True, seed=3,
                       return_acceptance=True, jit_compile=False)
    x = np.asarray(x)
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert rate < 1.0
    assert ks_distance(x, tilted_cdf) < ks_bound
    # ULA projects onto the box: an atom at x = 1 that the density has not.
    y = np.asarray(langevin(tilted, x0, 300, 0.1, bounds=(-1.0, 1.0), seed=3, jit_compile=False))
    assert y.min() >= -1.0 and y.max() <= 1.0
    assert np.mean(y == 1.0) > 0.05
    assert ks_distance(y, tilted_cdf) > ks_bound


# ---------------------------------------------------------------------------
# Seeds, traced calls, training steps, mixed precision.


@pytest.mark.parametrize("metropolis, jit_compile", [(True, False), (False, True)])
def test_seeded_runs_are_reproducible(metropolis, jit_compile):
    energy, x0 = gaussian(1.0), np.zeros((50, 3), "float32")
    a, b, c = (
        langevin(energy, x0, 10, 0.3, metropolis=metropolis, seed=seed, jit_compile=jit_compile)
        for seed in (4, 4, 5)
    )
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))


def test_a_seed_generator_is_used_as_given_and_advances():
    energy, x0 = gaussian(1.0), np.zeros((50, 3), "float32")
    # A SeedGenerator is used as given, and advances.
    gen = keras.random.SeedGenerator(4)
    d = langevin(energy, x0, 10, 0.3, seed=gen, jit_compile=False)
    e = langevin(energy, x0, 10, 0.3, seed=gen, jit_compile=False)
    f = langevin(energy, x0, 10, 0.3, seed=keras.random.SeedGenerator(4), jit_compile=False)
    np.testing.assert_array_equal(np.asarray(d), np.asarray(f))
    assert not np.array_equal(np.asarray(d), np.asarray(e))


@pytest.mark.parametrize("jit_compile", [False, True])
def test_langevin_inside_a_tf_function(jit_compile):
    gen = keras.random.SeedGenerator(6)

    @tf.function(jit_compile=jit_compile, input_signature=[tf.TensorSpec((None, 4), tf.float32)])
    def sample(x0):  # the batch size is unknown when traced
        return langevin(gaussian(1.0), x0, 200, 0.5, metropolis=True, seed=gen,
                        return_acceptance=True)

    x, rate = sample(tf.zeros((10000, 4)))
    assert x.dtype == tf.float32 and x.shape == (10000, 4)
    assert rate.shape == () and 0.5 < float(rate) < 1.0
    check_variance(x, 1.0)
    x2, _ = sample(tf.zeros((10000, 4)))  # the generator advances between calls
    assert not np.array_equal(x.numpy(), x2.numpy())

    @tf.function
    def with_int_seed(x0):
        return langevin(gaussian(1.0), x0, 2, 0.5, seed=0)

    with pytest.raises(ValueError, match=r"SeedGenerator or None.*Received: seed=0"):
        with_int_seed(tf.zeros((2, 4)))


def small_network(dtype=None):
    net = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(8, activation="tanh", dtype=dtype),
         keras.layers.Dense(1, dtype=dtype)]
    )
    return net


def test_no_gradient_flows_through_the_chain():
    keras.utils.set_random_seed(0)
    net = small_network()

    def energy(x):
        return 0.5 * ops.sum(x**2, axis=-1) + net(x)[:, 0]

    x_init = tf.random.normal((16, 2), seed=0)
    gen = keras.random.SeedGenerator(0)

    def through_chain():
        with tf.GradientTape(persistent=True) as tape:
            x_neg, _ = langevin_steps(energy, x_init, 5, 0.1, metropolis=True, seed_generator=gen)
            loss = ops.mean(energy(x_neg))
            moved = ops.sum(x_neg)
        return x_neg, tape.gradient(loss, net.trainable_weights), tape.gradient(
            moved, net.trainable_weights)

    for run in (through_chain, tf.function(through_chain)):
        x_neg, grads, grads_of_states = run()
        assert all(g is None for g in grads_of_states)  # the states are data
        with tf.GradientTape() as tape:
            loss = ops.mean(energy(tf.constant(x_neg.numpy())))
        expected = tape.gradient(loss, net.trainable_weights)
        for g, e in zip(grads, expected):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)


class TinyEnergyModel(keras.Model):
    """An EBM trained by contrastive divergence with MALA negatives: E(x_data) - E(x_neg)."""

    def __init__(self):
        super().__init__()
        self.net = small_network()
        self.noise = keras.random.SeedGenerator(0)

    def energy(self, x):
        return self.net(x)  # (batch, 1): squeezed by the sampler

    def call(self, x):
        return self.energy(x)

    def train_step(self, data):
        x_init = keras.random.normal(ops.shape(data), seed=self.noise)
        x_neg, rate = langevin_steps(self.energy, x_init, 10, 0.05, metropolis=True,
                                     bounds=(-4.0, 4.0), seed_generator=self.noise)
        with tf.GradientTape() as tape:
            loss = ops.mean(self.energy(data)) - ops.mean(self.energy(x_neg))
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return {"loss": loss, "acceptance": rate}


@pytest.mark.parametrize("jit_compile", [False, True])
def test_langevin_steps_in_a_train_step(jit_compile):
    model = TinyEnergyModel()
    model(np.zeros((1, 2), "float32"))
    model.compile(optimizer="sgd", jit_compile=jit_compile)
    history = model.fit(np.random.default_rng(0).normal(size=(64, 2)).astype("float32"),
                        batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert 0.0 < history.history["acceptance"][0] <= 1.0


def test_energy_and_gradient():
    a = tf.constant([[1.0, -2.0], [0.5, 3.0]])

    def energy(x):
        return ops.sum(x**3, axis=-1) / 3.0  # ∇E = x²

    for fn in (backend.energy_and_gradient, tf.function(backend.energy_and_gradient),
               tf.function(backend.energy_and_gradient, jit_compile=True)):
        e, g = fn(energy, a)
        assert e.dtype == tf.float32 and e.shape == (2,) and g.dtype == tf.float32
        np.testing.assert_allclose(e.numpy(), [-7.0 / 3.0, 27.125 / 3.0], rtol=1e-6)
        np.testing.assert_allclose(g.numpy(), a.numpy() ** 2, rtol=1e-6)
    # An energy that does not depend on x: a zero gradient, not None.
    _, g = backend.energy_and_gradient(lambda x: ops.zeros((ops.shape(x)[0],)), a)
    np.testing.assert_array_equal(g.numpy(), np.zeros((2, 2)))


def test_a_bfloat16_energy_gives_float32_gradients_and_states():
    keras.utils.set_random_seed(0)
    net = small_network(dtype="mixed_bfloat16")
    x = tf.random.normal((64, 2), seed=1)

    def energy(x):  # computed in bfloat16 throughout
        xb = ops.cast(x, "bfloat16")
        return 0.5 * ops.sum(xb**2, axis=-1) + net(xb)[:, 0]

    assert energy(x).dtype == "bfloat16"
    e, g = backend.energy_and_gradient(energy, x)
    assert e.dtype == tf.float32 and g.dtype == tf.float32
    # The same gradient as the network in float32, within bfloat16's precision (2⁻⁸).
    net32 = small_network()
    net32.set_weights(net.get_weights())
    _, g32 = backend.energy_and_gradient(lambda x: 0.5 * ops.sum(x**2, axis=-1) + net32(x)[:, 0], x)
    np.testing.assert_allclose(g.numpy(), g32.numpy(), atol=0.05 * np.abs(g32.numpy()).max())
    for metropolis, jit_compile in ((False, False), (True, True)):
        states, rate = langevin(energy, x, 20, 0.1, metropolis=metropolis, seed=0,
                                return_acceptance=True, jit_compile=jit_compile)
        assert states.dtype == "float32" and states.shape == (64, 2)
        assert np.all(np.isfinite(np.asarray(states))) and 0.0 < rate <= 1.0


# ---------------------------------------------------------------------------
# Bad input: a ValueError naming the argument and what was received, before any tracing.

GOOD = dict(energy=gaussian(1.0), x0=np.zeros((8, 2), "float32"), steps=3, step_size=0.1)

BAD = [
    ("energy", dict(energy=3), "Received: energy=3"),
    ("steps-0", dict(steps=0), "Received: steps=0"),
    ("steps-float", dict(steps=2.5), "Received: steps=2.5"),
    ("steps-bool", dict(steps=True), "Received: steps=True"),
    ("step_size-0", dict(step_size=0.0), "Received: step_size=0.0"),
    ("step_size-negative", dict(step_size=-0.1), "Received: step_size=-0.1"),
    ("step_size-nan", dict(step_size=float("nan")), "Received: step_size=nan"),
    ("step_size-inf", dict(step_size=float("inf")), "Received: step_size=inf"),
    ("step_size-str", dict(step_size="0.1"), "Received: step_size='0.1'"),
    ("noise_scale-0", dict(noise_scale=0.0), "Received: noise_scale=0.0"),
    ("noise_scale-negative", dict(noise_scale=-1.0), "Received: noise_scale=-1.0"),
    ("grad_clip-0", dict(grad_clip=0), "Received: grad_clip=0"),
    ("grad_clip-nan", dict(grad_clip=float("nan")), "Received: grad_clip=nan"),
    ("bounds-reversed", dict(bounds=(1.0, -1.0)), "Received: bounds=(1.0, -1.0)"),
    ("bounds-equal", dict(bounds=(0.0, 0.0)), "Received: bounds=(0.0, 0.0)"),
    ("bounds-infinite", dict(bounds=(-1.0, float("inf"))), "Received: bounds=(-1.0, inf)"),
    ("bounds-one", dict(bounds=(1.0,)), "Received: bounds=(1.0,)"),
    ("bounds-str", dict(bounds="ab"), "Received: bounds='ab'"),
    ("metropolis", dict(metropolis="yes"), "Received: metropolis='yes'"),
    ("seed", dict(seed="x"), "Received: seed='x'"),
    ("seed-float", dict(seed=1.5), "Received: seed=1.5"),
    ("jit_compile", dict(jit_compile=None), "Received: jit_compile=None"),
    ("return_acceptance", dict(return_acceptance=1), "Received: return_acceptance=1"),
    ("x0-1d", dict(x0=np.zeros(8, "float32")), "Received: x0.shape=(8,)"),
    ("x0-nan", dict(x0=np.array([[0.0, np.nan]], "float32")), "`x0` must contain only finite"),
    ("x0-int", dict(x0=np.zeros((8, 2), "int32")), "Received: x0.dtype=int32"),
    ("x0-int-tensor", dict(x0=tf.zeros((8, 2), tf.int32)), "Received: x0.dtype=<dtype: 'int32'>"),
    ("x0-str", dict(x0=[["a"]]), "`x0` must be a numeric array"),
    ("x0-outside-bounds", dict(x0=np.full((8, 2), 2.0, "float32"), bounds=(-1.0, 1.0)),
     "`x0` must lie within `bounds` = (-1.0, 1.0). Received: x0 values in [2.0, 2.0]"),
    ("energy-shape", dict(energy=lambda x: ops.concatenate([x, x], axis=-1)),
     "shape (8,) or (8, 1). Received: shape=(8, 4)"),
    ("energy-scalar", dict(energy=lambda x: ops.sum(x)), "Received: shape=()"),
    ("energy-nan", dict(energy=lambda x: ops.log(x[:, 0] - 1.0)),
     "finite at `x0`. Received: 8 NaN/Inf energies"),
]


@pytest.mark.parametrize("override, match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_refused_with_a_clear_message(override, match):
    kwargs = {**GOOD, **override}
    with pytest.raises(ValueError, match=re.escape(match)):
        langevin(**kwargs)


def test_a_stateless_seed_pair_gives_the_chains_of_a_generator_in_that_state():
    """What a served model relies on: draws from [s, k0 + d i + j] are those of a SeedGenerator at [s, k0]."""
    import tensorflow as tf

    from keras_genmodels.sampling import langevin_steps

    def energy(x):
        return 0.5 * keras.ops.sum(x**2, axis=1)

    x0 = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    for metropolis in (False, True):
        generator = keras.random.SeedGenerator(0)
        generator.state.assign(np.array([11, 5], "int64"))
        by_generator, _ = langevin_steps(energy, x0, 4, 0.1, metropolis=metropolis, seed_generator=generator)
        stateless = tf.function(lambda x: langevin_steps(energy, x, 4, 0.1, metropolis=metropolis,
                                                         seed_generator=tf.constant([11, 5], tf.int32))[0])
        np.testing.assert_allclose(stateless(x0), by_generator, atol=1e-6)
        assert not np.allclose(by_generator, x0)
