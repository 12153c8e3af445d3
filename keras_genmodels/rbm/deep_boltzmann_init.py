"""Starting a `DeepBoltzmannMachine` from trained RBMs: `from_rbm` and `from_rbms`.

`FromRBMs` is that part of `DeepBoltzmannMachine`.
"""

import numpy as np
from keras import ops

from keras_genmodels._validation import (
    check_bool,
    check_positive_float,
)
from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM


class FromRBMs:
    """The classmethods `from_rbm` and `from_rbms` of `DeepBoltzmannMachine`."""

    # ----------------------------------------------------------- from RBMs
    @classmethod
    def from_rbm(cls, rbm, n_hidden_2, coupling_stddev=0.01, **kwargs):
        """A DBM that starts as a trained `BernoulliRBM` with a weakly coupled second hidden layer.

        W1, b, c1, the running data statistics and (where `n_chains` agree)
        the persistent chains are the RBM's; W2 ~ N(0,
        coupling_stddev^2) (seeded by `seed`), c2 = 0. As W2 -> 0 the DBM's
        marginal p(v) is the RBM's, and since an RBM's posterior is
        factorial, its mean-field bound is then the RBM's log-likelihood
        itself: training (`fit`) starts from the RBM's figure instead of
        the much lower one of a halved stack (`from_rbms`), whose rescaled
        weights are another model. The small random W2 breaks the symmetry
        between the h2 units (with W2 = 0 their gradients would be equal).

        Args:
            rbm: a `BernoulliRBM` with D visible and H1 hidden units.
            n_hidden_2: int, H2.
            coupling_stddev: float > 0, standard deviation of the initial W2.
                Defaults to `0.01`.
            **kwargs: other constructor arguments (`n_chains`, `seed`, ...);
                `centering` defaults to the RBM's (and a centred RBM's hidden
                offset becomes lambda1). A centred RBM's weights continued
                without centring lose likelihood at once: at 784-16, PCD-1,
                SGD 0.001 with momentum 0.9, the exact log-likelihood fell
                from -264.6 to -297.5 nats in one epoch (to -374.7 after
                three), where centred it rose to -259.8.

        Returns:
            A `DeepBoltzmannMachine` of sizes (D, H1, n_hidden_2).
        """
        if not isinstance(rbm, BernoulliRBM):
            raise ValueError(  # noqa: TRY004  (the package raises ValueError for every bad argument)
                f"`rbm` must be a BernoulliRBM. Received: rbm={type(rbm).__name__}"
            )
        coupling_stddev = check_positive_float("coupling_stddev", coupling_stddev)
        kwargs.setdefault("centering", getattr(rbm, "centering", False))
        model = cls(rbm.n_visible, rbm.n_hidden, n_hidden_2, **kwargs)
        if model.centering and getattr(rbm, "centering", False):
            model.hidden_offset_1.assign(ops.convert_to_numpy(rbm.hidden_offset))
        model.kernel_1.assign(ops.convert_to_numpy(rbm.kernel))
        model.visible_bias.assign(ops.convert_to_numpy(rbm.visible_bias))
        model.hidden_bias_1.assign(ops.convert_to_numpy(rbm.hidden_bias))
        rng = np.random.default_rng(None if model.seed is None else abs(model.seed))
        model.kernel_2.assign(rng.normal(0.0, coupling_stddev, (rbm.n_hidden, model.n_hidden_2)))
        model.hidden_bias_2.assign(np.zeros(model.n_hidden_2))
        # The data statistics of AIS's base rate: the RBM's data mean, and sigmoid(c2) = 1/2 for h2.
        model.data_mean.assign(ops.convert_to_numpy(rbm.data_mean))
        model.hidden_2_mean.assign(np.full(model.n_hidden_2, 0.5))
        model.data_count.assign(ops.convert_to_numpy(rbm.data_count))
        # A PCD-trained RBM's fantasy particles are h1 states of this DBM near its equilibrium: chains
        # started at h1 = 0 instead would give the first updates a negative phase far from the model's.
        chains = getattr(rbm, "persistent_hidden", None)
        if chains is not None and tuple(chains.shape) == tuple(model.persistent_hidden_1.shape):
            model.persistent_hidden_1.assign(ops.convert_to_numpy(chains))
        return model

    @classmethod
    def from_rbms(cls, rbm_1, rbm_2, halve_weights=False, **kwargs):
        """A DBM initialised from a greedily pre-trained stack of two `BernoulliRBM`s.

        rbm_1 models the data (D -> H1), rbm_2 the hidden activities of rbm_1
        (H1 -> H2). Then W1 = rbm_1.kernel, W2 = rbm_2.kernel,
        b = rbm_1.visible_bias, c2 = rbm_2.hidden_bias and
        c1 = (rbm_1.hidden_bias + rbm_2.visible_bias) / 2: each RBM learned
        its own log-odds for h1's prior, and their sum would count it twice.

        The weights double-count too. In a DBM h1 receives input from both v
        and h2, P(h1 | v, h2) = sigmoid(v W1 + h2 W2^T + c1), whereas each RBM
        of a plain stack learned to explain h1 on its own (rbm_1 from v alone,
        rbm_2 from h2 alone). Salakhutdinov & Hinton (2009) therefore pre-train
        modified RBMs: the bottom one with its bottom-up weights doubled
        (P(h1 | v) = sigmoid(2 v W1 + c1)), the top one with its top-down
        weights doubled (P(h1 | h2) = sigmoid(2 h2 W2^T + b_2), b_2 its
        visible biases); composed, each source supplies half of h1's input,
        and the weights are copied as they are (`halve_weights=False`). For plain RBMs (this library's),
        `halve_weights=True` halves W1 and W2: the DBM's recognition pass
        (`compute_mean_field`, mu1 = sigmoid(2 v W1 + c1)) then reproduces
        rbm_1's P(h1 | v) exactly, and h1's mean-field input averages the two
        RBMs' instead of adding them, at the cost of halving the input of v
        and h2 from h1. Either way `fit` then trains the DBM jointly.

        The running data statistics start empty (the RBMs' are of different
        layers); `fit`, or `data=` of `log_partition_ais`, sets them.

        Args:
            rbm_1: a `BernoulliRBM` with D visible and H1 hidden units.
            rbm_2: a `BernoulliRBM` with H1 visible and H2 hidden units.
            halve_weights: whether to halve W1 and W2 (plain RBMs). Defaults
                to `False` (RBMs pre-trained as Salakhutdinov & Hinton's
                modified RBMs).
            **kwargs: other constructor arguments (`n_chains`, `seed`, ...).

        Returns:
            A `DeepBoltzmannMachine` of sizes (D, H1, H2).
        """
        for name, rbm in (("rbm_1", rbm_1), ("rbm_2", rbm_2)):
            if not isinstance(rbm, BernoulliRBM):
                raise ValueError(  # noqa: TRY004  (the package raises ValueError for every bad argument)
                    f"`{name}` must be a BernoulliRBM. Received: {name}={type(rbm).__name__}"
                )
        if rbm_1.n_hidden != rbm_2.n_visible:
            raise ValueError(
                "Expected rbm_2 to model rbm_1's hidden layer: rbm_2.n_visible == rbm_1.n_hidden. "
                f"Received: rbm_1.n_hidden={rbm_1.n_hidden}, rbm_2.n_visible={rbm_2.n_visible}"
            )
        halve_weights = check_bool("halve_weights", halve_weights)
        model = cls(rbm_1.n_visible, rbm_1.n_hidden, rbm_2.n_hidden, **kwargs)
        scale = 0.5 if halve_weights else 1.0
        model.kernel_1.assign(scale * ops.convert_to_numpy(rbm_1.kernel))
        model.kernel_2.assign(scale * ops.convert_to_numpy(rbm_2.kernel))
        model.visible_bias.assign(rbm_1.visible_bias)
        model.hidden_bias_1.assign(0.5 * (ops.convert_to_numpy(rbm_1.hidden_bias) + ops.convert_to_numpy(rbm_2.visible_bias)))
        model.hidden_bias_2.assign(rbm_2.hidden_bias)
        return model
