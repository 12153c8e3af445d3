"""The energy, free energy and conditionals of a restricted Boltzmann machine (`keras.ops`).

An RBM with visible units v (D of them) and binary hidden units h (H of them)
has an energy E(v, h) whose hidden part is always

    E(v, h) = E_v(v) - c . h - s(v) W h,

with s(v) = v for binary visible units and s(v) = v / sigma^2 for Gaussian
ones. Summing the hidden units out in closed form gives the free energy

    F(v) = -log sum_h exp(-E(v, h)) = E_v(v) - sum_j softplus(c_j + (s(v) W)_j),

and p(v) = exp(-F(v)) / Z. The conditionals factorise:
P(h_j = 1 | v) = sigmoid(c_j + (s(v) W)_j), and P(v | h) is the visible
units' own law (Bernoulli or Gaussian), which a subclass supplies.

`RBMEnergy` is the part of `RestrictedBoltzmannMachine` that holds this math,
and the interface its subclasses (`BernoulliRBM`, `GaussianBernoulliRBM`)
implement. Every method here takes and returns tensors (no validation, no
NumPy): the training step, the samplers and the export signatures call them;
`keras_genmodels.rbm.eager` wraps them for users.
"""

import numpy as np
from keras import ops

from keras_genmodels.sampling.backend import bernoulli


class RBMEnergy:
    """Energy, free energy and conditionals of an RBM, in `keras.ops`.

    Expects the weights `kernel` W (D, H), `visible_bias` b (D,) and
    `hidden_bias` c (H,) of `RestrictedBoltzmannMachine`.
    """

    # ---------------------------------------------------------------
    # The subclass interface (keras.ops only).
    # ---------------------------------------------------------------
    def build_visible_weights(self):
        """Create the visible units' extra weights (e.g. their variance); called by `__init__`."""

    def visible_energy(self, v):
        """E_v(v): the part of E(v, h) that involves v alone, shape (batch,)."""
        raise NotImplementedError

    def visible_scale(self, v):
        """s(v) in the coupling term -s(v) W h (v itself for binary units)."""
        return v

    def compute_visible_mean(self, h):
        """E[v | h], shape (batch, n_visible)."""
        raise NotImplementedError

    def draw_visible(self, h, seed):
        """A draw of v ~ P(v | h) and its mean E[v | h], from the generator `seed`."""
        raise NotImplementedError

    def compute_log_marginal_hidden(self, h):
        """log sum_v exp(-E(v, h)) (or the integral over v), shape (batch,)."""
        raise NotImplementedError

    def exact_layer(self):
        """`(layer, m)`: the layer ("hidden" or "visible") whose 2^m states `log_partition_exact` sums."""
        raise NotImplementedError

    def contrastive_gradient(self, v, ph, row_weight):
        """Closed-form gradient of the contrastive loss, one tensor per trainable weight.

        The loss L = <F(v)>_data - <F(v)>_model (samples held fixed) has
        dL/dtheta = <dF/dtheta>_data - <dF/dtheta>_model = -(positive phase -
        negative phase), minus the log-likelihood gradient; it is computed as
        sum_r row_weight_r (-dF(v_r)/dtheta). The kernel's is one matmul,
        s(V)^T (row_weight * PH).

        Args:
            v: (R, D) visible rows of both phases, data rows first.
            ph: (R, H) P(h=1 | v) of those rows.
            row_weight: (R,) -1/B for the B data rows and +1/M for the M model
                rows, so that sum_r row_weight_r f(v_r) = <f>_model - <f>_data.

        Returns:
            A list of gradients aligned with `trainable_variables`.
        """
        raise NotImplementedError

    def check_visible_values(self, name, arr, mean_field=False):
        """Check the values of a NumPy batch eagerly (binary, finite, ...); raise `ValueError`."""
        raise NotImplementedError

    def valid_batch(self, v):
        """A boolean scalar tensor: whether every value of the batch `v` is admissible."""
        raise NotImplementedError

    def invalid_batch_message(self):
        """The message of the graph assertion on a batch that `valid_batch` refuses."""
        return "Expected finite visible values. Received NaN or Inf."

    def max_abs_hidden_logit(self):
        """An upper bound on |c_j + (s(v) W)_j| over the visible states, or `None` if unbounded."""
        return None

    # The AIS interface (see `keras_genmodels.rbm.partition.log_partition_ais`).
    # The noise `ais_draw_visible` takes: "uniform" (U[0, 1)) or "normal" (N(0, 1)).
    ais_noise = "uniform"

    def ais_base(self, data):
        """The base-rate model p_A of AIS: a dict of tensors, with its `log_z` (a float)."""
        raise NotImplementedError

    def ais_log_ratio(self, v, base):
        """log p*_B(v) - log p*_A(v) without the hidden units' softplus terms, shape (M,)."""
        raise NotImplementedError

    def ais_draw_visible(self, h, beta, base, noise):
        """v ~ P_beta(v | h) of the intermediate model, from `noise` of shape (M, D)."""
        raise NotImplementedError

    def ais_draw_base(self, n, base, seed):
        """`n` draws v ~ p_A from the generator `seed`, shape (n, D)."""
        raise NotImplementedError

    # ---------------------------------------------------------------
    # Energy, free energy, conditionals.
    # ---------------------------------------------------------------
    def flatten_visible(self, x):
        """Flatten a batch (batch, ...) to (batch, n_visible) in the compute dtype, checking static shapes."""
        shape = tuple(x.shape)
        if len(shape) < 2:
            raise ValueError(
                f"Expected visible vectors of shape (batch, {self.n_visible}) or "
                f"(batch, ...) with {self.n_visible} features. "
                f"Received: shape={shape}"
            )
        feature = shape[1:]
        if all(d is not None for d in feature):
            size = int(np.prod(feature))
            if size != self.n_visible:
                raise ValueError(
                    f"Expected {self.n_visible} visible units per example. "
                    f"Received: shape={shape} ({size} features)"
                )
        if len(shape) != 2:
            x = ops.reshape(x, (-1, self.n_visible))
        return ops.cast(x, self.compute_dtype)

    def compute_hidden_logits(self, v):
        """c + s(v) W, shape (batch, n_hidden): the logits of P(h=1 | v)."""
        return ops.matmul(self.visible_scale(v), self.kernel) + self.hidden_bias

    def compute_free_energy(self, v, pre=None):
        """F(v) = E_v(v) - sum_j softplus(c_j + (s(v) W)_j), shape (batch,).

        softplus(x) = log(1 + e^x) is evaluated stably by `ops.softplus`;
        `pre` = `compute_hidden_logits(v)` when the caller has it.
        """
        if pre is None:
            pre = self.compute_hidden_logits(v)
        return self.visible_energy(v) - ops.sum(ops.softplus(pre), axis=-1)

    def compute_energy(self, v, h):
        """E(v, h) = E_v(v) - c . h - s(v) W h, shape (batch,)."""
        coupling = ops.sum(ops.matmul(self.visible_scale(v), self.kernel) * h, axis=-1)
        return self.visible_energy(v) - ops.sum(h * self.hidden_bias, -1) - coupling

    def draw_hidden(self, v, seed):
        """A draw h ~ P(h | v), h_j = 1[u_j < sigmoid(c_j + (s(v) W)_j)]."""
        return bernoulli(ops.sigmoid(self.compute_hidden_logits(v)), seed)

    def gibbs_sweep(self, v, seed):
        """One block Gibbs sweep v -> h ~ P(h|v) -> v' ~ P(v|h); returns (v', E[v'|h])."""
        return self.draw_visible(self.draw_hidden(v, seed), seed)

    def call(self, inputs):
        """P(h = 1 | v) for a batch of visible vectors (the feature map)."""
        return ops.sigmoid(self.compute_hidden_logits(self.flatten_visible(inputs)))
