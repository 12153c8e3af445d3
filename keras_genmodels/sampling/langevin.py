"""Langevin dynamics for any differentiable energy, with or without a Metropolis adjustment.

The target is p(x) ∝ exp(-E(x)) over real x (a batch of images, points, ...).
One step of the unadjusted Langevin algorithm (ULA) is the Euler-Maruyama
discretisation of the Langevin diffusion dx = -∇E(x) dt + √2 dW:

    x' = x - ε ∇E(x) + s ξ,   ξ ~ N(0, I),   s = √(2ε)

(`noise_scale` sets s apart from ε, the parametrisation of Du & Mordatch
2019 and of Foster's *Generative Deep Learning*, whose EBMs take a large
gradient step and a small noise). ULA is biased: its stationary law is not
p but p's discretisation, off by O(ε). On E(x) = ‖x‖²/(2σ²) a coordinate
follows the AR(1) process x' = (1 - ε/σ²) x + s ξ, whose stationary variance
is s² / (1 - (1 - ε/σ²)²), i.e. σ² / (1 - ε/(2σ²)) for s = √(2ε), not σ².

The Metropolis-adjusted Langevin algorithm (MALA, Roberts & Tweedie 1996)
removes the bias: it takes the ULA step as a proposal x' and accepts it with

    α(x -> x') = min(1, exp(-E(x') + E(x)) q(x | x') / q(x' | x)),
    q(b | a) = N(b; a - ε g(a), s² I),

so that log q(x' | x) = -‖ξ‖²/2 + c and log q(x | x') =
-‖x - x' + ε g(x')‖² / (2 s²) + c. The chain then satisfies detailed balance
for p exactly, at any ε, s and for any drift g (the gradient, or the
gradient clipped elementwise): only the acceptance rate depends on them.

Both run many chains at once, one per row of a batch, with a
`keras.ops.fori_loop`; `langevin` is the eager entry point (checks, then one
compiled loop), `langevin_steps` the core that a model's `train_step` calls
inside its own graph.
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_genmodels._validation import (
    check_array,
    check_bool,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from keras_genmodels.sampling import backend


def _traced(x):
    """Whether `x` belongs to code being traced (a `tf.function`, a JAX trace)."""
    name = keras.backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        return not tf.executing_eagerly()
    if name == "jax":
        import jax

        return isinstance(x, jax.core.Tracer)
    return False


def _per_row(energy):
    """`energy` with an output of shape (batch, 1) squeezed to (batch,)."""

    def energy_per_row(x):
        e = ops.convert_to_tensor(energy(x))
        if len(e.shape) == 2 and e.shape[1] == 1:
            e = ops.squeeze(e, axis=1)
        return e

    return energy_per_row


def langevin_steps(
    energy,
    x,
    steps,
    step_size,
    noise_scale=None,
    metropolis=False,
    grad_clip=None,
    bounds=None,
    seed_generator=None,
):
    """Run `steps` Langevin (or MALA) steps from `x`, as ops of the current context.

    The traced core of `langevin`: it checks nothing and compiles nothing, and
    builds its `keras.ops.fori_loop` wherever it is called (eagerly, in a
    `tf.function`, in a model's `train_step`, under XLA), so a family's
    training step samples its negatives with it directly, e.g. an EBM's
    `x_neg, _ = langevin_steps(self.energy, x_init, 60, 10.0, noise_scale=0.005,
    grad_clip=0.03, bounds=(-1.0, 1.0), seed_generator=self.seed_generator)`.

    The states are data, not functions of the weights: the start `x`, every
    energy and gradient inside the loop, and the result pass through
    `keras.ops.stop_gradient`, so a tape around the caller differentiates
    `E(x_neg)` with respect to the weights at fixed `x_neg`, and never through
    the chain (no second derivatives, no backpropagation through `steps`).

    ULA (`metropolis=False`), per step, g = clip(∇E(x), -c, c):

        x <- clip(x - ε g + s ξ, lo, hi),  ξ ~ N(0, I).

    MALA (`metropolis=True`), per step and chain: the proposal
    x' = x - ε g(x) + s ξ, accepted with probability
    min(1, exp(E(x) - E(x') + log q(x|x') - log q(x'|x))), q(b|a) =
    N(b; a - ε g(a), s² I); a proposal outside `bounds` is rejected. E and g
    of the current state are carried from step to step, so a step costs one
    energy-and-gradient evaluation (`backend.energy_and_gradient`).

    Args:
        energy: a callable written in `keras.ops`, from a batch `x` to
            energies of shape (batch,) or (batch, 1); p(x) ∝ exp(-E(x)).
        x: the start, a float tensor (batch, ...); each row is a chain.
        steps: int, the number of steps (a Python int).
        step_size: ε > 0, a float or a scalar tensor.
        noise_scale: s > 0, or `None` for s = √(2ε). Defaults to `None`.
        metropolis: bool, MALA instead of ULA. Defaults to `False`.
        grad_clip: c > 0: the gradient is clipped elementwise to [-c, c]; or
            `None`. Defaults to `None`.
        bounds: `(lo, hi)`: ULA clips x to [lo, hi] after each step (a
            projection, which piles mass on the faces of the box); MALA
            rejects proposals outside the box (exact for p restricted to the
            box). Or `None`. Defaults to `None`.
        seed_generator: a `keras.random.SeedGenerator` (its state advances),
            `None` for Keras's global one (not under a JAX trace), or a
            stateless seed pair, an int tensor `[s, k0]` of shape (2,): then
            step i draws with the pairs `[s, k0 + d i + j]` (d = 1 draw per
            step for ULA, 2 for MALA), exactly the pairs that a
            `SeedGenerator` whose state is `[s, k0]` would hand out, so both
            give the same chains. A served model samples with it (no state
            shared between requests). Defaults to `None`.

    Returns:
        `(x, acceptance_rate)`: the final states (dtype of `x`) and the mean
        acceptance over chains and steps, a float32 scalar tensor (1.0 for
        ULA).
    """
    x = ops.stop_gradient(ops.convert_to_tensor(x))
    dtype = x.dtype
    per_row = _per_row(energy)
    eps = ops.cast(step_size, dtype)
    s = ops.sqrt(2.0 * eps) if noise_scale is None else ops.cast(noise_scale, dtype)
    feature_axes = tuple(range(1, len(x.shape)))
    chain_shape = (-1,) + (1,) * len(feature_axes)  # (batch,) -> broadcastable to x

    draws_per_step = 2 if metropolis else 1
    stateless = seed_generator is not None and not isinstance(seed_generator, keras.random.SeedGenerator)

    def seed_of(i, j):
        """The seed of draw j of step i: the generator, or the stateless pair [s, k0 + d i + j]."""
        if not stateless:
            return seed_generator
        base = ops.cast(seed_generator, "int32")
        return base + ops.stack([0, ops.cast(i, "int32") * draws_per_step + j])

    def evaluate(x):
        e, g = backend.energy_and_gradient(per_row, x)
        e, g = ops.stop_gradient(e), ops.stop_gradient(g)
        if grad_clip is not None:
            g = ops.clip(g, -grad_clip, grad_clip)
        return e, g

    if not metropolis:

        def ula_step(i, x):
            _, g = evaluate(x)
            xi = backend.normal(ops.shape(x), dtype, seed_of(i, 0))
            x = x - eps * g + s * xi  # x' = x - ε g(x) + s ξ
            if bounds is not None:
                x = ops.clip(x, bounds[0], bounds[1])
            return x

        x = ops.fori_loop(0, steps, ula_step, x)
        return ops.stop_gradient(x), ops.convert_to_tensor(1.0, "float32")

    def mala_step(i, state):
        x, e, g, accepted = state
        xi = backend.normal(ops.shape(x), dtype, seed_of(i, 0))
        proposal = x - eps * g + s * xi  # x' ~ q(.|x) = N(x - ε g(x), s² I)
        e_new, g_new = evaluate(proposal)
        # log q(x|x') - log q(x'|x) = (‖ξ‖² - ‖(x - x' + ε g(x')) / s‖²) / 2, shape (batch,)
        back = (x - proposal + eps * g_new) / s
        log_q_ratio = 0.5 * (ops.sum(ops.square(xi), feature_axes)
                             - ops.sum(ops.square(back), feature_axes))
        log_alpha = e - e_new + ops.cast(log_q_ratio, "float32")
        u = backend.uniform(ops.shape(x)[:1], "float32", seed_of(i, 1))
        accept = ops.less(ops.log(u), log_alpha)  # u < α; NaN energies are rejected
        if bounds is not None:
            inside = ops.logical_and(ops.greater_equal(proposal, bounds[0]),
                                     ops.less_equal(proposal, bounds[1]))
            accept = ops.logical_and(accept, ops.all(inside, axis=feature_axes))
        x = ops.where(ops.reshape(accept, chain_shape), proposal, x)
        g = ops.where(ops.reshape(accept, chain_shape), g_new, g)
        e = ops.where(accept, e_new, e)
        return x, e, g, accepted + ops.mean(ops.cast(accept, "float32"))

    e, g = evaluate(x)
    state = (x, e, g, ops.convert_to_tensor(0.0, "float32"))
    x, _, _, accepted = ops.fori_loop(0, steps, mala_step, state)
    return ops.stop_gradient(x), accepted / ops.cast(steps, "float32")


def check_bounds(bounds):
    """Return `bounds` as `None` or a pair of floats `(lo, hi)`, finite, lo < hi."""
    if bounds is None:
        return None
    ok = isinstance(bounds, (tuple, list)) and len(bounds) == 2 and all(
        isinstance(b, numbers.Real) and not isinstance(b, (bool, np.bool_)) for b in bounds
    )
    ok = ok and all(math.isfinite(b) for b in bounds) and bounds[0] < bounds[1]
    if not ok:
        raise ValueError(
            "`bounds` must be None or a pair (lo, hi) of finite floats with lo < hi. "
            f"Received: bounds={bounds!r}"
        )
    return float(bounds[0]), float(bounds[1])


def _check_start(x0, bounds):
    """`x0` as a float32 NumPy array: finite, float, (batch, ...), inside `bounds`."""
    if ops.is_tensor(x0):
        if not keras.backend.standardize_dtype(x0.dtype).startswith(("float", "bfloat")):
            raise ValueError(f"`x0` must be a float array. Received: x0.dtype={x0.dtype}")
        x0 = ops.convert_to_numpy(ops.cast(x0, "float32"))
    arr = check_array("x0", x0)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"`x0` must be a float array. Received: x0.dtype={arr.dtype}")
    if arr.ndim < 2:
        raise ValueError(
            f"`x0` must have at least 2 dimensions (batch, ...), one row per chain. "
            f"Received: x0.shape={arr.shape}"
        )
    arr = arr.astype("float32")
    if bounds is not None and (arr.min() < bounds[0] or arr.max() > bounds[1]):
        raise ValueError(
            f"`x0` must lie within `bounds` = {bounds}. "
            f"Received: x0 values in [{arr.min()}, {arr.max()}]"
        )
    return arr


def _check_energy_at(energy, x0):
    """Evaluate `energy` once on `x0` (eagerly): one finite energy per row."""
    e = np.asarray(ops.convert_to_numpy(ops.cast(energy(ops.convert_to_tensor(x0)), "float32")))
    batch = x0.shape[0]
    if e.shape not in ((batch,), (batch, 1)):
        raise ValueError(
            f"`energy` must return one energy per row of `x0`, shape ({batch},) or "
            f"({batch}, 1). Received: shape={e.shape}"
        )
    if not np.all(np.isfinite(e)):
        bad = np.flatnonzero(~np.isfinite(e.ravel()))
        raise ValueError(
            "`energy` must be finite at `x0`. Received: "
            f"{bad.size} NaN/Inf energies, e.g. energy(x0)[{bad[0]}]={e.ravel()[bad[0]]}"
        )


def _check_traced_start(x0):
    """`x0` inside a traced function: a float tensor of rank >= 2, cast to float32."""
    dtype = keras.backend.standardize_dtype(x0.dtype)
    if not dtype.startswith(("float", "bfloat")):
        raise ValueError(f"`x0` must be a float array. Received: x0.dtype={dtype}")
    if len(x0.shape) < 2:
        raise ValueError(
            f"`x0` must have at least 2 dimensions (batch, ...), one row per chain. "
            f"Received: x0.shape={tuple(x0.shape)}"
        )
    return ops.cast(x0, "float32")


def langevin(
    energy,
    x0,
    steps,
    step_size,
    *,
    noise_scale=None,
    metropolis=False,
    grad_clip=None,
    bounds=None,
    seed=None,
    return_acceptance=False,
    jit_compile=True,
):
    """Sample p(x) ∝ exp(-E(x)) by Langevin dynamics, unadjusted (ULA) or Metropolis-adjusted (MALA).

    Every row of `x0` starts a chain; all chains run in one compiled
    `keras.ops.fori_loop` (`langevin_steps`). With g(x) = ∇E(x), clipped
    elementwise to [-c, c] if `grad_clip` = c, and ξ ~ N(0, I):

    - ULA: x <- x - ε g(x) + s ξ, then clipped to `bounds` if given. With
      s = √(2ε) (the default) it is the Euler-Maruyama step of the Langevin
      diffusion, whose stationary law is p; the discrete chain's is off by
      O(ε) (on a Gaussian of variance σ² its variance is σ² / (1 - ε/(2σ²))).
      With `noise_scale` s it is the "step on the gradient, separate noise"
      sampler of EBM training (Du & Mordatch 2019), which targets p only when
      s² = 2ε.
    - MALA (`metropolis=True`): x' = x - ε g(x) + s ξ is a proposal, kept
      with probability
      min(1, exp(E(x) - E(x')) q(x | x') / q(x' | x)), where
      q(b | a) = N(b; a - ε g(a), s² I) is the density of proposing b from a;
      else the chain stays at x. Its stationary distribution is exactly p,
      for any ε, s and clipping; with `bounds`, a proposal outside the box is
      rejected and the stationary law is p restricted to the box.

    The arguments are checked eagerly before anything is traced, and the
    energy is evaluated once on `x0` (which also builds a Keras layer's
    weights outside the compiled loop). Called inside a traced function (a
    `train_step`, a `tf.function`), `langevin` checks what it can see
    statically and runs `langevin_steps` in that graph, without compiling
    again.

    Args:
        energy: a callable written in `keras.ops` from a batch x (batch, ...)
            to energies of shape (batch,) or (batch, 1), e.g. a Keras model.
            It may compute in bfloat16: the energy is taken in float32 and the
            gradient comes back float32.
        x0: the starting states, a finite float array (batch, ...) with at
            least 2 dimensions; each row is a chain. Cast to float32.
        steps: int >= 1, the number of steps.
        step_size: float ε > 0, the step on the gradient.
        noise_scale: float s > 0, the standard deviation of the noise, or
            `None` for s = √(2ε). Defaults to `None`.
        metropolis: bool, whether to accept or reject each step (MALA).
            Defaults to `False`.
        grad_clip: float c > 0, the gradient is clipped elementwise to
            [-c, c] before the step; or `None`. Defaults to `None`.
        bounds: `(lo, hi)`, finite, lo < hi: ULA clips the states to
            [lo, hi] after each step (as Foster does for images in [-1, 1]);
            MALA rejects proposals outside the box. `x0` must lie inside.
            Or `None`. Defaults to `None`.
        seed: `None`, an int, or a `keras.random.SeedGenerator` (whose state
            advances). Inside a traced function an int would replay the same
            noise at every call and is refused: pass a `SeedGenerator` (or
            `None`). Defaults to `None`.
        return_acceptance: bool, whether to return the acceptance rate too.
            Defaults to `False`.
        jit_compile: bool, whether XLA compiles the loop (TensorFlow). Without
            XLA the draws are TensorFlow's own; with it, ThreeFry
            (`backend.normal`). Defaults to `True`.

    Returns:
        The final states, a float32 tensor shaped like `x0`; with
        `return_acceptance`, `(states, acceptance_rate)`, the mean acceptance
        over chains and steps (1.0 for ULA): a Python float when called
        eagerly, a scalar tensor when traced.

    Example:
    ```python
    energy = lambda x: 0.5 * keras.ops.sum(x**2, axis=-1)   # N(0, I)
    x0 = np.zeros((1000, 2), "float32")
    x, rate = langevin(energy, x0, steps=200, step_size=0.5, metropolis=True,
                       seed=0, return_acceptance=True)
    np.var(x), rate  # ~1.0 (ULA at this step size: 4/3), ~0.88
    ```

    References:
        G. O. Roberts and R. L. Tweedie, "Exponential convergence of Langevin
        distributions and their discrete approximations", Bernoulli 2, 341
        (1996) (MALA); M. Welling and Y. W. Teh, "Bayesian learning via
        stochastic gradient Langevin dynamics", ICML 2011; Y. Du and
        I. Mordatch, "Implicit generation and generalization in energy-based
        models", arXiv:1903.08689 (2019).
    """
    if not callable(energy):
        raise ValueError(
            f"`energy` must be a callable from a batch to energies. "
            f"Received: energy={energy!r}"
        )
    steps = check_positive_int("steps", steps)
    step_size = check_positive_float("step_size", step_size)
    if noise_scale is not None:
        noise_scale = check_positive_float("noise_scale", noise_scale)
    if grad_clip is not None:
        grad_clip = check_positive_float("grad_clip", grad_clip)
    bounds = check_bounds(bounds)
    metropolis = check_bool("metropolis", metropolis)
    return_acceptance = check_bool("return_acceptance", return_acceptance)
    jit_compile = check_bool("jit_compile", jit_compile)
    traced = _traced(x0)
    if isinstance(seed, keras.random.SeedGenerator):
        seed_generator = seed
    elif traced:
        if seed is not None:
            raise ValueError(
                "Inside a traced function `seed` must be a keras.random.SeedGenerator "
                "or None (an int would draw the same noise at every call). "
                f"Received: seed={seed!r}"
            )
        seed_generator = None  # Keras's global generator
    else:
        seed_generator = keras.random.SeedGenerator(check_seed("seed", seed))

    def run(x):
        return langevin_steps(
            energy, x, steps, step_size, noise_scale=noise_scale, metropolis=metropolis,
            grad_clip=grad_clip, bounds=bounds, seed_generator=seed_generator,
        )

    if traced:
        start = _check_traced_start(x0) if ops.is_tensor(x0) else _check_start(x0, bounds)
        states, rate = run(ops.convert_to_tensor(start))
        return (states, rate) if return_acceptance else states
    x0 = _check_start(x0, bounds)
    _check_energy_at(energy, x0)
    states, rate = backend.compile_function(run, jit_compile=jit_compile)(
        ops.convert_to_tensor(x0)
    )
    return (states, float(ops.convert_to_numpy(rate))) if return_acceptance else states
