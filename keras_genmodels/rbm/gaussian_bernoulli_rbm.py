"""The RBM with real-valued (Gaussian) visible units and binary hidden units."""

import math

import keras
import numpy as np
from keras import ops

from keras_genmodels._validation import check_bool, check_positive_float
from keras_genmodels.sampling import backend
from keras_genmodels.rbm.rbm_base import HALF_LOG_2PI, RestrictedBoltzmannMachine


@keras.saving.register_keras_serializable(package="keras_genmodels")
class GaussianBernoulliRBM(RestrictedBoltzmannMachine):
    """RBM with Gaussian visible units of variance sigma^2 and binary hidden units.

    In the parametrisation of Cho, Ilin & Raiko (2011), with v in R^D,
    h in {0,1}^H and z_i = log sigma_i^2:

        E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c . h - (v / sigma^2) W h,
        F(v)    = sum_i (v_i - b_i)^2 / (2 sigma_i^2)
                  - sum_j softplus(c_j + ((v / sigma^2) W)_j),

    so that P(v | h) = N(b + W h, diag(sigma^2)) and
    P(h_j = 1 | v) = sigmoid(c_j + ((v / sigma^2) W)_j). The log-likelihood
    gradient is positive minus negative phase of -dF/dtheta:

        -dF/dW_ij = v_i P(h_j|v) / sigma_i^2,  -dF/db_i = (v_i - b_i) / sigma_i^2,
        -dF/dc_j  = P(h_j|v),
        -dF/dz_i  = e^{-z_i} [(v_i - b_i)^2 / 2 - v_i (W P(h|v))_i].

    The variance is fixed at `variance` unless `learn_variance=True`.
    Standardise the data (zero mean, unit variance per unit) for
    `variance=1`. Metrics: `reconstruction_error` and `free_energy` (the
    pseudo-likelihood has no closed form for continuous units).

    Args:
        n_visible: int, number of visible units D.
        n_hidden: int, number of hidden units H.
        k: int, Gibbs steps per update. Defaults to `1`.
        persistent: bool, PCD-k instead of CD-k. Defaults to `False`.
        n_chains: int, number of persistent chains. Defaults to `100`.
        weight_decay: float, L2 penalty on W. Defaults to `0.0`.
        variance: float > 0, the (initial) variance sigma^2 of every visible
            unit. Defaults to `1.0`.
        learn_variance: bool, whether log sigma^2 is trained. Defaults to `False`.
        seed: int or `None`. Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: visible vectors; returns P(h = 1 | v), shape (batch, H).

    Example:

    ```python
    x = (x - x.mean(0)) / (x.std(0) + 1e-3)  # standardised, shape (N, D)
    rbm = keras_genmodels.rbm.GaussianBernoulliRBM(x.shape[1], 64, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.001, momentum=0.9))
    rbm.fit(x, batch_size=100, epochs=5)
    ```

    References:
        - Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data
          with neural networks" (Gaussian visible units).
        - Cho, Ilin & Raiko 2011, "Improved learning of Gaussian-Bernoulli
          restricted Boltzmann machines" (this parametrisation, learned
          variances).
    """

    def __init__(
        self,
        n_visible,
        n_hidden,
        k=1,
        persistent=False,
        n_chains=100,
        weight_decay=0.0,
        variance=1.0,
        learn_variance=False,
        seed=None,
        **kwargs,
    ):
        self.variance = check_positive_float("variance", variance)
        self.learn_variance = check_bool("learn_variance", learn_variance)
        super().__init__(
            n_visible,
            n_hidden,
            k=k,
            persistent=persistent,
            n_chains=n_chains,
            weight_decay=weight_decay,
            seed=seed,
            **kwargs,
        )

    def build_visible_weights(self):
        # z = log sigma^2, one per visible unit.
        self.log_variance = self.add_weight(
            shape=(self.n_visible,),
            initializer=keras.initializers.Constant(math.log(self.variance)),
            trainable=self.learn_variance,
            name="log_variance",
        )
        # Running mean of v^2 (for the AIS base model's variance).
        self.data_second_moment = self.add_weight(
            shape=(self.n_visible,),
            initializer="zeros",
            trainable=False,
            name="data_second_moment",
        )

    # -- energy and conditionals ----------------------------------------
    def _inv_variance(self):
        return ops.exp(-self.log_variance)

    def visible_energy(self, v):
        """E_v(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2)."""
        return 0.5 * ops.sum(ops.square(v - self.visible_bias) * self._inv_variance(), -1)

    def visible_scale(self, v):
        return v * self._inv_variance()

    def compute_visible_mean(self, h):
        """E[v | h] = b + W h."""
        return ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias

    def draw_visible(self, h, seed):
        mean = self.compute_visible_mean(h)
        noise = backend.normal(ops.shape(mean), mean.dtype, seed)
        return mean + ops.exp(0.5 * self.log_variance) * noise, mean

    def compute_log_marginal_hidden(self, h):
        """log int exp(-E(v, h)) dv
        = c . h + sum_i [(W h)_i^2 + 2 b_i (W h)_i] / (2 sigma_i^2)
          + sum_i (log(2 pi) + z_i) / 2."""
        wh = ops.matmul(h, ops.transpose(self.kernel))
        quad = 0.5 * ops.sum((ops.square(wh) + 2.0 * self.visible_bias * wh) * self._inv_variance(), -1)
        const = ops.sum(HALF_LOG_2PI + 0.5 * self.log_variance)
        return ops.sum(h * self.hidden_bias, -1) + quad + const

    def exact_layer(self):
        return "hidden", self.n_hidden

    # -- training ---------------------------------------------------------
    def update_data_statistics(self, v):
        """Running first and second moments of the data (global batch, one all-reduce)."""
        batch, (total, total_square) = self.global_batch_sums(v, ops.square(v))
        weight = batch / (self.data_count + batch)
        self.data_second_moment.assign(
            self.data_second_moment
            + (total_square / batch - self.data_second_moment) * weight
        )
        self.update_running_mean(batch, total)
        return batch

    def contrastive_gradient(self, v, ph, row_weight):
        inv_var = self._inv_variance()
        weighted = ph * row_weight[:, None]  # (R, H)
        grad_w = ops.matmul(ops.transpose(v * inv_var), weighted)  # (D, H)
        grad_b = ops.sum((v - self.visible_bias) * row_weight[:, None], 0) * inv_var
        grads = [grad_w, grad_b, ops.sum(weighted, 0)]
        if self.learn_variance:
            # sum_r w_r v_ri (W ph_r)_i = sum_j W_ij sigma_i^2 grad_w_ij, so
            # the z gradient sum_r w_r (-dF(v_r)/dz) needs no extra matmul.
            coupling = ops.sum(self.kernel * grad_w, axis=1)
            square = 0.5 * ops.sum(
                ops.square(v - self.visible_bias) * row_weight[:, None], 0
            )
            grads.append(square * inv_var - coupling)
        return grads

    def valid_batch(self, v):
        return ops.all(ops.isfinite(v))

    def check_visible_values(self, name, arr, mean_field=False):
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            n_bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(
                f"`{name}` must contain only finite values. "
                f"Received {n_bad} NaN/Inf value(s)."
            )

    # -- AIS base model -----------------------------------------------------
    def initialize_visible_bias(self, data):
        """Set b to the data mean (then E[v | h = 0] is the average example)."""
        data = self.check_visible("data", data)
        self.visible_bias.assign(data.mean(0).astype(self.visible_bias.dtype))

    def ais_base(self, data):
        """Base model N(mu_A, sigma_A^2) per unit; log Z_A = sum log(2 pi sigma_A^2)/2 + H log 2."""
        if data is not None:
            mean = data.mean(0, dtype="float64")
            var = data.var(0, dtype="float64")
        elif float(ops.convert_to_numpy(self.data_count)) > 0:
            mean = ops.convert_to_numpy(self.data_mean).astype("float64")
            var = ops.convert_to_numpy(self.data_second_moment).astype("float64") - mean**2
        else:
            mean = ops.convert_to_numpy(self.visible_bias).astype("float64")
            var = np.exp(ops.convert_to_numpy(self.log_variance).astype("float64"))
        var = np.maximum(var, 1e-4)
        log_z = np.sum(0.5 * np.log(2 * np.pi * var)) + self.n_hidden * np.log(2.0)
        return {
            "mean": ops.convert_to_tensor(mean, self.compute_dtype),
            "inv_var": ops.convert_to_tensor(1.0 / var, self.compute_dtype),
            "log_z": float(log_z),
        }

    def ais_log_ratio(self, v, base):
        """log p*_B,vis(v) - log p*_A(v) = sum (v - mu_A)^2 / (2 sigma_A^2) - E_v(v)."""
        base_term = 0.5 * ops.sum(ops.square(v - base["mean"]) * base["inv_var"], -1)
        return base_term - self.visible_energy(v)

    # The noise `_ais_sample_visible` takes: N(0, 1) draws.
    ais_noise = "normal"

    def ais_draw_visible(self, h, beta, base, noise):
        """v ~ P_beta(v | h), a Gaussian of precision (1-beta)/sigma_A^2 + beta/sigma^2
        and mean [(1-beta) mu_A/sigma_A^2 + beta (b + W h)/sigma^2] / precision."""
        inv_var = self._inv_variance()
        precision = (1.0 - beta) * base["inv_var"] + beta * inv_var
        mean = (
            (1.0 - beta) * base["mean"] * base["inv_var"]
            + beta * self.compute_visible_mean(h) * inv_var
        ) / precision
        return mean + noise / ops.sqrt(precision)

    def ais_draw_base(self, n, base, seed):
        noise = backend.normal((n, self.n_visible), self.compute_dtype, seed)
        return base["mean"] + noise / ops.sqrt(base["inv_var"])

    def get_config(self):
        config = super().get_config()
        config.update({"variance": self.variance, "learn_variance": self.learn_variance})
        return config
