"""Analysis of generative models of Ising configurations, checked against the physics.

RBM (Torlai & Melko 2016, arXiv:1606.02718). A `keras_genmodels.rbm.BernoulliRBM`
with D = L^2 visible units sees b = (s + 1) / 2. Its marginal is

    q(b) = exp(-F(b)) / Z_q,   F(b) = -a . b - sum_j softplus(c_j + (b W)_j),

and for L <= 4 every one of the 2^D states can be enumerated, so

    log Z_q  = logsumexp_b (-F(b)),
    KL(p||q) = sum_s p(s) (log p(s) - log q(b(s)))        (nats),

with p the exact Boltzmann distribution (`exact.log_probabilities`), and the
RBM's own thermodynamics <E>_q, c_q, <|m|>_q, chi_q are exact sums too
(`rbm_exact_observables`). For any L, `rbm_kl_estimate` estimates the KL on
Monte Carlo samples of p with Kaufman's exact log Z_T.

`empirical_distribution` gives p^, the law of a set of samples over all the
states of a small lattice, optionally averaged over the symmetry group of the
Hamiltonian (`symmetry`: translations x D4 x global flip, 256 elements at
L = 4): the same samples, less noise. (The RBM fits that use it live in
`keras_genmodels.rbm.ising`.)

Samples of any model (`model_samples`, `sample_observables`): block Gibbs
chains of an RBM, Bernoulli draws from a VAE's decoder, and their observables
with jackknife errors.

VAE (Wetzel 2017, arXiv:1703.02435): `vae_latent_vs_magnetization` pairs the
latent means μ(x) with the magnetisation m of each configuration (Wetzel
finds one latent ~ linear in m); `vae_reconstruction_vs_temperature` gives
the mean reconstruction loss -log p(x | h) per temperature, which changes
fastest around T_c.
"""

import numpy as np

from keras_genmodels.physics import exact, lattice, observables, symmetry

# ---------------------------------------------------------------------------
# Enumeration: exact quantities of RBMs on L <= 4
# ---------------------------------------------------------------------------


def lattice_size_of(model):
    """The L of a model with L*L visible units (`n_visible`), L >= 2.

    Raises:
        ValueError: if `n_visible` is not the square of an int >= 2.
    """
    n = int(getattr(model, "n_visible", 0))
    L = int(round(n**0.5))
    if L * L != n or L < 2:
        raise ValueError(
            "Expected a model with L*L visible units for an L x L lattice. "
            f"Received: n_visible={n}"
        )
    return L


def enumerable_lattice_size(model):
    """`lattice_size_of(model)` if its 2^(L*L) visible states can be enumerated (L <= 4).

    Raises:
        ValueError: for L > `exact.MAX_EXACT_L`.
    """
    L = lattice_size_of(model)
    if L > exact.MAX_EXACT_L:
        raise ValueError(
            f"Exact RBM quantities need L <= {exact.MAX_EXACT_L} (2^(L*L) states). "
            f"Received a model with n_visible={L * L} (L={L})"
        )
    return L


def all_visible_states(L):
    """Every visible vector b of an L x L lattice, float32 (2^(L*L), L*L), in `exact`'s state order."""
    return exact.all_configurations(L, encoding="binary").reshape(-1, L * L).astype("float32")


def rbm_log_marginal(rbm):
    """Exact log q(b) = -F(b) - log Z_q of every state, in `exact`'s state order.

    Args:
        rbm: a `BernoulliRBM` with L*L visible units, L <= 4.

    Returns:
        float64 array of shape (2^(L*L),).
    """
    L = enumerable_lattice_size(rbm)
    minus_f = -rbm.free_energy(all_visible_states(L)).astype("float64")
    return minus_f - exact._logsumexp(minus_f)


def rbm_exact_kl(rbm, temperature):
    """KL(p_T || q) in nats, p_T the Boltzmann distribution, q the RBM marginal."""
    L = enumerable_lattice_size(rbm)
    log_p = exact.log_probabilities(L, temperature)
    return float(np.sum(np.exp(log_p) * (log_p - rbm_log_marginal(rbm))))


def observables_of_distribution(log_q, L, temperature):
    """<e>, <|m|>, c, chi and U_4 per spin of a distribution q over every state of an L x L lattice.

    The definitions of `exact.exact_observables`, with q in place of p_T:
    u = <E>/N, c = beta^2 Var(E)/N, <|m|>, chi = beta N (<m^2> - <|m|>^2),
    U_4 = 1 - <m^4>/(3 <m^2>^2), N = L^2, beta = 1/T.

    Args:
        log_q: log q of every state in `exact`'s order, up to a constant (2^N,).
        L: the lattice size (L <= 4).
        temperature: T, for beta in c and chi.
    """
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
    L = enumerable_lattice_size(rbm)
    return observables_of_distribution(rbm_log_marginal(rbm), L, temperature)


def empirical_distribution(configurations, symmetrize=True, encoding="spin"):
    """p^(s) of samples of a small lattice over all its states (state order).

    p^(s) = (number of samples equal to s) / n; with `symmetrize`, averaged
    over the symmetry group G of the Hamiltonian (`symmetry`: translations,
    rotations/reflections, global flip),

        p^_sym(s) = (1 / |G|) sum_{g in G} p^(g s).

    Args:
        configurations: (n, L, L) or (n, L*L) configurations, L <= 4.
        symmetrize: average over G. Defaults to `True`.
        encoding: of `configurations`, "spin" or "binary". Defaults to "spin".

    Returns:
        float64 array of shape (2^(L*L),), summing to 1.
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
        p = p[symmetry.state_images(L)].mean(axis=0)
    return p


# ---------------------------------------------------------------------------
# Any lattice size: likelihoods on samples
# ---------------------------------------------------------------------------


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

    log Z_q exact when the RBM's smaller layer has at most
    `rbm.partition.AUTO_EXACT_MAX_UNITS` (20) units, else by AIS
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
        from keras_genmodels.rbm import partition

        if partition.auto_method(rbm) == "exact":
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
        L = L or lattice_size_of(model)
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
