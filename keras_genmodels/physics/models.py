"""Generative models of Ising configurations, checked against the physics.

RBM (Torlai & Melko 2016, arXiv:1606.02718). A `keras_genmodels.rbm.BernoulliRBM`
with D = L^2 visible units sees b = (s + 1) / 2. Its marginal is

    q(b) = exp(-F(b)) / Z_q,   F(b) = -a . b - sum_j softplus(c_j + (b W)_j),

and for L <= 4 every one of the 2^D states can be enumerated, so

    log Z_q  = logsumexp_b (-F(b)),
    KL(p||q) = sum_s p(s) (log p(s) - log q(b(s)))        (nats),

with p the exact Boltzmann distribution (`exact.log_probabilities`), and the
RBM's own thermodynamics <E>_q, c_q, <|m|>_q, chi_q are exact sums too
(`rbm_exact_observables`).

`fit_rbm_exact_likelihood` fits an enumerable RBM by maximum likelihood on
Monte Carlo samples with the exact gradient: the negative log-likelihood of
the empirical distribution p^ of the samples,

    NLL(θ) = sum_b p^(b) F_θ(b) + log sum_b exp(-F_θ(b)),
    -dNLL/dθ = <-dF/dθ>_p^ - <-dF/dθ>_q,

is the CD-k gradient with the negative phase summed exactly instead of
sampled. Block Gibbs chains (CD/PCD) cannot tunnel between the ±m modes at
and below T_c, so their negative phase never sees the balance of the two
modes, and KL(p||q) stays near 0.1 nats there; the exact negative phase
fixes that. With `symmetrize=True`, p^ is first averaged over the symmetry
group of the Hamiltonian (16 translations x 8 rotations/reflections x the
global flip, 256 elements): the same samples, less noise.

VAE (Wetzel 2017, arXiv:1703.02435): `vae_latent_vs_magnetization` pairs the
latent means μ(x) with the magnetisation m of each configuration (Wetzel
finds one latent ~ linear in m); `vae_reconstruction_vs_temperature` gives
the mean reconstruction loss -log p(x | h) per temperature, which changes
fastest around T_c.
"""

import numpy as np

from keras_genmodels._validation import check_positive_float, check_positive_int
from keras_genmodels.physics import exact, lattice, observables, symmetry

# ---------------------------------------------------------------------------
# Enumeration helpers
# ---------------------------------------------------------------------------


def _lattice_size_of(model):
    n = int(getattr(model, "n_visible", 0))
    L = int(round(n**0.5))
    if L * L != n or L < 2:
        raise ValueError(
            "Expected a model with L*L visible units for an L x L lattice. "
            f"Received: n_visible={n}"
        )
    return L


def _check_enumerable(model):
    L = _lattice_size_of(model)
    if L > exact.MAX_EXACT_L:
        raise ValueError(
            f"Exact RBM quantities need L <= {exact.MAX_EXACT_L} (2^(L*L) states). "
            f"Received a model with n_visible={L * L} (L={L})"
        )
    return L


def _all_visible(L):
    return exact.all_configurations(L, encoding="binary").reshape(-1, L * L).astype("float32")


def rbm_log_marginal(rbm):
    """Exact log q(b) = -F(b) - log Z_q of every state, in `exact`'s state order.

    Args:
        rbm: a `BernoulliRBM` with L*L visible units, L <= 4.

    Returns:
        float64 array of shape (2^(L*L),).
    """
    L = _check_enumerable(rbm)
    minus_f = -rbm.free_energy(_all_visible(L)).astype("float64")
    return minus_f - exact._logsumexp(minus_f)


def rbm_exact_kl(rbm, temperature):
    """KL(p_T || q) in nats, p_T the Boltzmann distribution, q the RBM marginal."""
    L = _check_enumerable(rbm)
    log_p = exact.log_probabilities(L, temperature)
    return float(np.sum(np.exp(log_p) * (log_p - rbm_log_marginal(rbm))))


def _observables_of_distribution(log_q, L, temperature):
    q = np.exp(log_q - exact._logsumexp(log_q))
    _, e, m = exact._enumerated(L)
    n = L * L
    beta = 1.0 / lattice.check_temperature(temperature)
    e_mean, e2 = q @ e, q @ e.astype("float64") ** 2
    a = np.abs(m).astype("float64") / n
    am, m2, m4 = q @ a, q @ a**2, q @ a**4
    return {
        "energy": e_mean / n,
        "abs_magnetization": am,
        "heat_capacity": beta**2 * (e2 - e_mean**2) / n,
        "susceptibility": beta * n * (m2 - am**2),
        "binder_cumulant": 1.0 - m4 / (3 * m2**2),
    }


def rbm_exact_observables(rbm, temperature):
    """The RBM's exact <e>, <|m|>, c, chi and U_4 (as `exact.exact_observables`).

    c and chi use `temperature` (the one the RBM was trained at) for β.
    """
    L = _check_enumerable(rbm)
    return _observables_of_distribution(rbm_log_marginal(rbm), L, temperature)


def empirical_distribution(configurations, symmetrize=True, encoding="spin"):
    """p^(s) of samples of a small lattice over all its states (state order).

    With `symmetrize`, p^ is averaged over the 256 symmetries of the
    Hamiltonian (`symmetry`: translations, rotations, reflections, global
    flip).
    """
    x = lattice.check_configurations(configurations, encoding=encoding, name="configurations")
    L = x.shape[1]
    if L > exact.MAX_EXACT_L:
        raise ValueError(
            f"An empirical distribution over all states needs L <= {exact.MAX_EXACT_L}. "
            f"Received: L={L}"
        )
    n_states = 2 ** (L * L)
    counts = np.bincount(exact.state_index(x, encoding=encoding), minlength=n_states)
    p = counts / counts.sum()
    if symmetrize:
        p = p[symmetry.state_images(L)].mean(axis=0)  # (1 / |G|) sum_g p^(g s)
    return p


def fit_rbm_exact_likelihood(
    rbm,
    configurations,
    *,
    steps=1500,
    learning_rate=0.02,
    symmetrize=True,
    encoding="spin",
    log_every=100,
):
    """Maximum-likelihood fit of an enumerable RBM, exact negative phase.

    Full-batch Adam (cosine-decayed learning rate) on
    NLL(θ) = sum_b p^(b) F_θ(b) + log sum_b exp(-F_θ(b)) (module docstring).
    The RBM's visible bias is first set to the log-odds of the data means.

    Args:
        rbm: a `BernoulliRBM` with L*L visible units, L <= 4.
        configurations: Monte Carlo samples (n, L, L).
        steps: int, full-batch gradient steps. Defaults to `1500`.
        learning_rate: Adam's initial learning rate. Defaults to `0.02`.
        symmetrize: average p^ over the lattice symmetries. Defaults to `True`.
        encoding: of `configurations`, "spin" or "binary". Defaults to "spin".
        log_every: record the NLL every this many steps. Defaults to `100`.

    Returns:
        A dict: `step` and `nll` (nats, per configuration) lists, and
        `nll_floor`, the entropy of p^ (the NLL of a perfect fit).
    """
    import keras
    import tensorflow as tf

    L = _check_enumerable(rbm)
    steps = check_positive_int("steps", steps)
    check_positive_float("learning_rate", learning_rate)
    log_every = check_positive_int("log_every", log_every)
    p_hat = empirical_distribution(configurations, symmetrize=symmetrize, encoding=encoding)
    states = _all_visible(L)
    rbm.initialize_visible_bias(states[np.random.default_rng(0).choice(len(states), 4096, p=p_hat)])
    v = tf.constant(states)
    w = tf.constant(p_hat.astype("float32"))
    optimizer = keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
    )
    optimizer.build(rbm.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            free = rbm.compute_free_energy(v)  # (2^N,)
            nll = tf.reduce_sum(w * free) + tf.reduce_logsumexp(-free)
        grads = tape.gradient(nll, rbm.trainable_variables)
        optimizer.apply(grads, rbm.trainable_variables)
        return nll

    history = {"step": [], "nll": []}
    for i in range(1, steps + 1):
        nll = step()
        if i % log_every == 0 or i == steps:
            history["step"].append(i)
            history["nll"].append(float(nll))
    nz = p_hat[p_hat > 0]
    history["nll_floor"] = float(-np.sum(nz * np.log(nz)))
    return history


# ---------------------------------------------------------------------------
# Any lattice size: CD-k training with symmetry augmentation, likelihoods
# ---------------------------------------------------------------------------


def fit_rbm_ising(
    rbm,
    configurations,
    *,
    epochs=30,
    batch_size=100,
    learning_rate=0.05,
    momentum=0.9,
    augment=True,
    encoding="spin",
    initialize=True,
    optimizer=None,
    seed=0,
    callbacks=None,
    verbose=0,
):
    """Train a `BernoulliRBM` on Ising configurations with `model.fit` (CD-k or PCD-k).

    SGD with momentum and a cosine-decayed learning rate (to 2% of
    `learning_rate`); with `augment`, every epoch sees the data mapped by a
    fresh random symmetry per configuration (`symmetry.symmetry_augment`), so the
    model is fitted to the symmetrised empirical law and the two ±m modes
    get equal weight. The RBM's own `k`, `persistent`, `weight_decay` and
    `centering` apply. With `initialize`, the visible bias is first set to
    the data's log-odds (about 0 for augmented data).

    The L = 8 recipe of `docs/physics.md` (`studies.CD_RECIPE`; Torlai &
    Melko 2016 train with CD-k too): `BernoulliRBM(64, 64, k=10)`, 20,000
    configurations, 60 epochs of batch 100, learning rate 0.1, momentum 0.9,
    augmented: e, <|m|>, c, chi of its samples within 1-3% of Monte Carlo at
    T_c. CD never measures the balance of the ±m modes below T_c (the
    chains start at the data), so there the model may favour one of them.

    Args:
        rbm: a `BernoulliRBM` with L*L visible units (compiled here).
        configurations: (n, L, L) configurations.
        epochs: int. Defaults to `30`.
        batch_size: int. Defaults to `100`.
        learning_rate: initial SGD learning rate. Defaults to `0.05`.
        momentum: SGD momentum. Defaults to `0.9`.
        augment: a random symmetry per configuration and epoch. Defaults to `True`.
        encoding: of `configurations`, "spin" or "binary". Defaults to "spin".
        initialize: set the visible bias from the data first (`False` to
            continue training a fitted RBM). Defaults to `True`.
        optimizer: a Keras optimizer, used instead of SGD (`learning_rate`
            and `momentum` are then ignored). Defaults to `None`.
        seed: int, of the augmentation. Defaults to `0`.
        callbacks: Keras callbacks (e.g. `IsingObservables`). Defaults to `None`.
        verbose: `fit`'s verbosity. Defaults to `0`.

    Returns:
        The `History.history` dict of the whole run (one entry per epoch).
    """
    import keras

    s = lattice.check_configurations(configurations, encoding=encoding, name="configurations")
    if s.shape[1] ** 2 != getattr(rbm, "n_visible", -1):
        raise ValueError(
            f"Expected an RBM with {s.shape[1] ** 2} visible units for L={s.shape[1]}. "
            f"Received: n_visible={getattr(rbm, 'n_visible', None)}"
        )
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    check_positive_float("learning_rate", learning_rate)
    check_positive_float("momentum", momentum, allow_zero=True)
    b = s if encoding == "binary" else (s + 1) // 2
    rng = np.random.default_rng(seed)

    def flat(x):
        return x.reshape(len(x), -1).astype("float32")

    def draw():
        return flat(symmetry.symmetry_augment(b, rng, encoding="binary") if augment else b)

    if initialize:
        rbm.initialize_visible_bias(draw())
    steps = epochs * (-(-len(b) // batch_size))
    if optimizer is None:
        optimizer = keras.optimizers.SGD(
            keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.02),
            momentum=momentum,
        )
    rbm.compile(optimizer=optimizer, steps_per_execution=50)
    history = {}
    # One `fit` call per epoch when augmenting (fresh symmetries); the
    # optimizer's step count, hence the schedule, runs on across calls.
    chunks = [(e, e + 1) for e in range(epochs)] if augment else [(0, epochs)]
    for first, last in chunks:
        x = draw()
        h = rbm.fit(
            x, batch_size=batch_size, epochs=last, initial_epoch=first, verbose=verbose,
            callbacks=callbacks, shuffle=True,
        ).history
        for key, values in h.items():
            history.setdefault(key, []).extend(values)
    return history


def ising_log_probability(configurations, temperature, encoding="spin"):
    """log p_T(s) = -E(s)/T - log Z_T for any L, log Z from Kaufman's closed form."""
    x = lattice.check_configurations(configurations, encoding=encoding, name="configurations")
    s = x if encoding == "spin" else 2 * x - 1
    beta = 1.0 / lattice.check_temperature(temperature)
    log_z = exact.log_partition_kaufman(x.shape[1], temperature)
    return -beta * lattice.energy(s).astype("float64") - log_z


def rbm_kl_estimate(rbm, configurations, temperature, *, log_z=None, encoding="spin", **ais_kwargs):
    """KL(p_T || q) estimated on samples of p_T, for any L.

        KL = <log p_T(s) - log q(b(s))>_{s ~ p_T},
        log p_T(s) = -E(s)/T - log Z_T (Kaufman),  log q(b) = -F(b) - log Z_q,

    log Z_q exact when the RBM's smaller layer has <= 20 units, else by AIS
    (`rbm.log_partition_ais(**ais_kwargs)`), whose bias (log Z_q low on
    average) makes the KL estimate low. The statistical error is the
    standard error of the mean over the (independent) configurations.

    Returns:
        A dict: `kl` and `kl_error` (nats per configuration), `kl_per_spin`,
        `log_likelihood` (<log q>, nats per configuration), `log_z`,
        `log_z_error` (AIS standard error; 0 if exact), `nll_floor` = -<log p_T>
        (the entropy of p_T estimated on the samples).
    """
    x = lattice.check_configurations(configurations, encoding=encoding, name="configurations")
    b = (x if encoding == "binary" else (x + 1) // 2).reshape(len(x), -1).astype("float32")
    if b.shape[1] != getattr(rbm, "n_visible", -1):
        raise ValueError(
            f"Expected an RBM with {b.shape[1]} visible units. "
            f"Received: n_visible={getattr(rbm, 'n_visible', None)}"
        )
    log_z_error = 0.0
    if log_z is None:
        if rbm.exact_layer()[1] <= 20:
            log_z = float(rbm.log_partition_exact())
        else:
            est = rbm.log_partition_ais(**ais_kwargs)
            log_z, log_z_error = float(est.log_z), float(est.std)
    log_q = -rbm.free_energy(b).astype("float64") - log_z
    log_p = ising_log_probability(x, temperature, encoding=encoding)
    diff = log_p - log_q
    n = b.shape[1]
    return {
        "kl": float(diff.mean()),
        "kl_error": float(diff.std(ddof=1) / np.sqrt(len(diff))),
        "kl_per_spin": float(diff.mean() / n),
        "log_likelihood": float(log_q.mean()),
        "log_z": float(log_z),
        "log_z_error": log_z_error,
        "nll_floor": float(-log_p.mean()),
    }


# ---------------------------------------------------------------------------
# Samples of any model
# ---------------------------------------------------------------------------


def model_samples(model, n, *, L=None, seed=None, gibbs_steps=1000, initial=None):
    """Draw `n` binary Ising configurations (n, L, L) from an RBM or a VAE.

    - RBM (has `gibbs`): `model.sample(n, gibbs_steps, seed, return_means=False)`,
      block Gibbs chains from the data's base rate, or, with `initial`,
      `model.gibbs(initial, gibbs_steps, seed)`: chains from given states
      (e.g. Monte Carlo configurations, to check that both starts agree).
    - VAE (has `decode`): b ~ Bernoulli(E[x | h]), h ~ N(0, I).

    Args:
        model: a `BernoulliRBM` or a Bernoulli `VAE` of L x L (or L*L) data.
        n: int >= 1.
        L: lattice size, inferred from the model if `None`.
        seed: int or `None`. Defaults to `None`.
        gibbs_steps: Gibbs sweeps of the RBM chains. Defaults to `1000`.
        initial: RBM only: (n, L, L) or (n, L*L) binary starting states.
            Defaults to `None` (the base rate).
    """
    n = lattice.check_n_samples(n, "n")
    if hasattr(model, "gibbs") and hasattr(model, "n_visible"):
        L = L or _lattice_size_of(model)
        if initial is None:
            b = model.sample(n, steps=gibbs_steps, seed=seed, return_means=False)
        else:
            v0 = np.asarray(initial, dtype="float32").reshape(-1, L * L)
            if v0.shape[0] != n:
                raise ValueError(
                    f"Expected {n} initial states. Received: shape={np.shape(initial)}"
                )
            b = model.gibbs(v0, steps=gibbs_steps, seed=seed)
    elif hasattr(model, "decode") and hasattr(model, "latent_dim"):
        size = int(np.prod(model.data_shape))
        L = L or int(round(size**0.5))
        mean = np.asarray(model.sample(n, seed=seed)).reshape(n, -1)
        b = (np.random.default_rng(seed).random(mean.shape) < mean).astype(np.int8)
    else:
        raise ValueError(
            "Expected a BernoulliRBM or a VAE. Received: " f"{type(model).__name__}"
        )
    b = np.asarray(b)
    if b.shape[1] != L * L:
        raise ValueError(
            f"Expected samples of {L * L} units for L={L}. Received: shape={b.shape}"
        )
    return np.rint(b).astype(np.int8).reshape(n, L, L)


def sample_observables(
    model, n, temperature, *, seed=None, gibbs_steps=1000, n_blocks=20, initial=None
):
    """`observables.estimate_observables` of `n` model samples (independent chains).

    `initial`: starting states of the RBM chains (see `model_samples`).
    """
    b = model_samples(model, n, seed=seed, gibbs_steps=gibbs_steps, initial=initial)
    return observables.estimate_observables(b, temperature, n_blocks=n_blocks, encoding="binary")


# ---------------------------------------------------------------------------
# VAE (Wetzel 2017)
# ---------------------------------------------------------------------------


def _vae_input(vae, spins):
    b = ((spins + 1) // 2).astype("float32")
    return b.reshape((b.shape[0],) + tuple(vae.data_shape))


def vae_latent_vs_magnetization(vae, spins, batch_size=4096):
    """Latent means μ(x) and magnetisations m of configurations.

    Args:
        vae: a Bernoulli `VAE` of (L, L) or (L*L,) data.
        spins: (n, L, L) ±1 configurations.

    Returns:
        A dict: `z_mean` (n, latent_dim), `magnetization` m = M/N (n,),
        `correlation` (latent_dim,) Pearson correlation of each latent with
        m, and `abs_correlation` (latent_dim,) of |μ_j| with |m|.
    """
    s = lattice.check_configurations(spins)
    x = _vae_input(vae, s)
    z = np.concatenate(
        [np.asarray(vae.encode(x[i : i + batch_size])[0]) for i in range(0, len(x), batch_size)]
    ).astype("float64")
    m = s.reshape(len(s), -1).mean(axis=1, dtype="float64")

    def corr(a, b):
        a, b = a - a.mean(), b - b.mean()
        den = np.sqrt((a * a).sum() * (b * b).sum())
        return float((a * b).sum() / den) if den > 0 else 0.0

    return {
        "z_mean": z,
        "magnetization": m,
        "correlation": np.array([corr(z[:, j], m) for j in range(z.shape[1])]),
        "abs_correlation": np.array([corr(np.abs(z[:, j]), np.abs(m)) for j in range(z.shape[1])]),
    }


def vae_reconstruction_vs_temperature(vae, spins, temperatures, batch_size=4096):
    """Mean reconstruction loss -log p(x | h) per temperature, with its error.

    Args:
        vae: a Bernoulli `VAE`.
        spins: (n, L, L) ±1 configurations.
        temperatures: (n,) temperature label of each.

    Returns:
        A dict of arrays over the distinct temperatures (sorted):
        `temperature`, `reconstruction_loss` (nats per configuration),
        `error` (standard error of the mean), `kl_loss`.
    """
    s = lattice.check_configurations(spins)
    t = np.asarray(temperatures, dtype="float64").reshape(-1)
    if t.shape[0] != s.shape[0]:
        raise ValueError(
            "Expected one temperature per configuration. "
            f"Received: {s.shape[0]} configurations and {t.shape[0]} temperatures"
        )
    x = _vae_input(vae, s)
    rec, kl = [], []
    for i in range(0, len(x), batch_size):
        terms = vae.compute_elbo_terms(x[i : i + batch_size])
        rec.append(np.asarray(terms["reconstruction_loss"]))
        kl.append(np.asarray(terms["kl_loss"]))
    rec, kl = np.concatenate(rec), np.concatenate(kl)
    values = np.unique(t)
    out = {"temperature": values, "reconstruction_loss": [], "error": [], "kl_loss": []}
    for v in values:
        r = rec[t == v]
        out["reconstruction_loss"].append(r.mean())
        out["error"].append(r.std(ddof=1) / np.sqrt(len(r)) if len(r) > 1 else np.nan)
        out["kl_loss"].append(kl[t == v].mean())
    return {k: np.asarray(v) for k, v in out.items()}
