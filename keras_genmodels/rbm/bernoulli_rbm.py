"""The RBM with binary visible and binary hidden units."""

import keras
import numpy as np
from keras import ops

from keras_genmodels import distribute
from keras_genmodels._validation import check_bool, check_positive_float
from keras_genmodels.rbm.rbm_base import RestrictedBoltzmannMachine
from keras_genmodels.sampling.backend import bernoulli


@keras.saving.register_keras_serializable(package="keras_genmodels")
class BernoulliRBM(RestrictedBoltzmannMachine):
    """Restricted Boltzmann machine with binary visible and hidden units.

    Energy and free energy (v in {0,1}^D, h in {0,1}^H):

        E(v, h) = -b . v - c . h - v W h,
        F(v)    = -b . v - sum_j softplus(c_j + (v W)_j),

    conditionals P(h_j = 1 | v) = sigmoid(c_j + (v W)_j) and
    P(v_i = 1 | h) = sigmoid(b_i + (W h)_i). Trained by `model.fit` with CD-k
    or PCD-k on the log-likelihood gradient (positive minus negative phase)

        d<log p>/dW = <v P(h|v)^T>_data - <v P(h|v)^T>_model,
        d<log p>/db = <v>_data - <v>_model,
        d<log p>/dc = <P(h|v)>_data - <P(h|v)>_model.

    With `centering=True` the update is that of the centred RBM (Montavon &
    Mueller 2012; Melchior et al. 2016), E = -(v-mu).b - c.(h-lambda)
    - (v-mu) W (h-lambda), with mu the running data mean and lambda a moving
    average of P(h|v_data), mapped back to the stored (uncentred) W, b, c:

        dW = <(v-mu)(h-lambda)^T>_data - <(v-mu)(h-lambda)^T>_model,
        db = <v>_data - <v>_model - dW lambda,
        dc = <h>_data - <h>_model - dW^T mu.

    The model is the same; only the direction of the update changes (it is
    better conditioned).

    Metrics each epoch (in training estimated on the first tenth of the batch
    of every tenth step, which keeps the step matmul-bound; on every example
    in evaluation):
    `reconstruction_error` (mean squared error per unit between v and
    E[v | h ~ P(h|v)]), `free_energy` (mean F(v) of the batches) and
    `pseudo_log_likelihood` (D log sigmoid(F(v~) - F(v)), v~ = v with one
    random unit flipped, as scikit-learn's `score_samples`). With
    `validation_data`, also their `val_` versions and `free_energy_gap`.

    Args:
        n_visible: int, number of visible units D. Inputs may have any shape
            with D features per example, e.g. (batch, 28, 28, 1).
        n_hidden: int, number of hidden units H.
        k: int, Gibbs steps per update. Defaults to `1`.
        persistent: bool, PCD-k instead of CD-k. Defaults to `False`.
        n_chains: int, number of persistent chains. Defaults to `100`.
        weight_decay: float, L2 penalty on W. Defaults to `0.0`.
        centering: bool, use the centred gradient. Defaults to `False`.
        centering_rate: float in (0, 1], rate of the moving average of the
            hidden offset lambda. Defaults to `0.01`.
        seed: int or `None`. Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: visible vectors; returns P(h = 1 | v), shape (batch, H).

    Example:

    ```python
    x = (images.reshape(-1, 784) > 127).astype("float32")
    rbm = keras_genmodels.rbm.BernoulliRBM(784, 500, persistent=True, centering=True, seed=0)
    rbm.compile(steps_per_execution=100)  # SGD(0.01, momentum=0.5)
    rbm.fit(x, batch_size=100, epochs=10)
    ais = rbm.log_partition_ais()
    print(rbm.log_likelihood(x_test, log_z=ais), "+-", ais.std, "nats")
    ```

    References:
        - Hinton 2002, "Training products of experts by minimizing
          contrastive divergence" (CD-k).
        - Tieleman 2008, "Training restricted Boltzmann machines using
          approximations to the likelihood gradient" (PCD).
        - Salakhutdinov & Murray 2008, "On the quantitative analysis of deep
          belief networks" (AIS for RBMs).
        - Melchior, Fischer & Wiskott 2016, "How to center deep Boltzmann
          machines", arXiv:1311.1354.
        - Hinton 2010, "A practical guide to training restricted Boltzmann
          machines".
    """

    def __init__(
        self,
        n_visible,
        n_hidden,
        k=1,
        persistent=False,
        n_chains=100,
        weight_decay=0.0,
        centering=False,
        centering_rate=0.01,
        seed=None,
        **kwargs,
    ):
        self.centering = check_bool("centering", centering)
        self.centering_rate = check_positive_float("centering_rate", centering_rate)
        if self.centering_rate > 1:
            raise ValueError(
                "`centering_rate` must be in (0, 1]. "
                f"Received: centering_rate={centering_rate!r}"
            )
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
        if self.centering:
            # lambda: moving average of P(h | v_data), the hidden offset.
            self.hidden_offset = self.add_weight(
                shape=(self.n_hidden,),
                initializer=keras.initializers.Constant(0.5),
                trainable=False,
                name="hidden_offset",
            )

    # -- energy and conditionals ----------------------------------------
    def visible_energy(self, v):
        """E_v(v) = -b . v."""
        return -ops.sum(v * self.visible_bias, axis=-1)

    def compute_visible_mean(self, h):
        """P(v_i = 1 | h) = sigmoid(b_i + (W h)_i)."""
        return ops.sigmoid(ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias)

    def draw_visible(self, h, seed):
        p = self.compute_visible_mean(h)
        return bernoulli(p, seed), p

    def compute_log_marginal_hidden(self, h):
        """log sum_v exp(-E(v, h)) = c . h + sum_i softplus(b_i + (W h)_i)."""
        pre = ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias
        return ops.sum(h * self.hidden_bias, -1) + ops.sum(ops.softplus(pre), -1)

    def exact_layer(self):
        if self.n_hidden <= self.n_visible:
            return "hidden", self.n_hidden
        return "visible", self.n_visible

    # -- training ---------------------------------------------------------
    def contrastive_gradient(self, v, ph, row_weight):
        weighted = ph * row_weight[:, None]  # (R, H)
        if not self.centering:
            # dL/dW = <v P(h|v)^T>_model - <v P(h|v)^T>_data: one (D, R) x (R, H) matmul.
            grad_w = ops.matmul(ops.transpose(v), weighted)
            return [grad_w, ops.matmul(row_weight, v), ops.sum(weighted, axis=0)]
        mu = ops.convert_to_tensor(self.data_mean)
        is_data = ops.cast(row_weight < 0, v.dtype)[:, None]  # (R, 1)
        if distribute.num_replicas() == 1:
            ph_data_mean = ops.sum(ph * is_data, 0) / ops.sum(is_data)
        else:
            # <P(h|v)>_data over the global batch: one all-reduce of [sums; count].
            sums = distribute.all_reduce_sum(
                ops.concatenate([ops.sum(ph * is_data, 0), ops.sum(is_data, 0)], 0)
            )
            ph_data_mean = sums[:-1] / sums[-1]
        lam = self.hidden_offset + self.centering_rate * (ph_data_mean - self.hidden_offset)
        self.hidden_offset.assign(lam)
        # Centred: sum_r w_r (v_r - mu)(h_r - lambda)^T = (V - mu)^T (w (H - lambda)).
        centred_v = v - mu  # (R, D)
        centred_h = (ph - lam) * row_weight[:, None]  # (R, H)
        grad_w = ops.matmul(ops.transpose(centred_v), centred_h)
        grad_b = ops.matmul(row_weight, v)
        grad_c = ops.sum(weighted, axis=0)
        # Back to the stored parameters: b = b~ - W lambda, c = c~ - W^T mu, i.e.
        # grad_b - grad_w lambda and grad_c - mu grad_w, each as two thin
        # products through the R rows (R (D + H) multiply-adds) instead of one
        # pass over the D x H grad_w.
        return [
            grad_w,
            grad_b - ops.matmul(ops.matmul(centred_h, lam), centred_v),
            grad_c - ops.matmul(ops.matmul(centred_v, mu), centred_h),
        ]

    def valid_batch(self, v):
        # v (v - 1) == 0 exactly for 0 and 1; NaN compares unequal.
        return ops.all(ops.equal(v * (v - 1.0), 0.0))

    def invalid_batch_message(self):
        return (
            "BernoulliRBM expected binary visible values (every value 0 or 1). "
            "Received a batch with other values (or NaN): binarise the data, "
            "e.g. x = (pixels > 127)."
        )

    def check_visible_values(self, name, arr, mean_field=False):
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            n_bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(
                f"`{name}` must contain only finite values. "
                f"Received {n_bad} NaN/Inf value(s)."
            )
        if mean_field:
            lo, hi = arr.min(), arr.max()
            if lo < 0 or hi > 1:
                raise ValueError(
                    f"`{name}` must have values in [0, 1] for a BernoulliRBM. "
                    f"Received values in [{lo}, {hi}]."
                )
            return
        binary = (arr == 0) | (arr == 1)
        if not np.all(binary):
            bad = [float(f"{b:.6g}") for b in np.unique(arr[~binary])[:3]]
            if np.all((arr == -1) | (arr == 1)):
                hint = (
                    "these look like Ising spins s = ±1: map them to bits first, "
                    "x = keras_genmodels.physics.spins_to_binary(s), i.e. (s + 1) / 2."
                )
            else:
                hint = "binarise the data first, e.g. x = (pixels > 127)."
            raise ValueError(
                f"`{name}` must be binary (every value 0 or 1) for a BernoulliRBM. "
                f"Received values such as {bad}: {hint}"
            )

    # -- metrics ------------------------------------------------------------
    def _pseudo_log_likelihood(self, v, pre, seed, softplus_pre=None):
        """D log sigmoid(F(v~) - F(v)), v~ = v with one random unit i flipped.

        The flip changes c + v W by (1 - 2 v_i) W_i, so no extra matmul:
        F(v~) - F(v) = -b_i (1 - 2 v_i) - sum_j [softplus(pre~_j) - softplus(pre_j)].
        """
        if softplus_pre is None:
            softplus_pre = ops.softplus(pre)
        batch = ops.shape(v)[0]
        i = keras.random.randint((batch,), 0, self.n_visible, seed=seed)
        v_i = ops.take_along_axis(v, i[:, None], axis=1)[:, 0]
        delta = 1.0 - 2.0 * v_i  # +1 if the unit was off, -1 if on
        pre_flip = pre + delta[:, None] * ops.take(self.kernel, i, axis=0)
        gap = -ops.take(self.visible_bias, i) * delta - ops.sum(
            ops.softplus(pre_flip) - softplus_pre, axis=-1
        )
        return -self.n_visible * ops.softplus(-gap)  # D log sigmoid(gap)

    metric_names = ("reconstruction_error", "free_energy", "pseudo_log_likelihood")

    def metric_values(self, v, pre, rec_target, reconstruction):
        softplus_pre = ops.softplus(pre)
        free_energy = self.visible_energy(v) - ops.sum(softplus_pre, axis=-1)
        error = ops.mean(ops.square(rec_target - reconstruction), axis=-1)
        pll = self._pseudo_log_likelihood(v, pre, self.seed_generator, softplus_pre)
        return ops.stack([error, free_energy, pll], axis=1)

    def pseudo_log_likelihood(self, v, seed=None):
        """Stochastic pseudo-log-likelihood per example (scikit-learn's `score_samples`)."""
        v = self.check_visible("v", v)
        self.reseed(seed)
        return self.map_batches(
            lambda t: self._pseudo_log_likelihood(
                t, self.compute_hidden_logits(t), self.sampling_seed_generator
            ),
            v,
        )

    # -- data-dependent initialisation and AIS base rate ------------------------
    @staticmethod
    def _smoothed_logits(mean, count):
        """log-odds of (count * mean + 1) / (count + 2) (Laplace smoothing)."""
        p = (count * mean + 1.0) / (count + 2.0)
        return np.log(p) - np.log1p(-p)

    def initialize_visible_bias(self, data):
        """Set b to the log-odds of the smoothed data means (Hinton 2010, 8.1).

        Then P(v | h = 0) is the data's base rate, and early samples look like
        the data's average.
        """
        data = self.check_visible("data", data)
        self.visible_bias.assign(
            self._smoothed_logits(data.mean(0, dtype="float64"), data.shape[0]).astype(
                self.visible_bias.dtype
            )
        )

    def max_abs_hidden_logit(self):
        """max_j max(|c_j + sum_i min(W_ij, 0)|, |c_j + sum_i max(W_ij, 0)|) over v in {0, 1}^D."""
        w = ops.convert_to_numpy(self.kernel).astype("float64")
        c = ops.convert_to_numpy(self.hidden_bias).astype("float64")
        low = c + np.minimum(w, 0.0).sum(0)
        high = c + np.maximum(w, 0.0).sum(0)
        return float(np.max(np.maximum(np.abs(low), np.abs(high))))

    def ais_base(self, data):
        """Base-rate model log p*_A(v) = b_A . v, log Z_A = sum softplus(b_A) + H log 2."""
        if data is not None:
            logits = self._smoothed_logits(data.mean(0, dtype="float64"), data.shape[0])
        elif float(ops.convert_to_numpy(self.data_count)) > 0:
            logits = self._smoothed_logits(
                ops.convert_to_numpy(self.data_mean).astype("float64"),
                float(ops.convert_to_numpy(self.data_count)),
            )
        else:
            logits = ops.convert_to_numpy(self.visible_bias).astype("float64")
        log_z = np.sum(np.logaddexp(0.0, logits)) + self.n_hidden * np.log(2.0)
        return {
            "logits": ops.convert_to_tensor(logits, self.compute_dtype),
            "log_z": float(log_z),
            # W^T, transposed once for the ~14,500 sweeps rather than in each.
            "kernel_t": ops.transpose(ops.convert_to_tensor(self.kernel)),
        }

    def ais_log_ratio(self, v, base):
        """log p*_B,vis(v) - log p*_A(v) = (b - b_A) . v, shape (M,)."""
        return ops.matmul(v, self.visible_bias - base["logits"])

    # The noise `_ais_sample_visible` takes: U[0, 1) uniforms.
    ais_noise = "uniform"

    def ais_draw_visible(self, h, beta, base, noise):
        """v ~ P_beta(v | h) = sigmoid(beta W h + (1 - beta) b_A + beta b), as u < P."""
        bias = (1.0 - beta) * base["logits"] + beta * self.visible_bias  # (D,)
        pre = beta * ops.matmul(h, base["kernel_t"]) + bias
        return ops.cast(ops.less(noise, ops.sigmoid(pre)), pre.dtype)

    def ais_draw_base(self, n, base, seed):
        p = ops.sigmoid(ops.broadcast_to(base["logits"], (n, self.n_visible)))
        return bernoulli(p, seed)

    # -- interoperability -----------------------------------------------------
    @classmethod
    def from_sklearn(cls, sk_rbm, **kwargs):
        """A `BernoulliRBM` with the weights of a fitted `sklearn.neural_network.BernoulliRBM`.

        scikit-learn's `components_` (H, D) is W^T; `intercept_visible_` is b
        and `intercept_hidden_` is c (its energy is the same, -b.v - c.h - v W h).
        """
        components = np.asarray(sk_rbm.components_)
        n_hidden, n_visible = components.shape
        model = cls(n_visible, n_hidden, **kwargs)
        model.kernel.assign(components.T.astype(model.kernel.dtype))
        model.visible_bias.assign(np.asarray(sk_rbm.intercept_visible_, model.kernel.dtype))
        model.hidden_bias.assign(np.asarray(sk_rbm.intercept_hidden_, model.kernel.dtype))
        return model

    def get_config(self):
        config = super().get_config()
        config.update({"centering": self.centering, "centering_rate": self.centering_rate})
        return config
