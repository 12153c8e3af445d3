"""The partition function Z = sum_{v,h} exp(-E(v, h)) of an RBM: exact and AIS.

Exact: sum over every state of the smaller layer (the other one is summed or
integrated out in closed form), 2^m states in compiled chunks; feasible up to
about m = 24.

Annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008): anneal
from a base-rate model p_A (independent visible units with the data's
statistics, whose Z_A is known) to the RBM p_B through the intermediate
distributions

    p*_k(v) = p*_A(v)^(1 - beta_k) p*_B(v)^beta_k,   0 = beta_0 < ... < beta_K = 1,

which for an RBM are themselves RBMs with the couplings scaled by beta_k:

    log p*_k(v) = (1 - beta_k) log p*_A(v) + beta_k (-E_v(v))
                  + sum_j softplus(beta_k (c_j + (s(v) W)_j)).

Each of M chains starts at v_1 ~ p_A, and for k = 1..K accumulates the weight

    log w += log p*_k(v_k) - log p*_{k-1}(v_k),

then moves v_{k+1} ~ T_k(v_k) by one block Gibbs sweep that leaves p_k
invariant. Then Z_B / Z_A ~= mean(w): an unbiased estimate of Z, so that
log Z is (by Jensen) underestimated on average and the log-likelihood
overestimated; the error bar says by how much it can be trusted. The loop and
the estimate are the shared driver's (`keras_genmodels.sampling.ais`); this
module gives it the RBM's sweep.
"""

import itertools
import math
import weakref

import keras
import numpy as np
from keras import ops

from keras_genmodels._validation import check_choice, check_positive_int, check_seed
from keras_genmodels.sampling import backend
from keras_genmodels.sampling.ais import (  # noqa: F401  (public here too)
    AISEstimate,
    anneal,
    check_schedule,
    default_ais_schedule,
)
from keras_genmodels.sampling.backend import compile_function

# Largest layer summed over by `log_likelihood(method="auto")` (2^20 states).
AUTO_EXACT_MAX_UNITS = 20


def auto_method(model):
    """"exact" when the layer `log_partition_exact` sums over has at most
    `AUTO_EXACT_MAX_UNITS` units, else "ais": what `method="auto"` chooses."""
    return "exact" if model.exact_layer()[1] <= AUTO_EXACT_MAX_UNITS else "ais"


def _state_bits(start, count, m):
    """The binary states start .. start+count-1 as rows of m bits, int32."""
    idx = start + ops.arange(count, dtype="int32")
    powers = ops.convert_to_tensor([2**j for j in range(m)], dtype="int32")
    return ops.mod(ops.floor_divide(idx[:, None], powers[None, :]), 2)


_EXACT_FUNCTIONS = weakref.WeakKeyDictionary()  # model -> {(layer, chunk, m, dtype): compiled chunk sum}


def log_partition_exact(model, chunk_size=2**14, max_states_log2=24):
    """log Z of an RBM by exhaustive summation, in nats.

    A `BernoulliRBM` sums over the smaller layer: over hidden states,

        log Z = log sum_h exp(c . h + sum_i softplus(b_i + (W h)_i)),

    or over visible states, log Z = log sum_v exp(-F(v)). A
    `GaussianBernoulliRBM` integrates v out and sums over h. The 2^m states
    are enumerated in chunks of `chunk_size`, each a compiled
    log-sum-exp; chunks are combined in float64.

    Args:
        model: a `BernoulliRBM` or `GaussianBernoulliRBM`.
        chunk_size: states per chunk. Defaults to `2**14`.
        max_states_log2: the largest m accepted. Defaults to `24`.

    Returns:
        log Z as a Python float.
    """
    chunk_size = check_positive_int("chunk_size", chunk_size)
    max_states_log2 = check_positive_int("max_states_log2", max_states_log2)
    layer, m = model.exact_layer()
    if m > max_states_log2:
        raise ValueError(
            f"Exact log Z sums over 2^m states of the smaller layer; expected "
            f"m <= max_states_log2={max_states_log2}. Received m={m} ({layer} "
            "units). Use log_partition_ais() instead."
        )
    total = 2**m
    chunk = min(chunk_size, total)
    log_marginal = (
        model.compute_log_marginal_hidden
        if layer == "hidden"
        else (lambda v: -model.compute_free_energy(v))
    )
    dtype = model.compute_dtype

    def chunk_logsumexp(start):
        states = ops.cast(_state_bits(start, chunk, m), dtype)
        return ops.logsumexp(log_marginal(states))

    # One compiled function per model and chunk layout, kept with the model: it
    # reads the model's variables, so later weights are summed as they are then;
    # compiling it anew each call cost ~0.2 s on a 12 x 6 RBM and retraced.
    compiled = _EXACT_FUNCTIONS.setdefault(model, {})
    key = (layer, chunk, m, dtype)
    if key not in compiled:
        compiled[key] = compile_function(chunk_logsumexp)
    fn = compiled[key]
    result = -np.inf
    for start in range(0, total, chunk):
        value = float(ops.convert_to_numpy(fn(ops.convert_to_tensor(start, "int32"))))
        result = np.logaddexp(result, value)
    return float(result)


# |a - b| up to which `softplus_difference` uses its one-log1p form (its float32
# error, ~1.2e-7 exp(a - b) where sigmoid(a) ~ 1, grows to ~2.6e-3 at 10; in AIS
# |a - b| is ~1e-3 to 1e-1).
_SOFTPLUS_DIFFERENCE_RANGE = 10.0


def softplus_difference(a, sigmoid_a, a_minus_b, in_range=False):
    """softplus(a) - softplus(b), given sigmoid(a) and a - b.

    softplus(b) - softplus(a) = log[(1 + e^b) / (1 + e^a)]
                              = log1p(sigmoid(a) expm1(b - a)),

    two transcendental functions instead of four (sigmoid(a) is needed by the
    AIS step anyway), and without the cancellation of subtracting two nearly
    equal softplus values (b - a is ~1e-3 to 1e-5 of a in AIS). When some
    |a - b| reaches `_SOFTPLUS_DIFFERENCE_RANGE` (a short schedule, large
    weights), 1 + sigmoid(a) expm1(b - a) cancels where sigmoid(a) ~ 1 (an
    error of ~1.2e-7 e^(a - b), 2.6e-3 at 10) and expm1 overflows further
    out, so the plain difference is used instead (an error of ~1.2e-7
    softplus(a)); `in_range=True` says that no |a - b| can reach it (the
    caller has bounded it), and skips that test (XLA would otherwise
    evaluate both forms).
    """

    def one_log1p():
        return -ops.log1p(sigmoid_a * ops.expm1(-a_minus_b))

    if in_range:
        return one_log1p()

    def plain():
        return ops.softplus(a) - ops.softplus(a - a_minus_b)

    small = ops.max(ops.abs(a_minus_b)) < _SOFTPLUS_DIFFERENCE_RANGE
    return ops.cond(small, one_log1p, plain)


# |a - b| up to which AIS uses `softplus_difference_series` (for every state, by the
# bound on the pre-activations): its truncation error, below |a - b|^5 / 900, is then
# below 3.5e-10 per hidden unit and step, and relative to the term below |a - b|^4 / 115
# (5.4e-8 at 0.05: under float32's rounding unit, 6e-8; the worst case is sigmoid(a) -> 0).
_SERIES_RANGE = 0.05


def softplus_difference_series(sigmoid_a, a_minus_b):
    """softplus(a) - softplus(a - x) for small |x|, from sigmoid(a): the Taylor series to x^4.

    softplus(a) - softplus(a - x) = integral_0^x sigmoid(a - t) dt
        = x s - x^2 s1 / 2 + x^3 s2 / 6 - x^4 s3 / 24 + R,
    with s = sigmoid(a) and its derivatives s1 = q = s (1 - s),
    s2 = q (1 - 2 s), s3 = q (1 - 6 q); |R| <= |x|^5 max|s4| / 120 < |x|^5 / 900
    (s4 = q (1 - 2 s)(1 - 12 q), |s4| <= 0.1277).
    Polynomial arithmetic instead of `expm1` and `log1p` (`softplus_difference`),
    for |x| up to `_SERIES_RANGE`: in AIS, s is the sigmoid the hidden sample
    needs anyway, and each temperature's operations other than its two matmuls
    take ~0.1 ms less for a 784 x 500 RBM on a 2-core CPU
    (`bench/experiments/ais_log_weight.py`).
    """
    s, x = sigmoid_a, a_minus_b
    q = s * (1.0 - s)
    correction = 1.0 - x * (1.0 - 2.0 * s) / 3.0 + x * x * (1.0 - 6.0 * q) / 12.0
    return x * (s - 0.5 * x * q * correction)


def _sweep_noise(model, hidden_shape, seed):
    """Uniforms for the hidden sample and the noise of the visible one, of a Gibbs sweep.

    Uniform visible noise is drawn with the hidden uniforms as one (M, H + D)
    tensor, then split: compiled by XLA, a draw with one consumer is fused
    into it, and the fused loop evaluates the counter-based generator once per
    element instead of once per pair of elements (~1 ms more per sweep of a
    784 x 500 RBM on a CPU).
    """
    m, n_hidden = hidden_shape
    dtype = model.compute_dtype
    if model.ais_noise == "uniform":
        u = backend.uniform((m, n_hidden + model.n_visible), dtype, seed)
        return u[:, :n_hidden], u[:, n_hidden:]
    u_h = backend.uniform(hidden_shape, dtype, seed)
    return u_h, backend.normal((m, model.n_visible), dtype, seed)


def ais_sweep(model, base, v, log_w, beta_prev, beta, seed, use_series, in_range, noise=None):
    """One AIS temperature k: log w += log p*_k(v) - log p*_{k-1}(v), then a Gibbs sweep of T_k.

    Args:
        model: the RBM; `base`: its `ais_base`.
        v: (M, D) chain states; `log_w`: (M,) float64 log weights.
        beta_prev, beta: beta_{k-1} and beta_k.
        seed: the `SeedGenerator` of the sweep's noise.
        use_series: whether the log-weight increment is `softplus_difference_series`
            (the caller has bounded |(beta_k - beta_{k-1}) pre| by `_SERIES_RANGE`)
            or `softplus_difference`, whose `in_range` it is given.
        noise: `(u_h, visible noise)` to use instead of drawing them.

    Returns:
        The new `(v, log_w)`.
    """
    pre = model.compute_hidden_logits(v)  # c + s(v) W, (M, H)
    # log p*_k(v) - log p*_{k-1}(v)
    #   = (beta_k - beta_{k-1}) log[p*_B,vis(v) / p*_A(v)]
    #     + sum_j softplus(beta_k pre_j) - softplus(beta_{k-1} pre_j).
    delta = beta - beta_prev
    scaled = beta * pre
    ph = ops.sigmoid(scaled)  # P_k(h = 1 | v), also used below
    if use_series:
        softplus_step = softplus_difference_series(ph, delta * pre)
    else:
        softplus_step = softplus_difference(scaled, ph, delta * pre, in_range)
    step = delta * model.ais_log_ratio(v, base) + ops.sum(softplus_step, -1)
    log_w = log_w + ops.cast(step, "float64")
    # One block Gibbs sweep of T_k, which leaves p_k invariant: h ~ P_k(h | v)
    # from uniforms u_h, then v ~ P_k(v | h) from the visible noise.
    u_h, visible_noise = _sweep_noise(model, ops.shape(ph), seed) if noise is None else noise
    h = ops.cast(ops.less(u_h, ph), ph.dtype)
    return model.ais_draw_visible(h, beta, base, visible_noise), log_w


def _runs(flags):
    """[(first, stop, flag)]: the maximal runs of equal `flags`, numbered from 1 (steps k)."""
    edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
    bounds = np.concatenate([[0], edges, [len(flags)]])
    return [(int(a) + 1, int(b) + 1, bool(flags[a])) for a, b in itertools.pairwise(bounds)]


def log_partition_ais(model, data=None, betas=None, n_chains=100, seed=None, verbose=0):
    """log Z of an RBM by annealed importance sampling, with an error bar.

    Args:
        model: a `BernoulliRBM` or `GaussianBernoulliRBM`.
        data: visible vectors whose (smoothed) statistics define the base-rate
            model p_A. Defaults to `None`: the running data mean that `fit`
            tracked, or, for a model never fitted, the model's visible biases.
        betas: the schedule, from 0 to 1, non-decreasing. Defaults to
            `default_ais_schedule()` (Salakhutdinov & Murray 2008).
        n_chains: int, number of annealing runs M. Defaults to `100`.
        seed: int seed. Defaults to `None`.
        verbose: 0 (silent), 1 (a progress bar over the temperatures) or 2.
            Defaults to `0`.

    Returns:
        An `AISEstimate`.
    """
    betas = default_ais_schedule() if betas is None else check_schedule(betas)
    n_chains = check_positive_int("n_chains", n_chains)
    seed = check_seed("seed", seed)
    if data is not None:
        data = model.check_visible("data", data)
    base = model.ais_base(data)
    seed_generator = keras.random.SeedGenerator(seed)
    # |(beta_k - beta_{k-1}) pre| for every state the chains can reach, if bounded.
    bound = model.max_abs_hidden_logit()
    steps = np.diff(betas)
    in_range = bound is not None and bound * float(np.max(steps)) < _SOFTPLUS_DIFFERENCE_RANGE
    # Runs of steps with and without the series form, whose |(beta_k - beta_{k-1}) pre|
    # must stay within `_SERIES_RANGE`: one compiled loop each (a per-step `cond` would
    # be turned by XLA into a select that evaluates both forms).
    series = np.zeros(len(steps), bool) if bound is None else bound * steps <= _SERIES_RANGE

    def sweep(v, log_w, beta_prev, beta, use_series):
        return ais_sweep(model, base, v, log_w, beta_prev, beta, seed_generator, use_series, in_range)

    initial = model.ais_draw_base(n_chains, base, seed_generator)
    return anneal(sweep, initial, betas, base["log_z"], segments=_runs(series), verbose=verbose)


def log_likelihood(model, data, log_z=None, method="auto", **ais_kwargs):
    """Mean log-likelihood -<F(v)>_data - log Z, in nats per example.

    Args:
        model: a `BernoulliRBM` or `GaussianBernoulliRBM`.
        data: visible vectors.
        log_z: a known log Z (a float or an `AISEstimate`), or `None` to
            compute it by `method`.
        method: `"exact"`, `"ais"`, or `"auto"`: exact when the layer to
            enumerate has at most 20 units, else AIS. Defaults to `"auto"`.
        **ais_kwargs: passed to `log_partition_ais`.

    Returns:
        A Python float. For a `GaussianBernoulliRBM` this is a log density.
    """
    check_choice("method", method, {"auto", "exact", "ais"})
    data = model.check_visible("data", data)
    if log_z is None:
        if method == "auto":
            method = auto_method(model)
        if method == "exact":
            log_z = log_partition_exact(model)
        else:
            log_z = log_partition_ais(model, **ais_kwargs).log_z
    elif isinstance(log_z, AISEstimate):
        log_z = log_z.log_z
    if isinstance(log_z, bool) or not isinstance(log_z, (int, float, np.floating, np.integer)) or not (
        math.isfinite(float(log_z))
    ):
        raise ValueError(
            f"`log_z` must be a finite float or an AISEstimate. Received: log_z={log_z!r}"
        )
    free_energy = model.map_batches(model.compute_free_energy, data)
    return float(-np.mean(free_energy.astype("float64")) - float(log_z))
