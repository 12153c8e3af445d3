"""Training RBMs on Ising configurations: the exact-likelihood fit (L <= 4) and CD-k (any L).

A `BernoulliRBM` with D = L^2 visible units sees b = (s + 1) / 2; its marginal
is q(b) = exp(-F(b)) / Z_q with F(b) = -a . b - sum_j softplus(c_j + (b W)_j).

`fit_rbm_exact_likelihood` (L <= 4) fits by maximum likelihood on Monte Carlo
samples with the exact gradient: the negative log-likelihood of the empirical
distribution p^ of the samples (`physics.analysis.empirical_distribution`),

    NLL(θ) = sum_b p^(b) F_θ(b) + log sum_b exp(-F_θ(b)),
    -dNLL/dθ = <-dF/dθ>_p^ - <-dF/dθ>_q,

is the CD-k gradient with the negative phase summed exactly over the 2^D
states instead of sampled. Block Gibbs chains (CD/PCD) cannot tunnel between
the ±m modes at and below T_c, so their negative phase never sees the balance
of the two modes, and KL(p||q) stays near 0.1 nats there; the exact negative
phase fixes that. With `symmetrize=True`, p^ is first averaged over the
symmetry group of the Hamiltonian (`physics.symmetry`: L^2 translations x 8
rotations/reflections x the global flip, 256 elements at L = 4): the same
samples, less noise.

`fit_rbm_ising` (any L) trains with `BernoulliRBM.fit` (CD-k or PCD-k), SGD
with momentum, each epoch on the data mapped by a fresh random symmetry per
configuration (`physics.symmetry.symmetry_augment`), so that the ±m modes get
equal weight: the recipe of Torlai & Melko (2016, arXiv:1606.02718) at L = 8.

The analysis of the fitted models (exact KL and thermodynamics for L <= 4,
KL estimates and sample observables for any L) is in
`keras_genmodels.physics.analysis`.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_genmodels._validation import check_positive_float, check_positive_int, check_seed
from keras_genmodels.physics import analysis, lattice, symmetry


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

        NLL(θ) = sum_b p^(b) F_θ(b) + log sum_b exp(-F_θ(b)),

    whose gradient is the exact positive minus negative phase (module
    docstring). The RBM's visible bias is first set to the log-odds of the
    data means.

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
    L = analysis.enumerable_lattice_size(rbm)
    steps = check_positive_int("steps", steps)
    check_positive_float("learning_rate", learning_rate)
    log_every = check_positive_int("log_every", log_every)
    p_hat = analysis.empirical_distribution(configurations, symmetrize=symmetrize, encoding=encoding)
    states = analysis.all_visible_states(L)
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
    fresh random symmetry per configuration
    (`physics.symmetry.symmetry_augment`), so the model is fitted to the
    symmetrised empirical law and the two ±m modes get equal weight. The
    RBM's own `k`, `persistent`, `weight_decay` and `centering` apply. With
    `initialize`, the visible bias is first set to the data's log-odds (about
    0 for augmented data).

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
        seed: `None` or an int >= 0, of the augmentation. Defaults to `0`.
        callbacks: Keras callbacks (e.g. `IsingObservables`). Defaults to `None`.
        verbose: `fit`'s verbosity. Defaults to `0`.

    Returns:
        The `History.history` dict of the whole run (one entry per epoch).
    """
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
    seed = check_seed("seed", seed, non_negative=True)
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
