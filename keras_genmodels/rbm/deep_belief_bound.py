"""The variational bound on log p(v) of a `DeepBeliefNetwork` (Salakhutdinov & Murray 2008).

For a DBN with recognition distribution Q(h | v) = prod_l Q(h_l | h_{l-1})
(factorial, the RBMs' P(h | v) unless `up_down` untied them) and generative
model p(v, h_1, ..., h_{L-1}) = p*(h_{L-1}) / Z_top prod_l p(h_{l-1} | h_l),

    log p(v) >= E_Q[log p*(h_{L-1}) + sum_l log p(h_{l-1} | h_l)] + H(Q) - log Z_top,

the entropy in closed form, the expectation by Monte Carlo (unbiased) or by
enumeration, and log Z_top by the library's AIS on the top RBM (or exactly).
`DeepBeliefBound` is that part of `DeepBeliefNetwork`.
"""


import numpy as np
from keras import ops

from keras_genmodels._validation import (
    check_choice,
    check_positive_int,
    check_seed,
)
from keras_genmodels.rbm import bounds, partition
from keras_genmodels.rbm.bounds import (
    bernoulli_entropy,
    bernoulli_log_likelihood,
)
from keras_genmodels.rbm.eager import ROWS_PER_BATCH
from keras_genmodels.sampling.backend import bernoulli, compile_function

# Largest number of hidden units below the top RBM that `method="exact"` sums over.
EXACT_MAX_UNITS = partition.AUTO_EXACT_MAX_UNITS
# Rows per batch of the eager methods; joint hidden states per chunk of the exact bound,
# whose (rows, states) float64 matrices take _EXACT_ROWS * _STATES * 8 bytes = 8 MB each.
_ROWS, _EXACT_ROWS, _STATES = ROWS_PER_BATCH, 1024, 1024


def negative_free_energy(v, kernel, visible_bias, hidden_bias):
    """log p*(v) = -F(v) = b . v + sum_j softplus(c_j + (v W)_j) of a Bernoulli RBM, shape (batch,)."""
    return ops.matmul(v, visible_bias) + ops.sum(ops.softplus(ops.matmul(v, kernel) + hidden_bias), -1)



class DeepBeliefBound:
    """`log_likelihood_bound` and its `keras.ops` pieces, for `DeepBeliefNetwork`."""

    _bound_functions = None

    # ------------------------------------------------------- likelihood bound
    def log_likelihood_bound(
        self,
        data,
        log_z=None,
        method="monte_carlo",
        n_samples=100,
        log_z_method="auto",
        ais_chains=100,
        betas=None,
        seed=None,
    ):
        """The variational lower bound on log p(v) of Salakhutdinov & Murray (2008), in nats.

        With Q(h_1, ..., h_{L-1} | v) = prod_l Q(h_l | h_{l-1}) (recognition
        weights) and p the generative model (module docstring),

            log p(v) >= E_Q[log p*(h_{L-1}) + sum_l log p(h_{l-1} | h_l)] + H(Q) - log Z_top,

        log p*(h) = -F_top(h), log p(h_{l-1} | h_l) = sum_i [h_{l-1,i} a_i -
        softplus(a_i)], a = b_l + W_l h_l, and H(Q) = sum_l E[H(Q(h_l | h_{l-1}))],
        each a closed-form factorial Bernoulli entropy sum_j [softplus(a_j) -
        sigmoid(a_j) a_j]. For L = 1 this is log p(v) = -F(v) - log Z exactly.
        Computed in float64.

        Args:
            data: binary visible vectors, shape (N, D) or (N, ...).
            log_z: log Z_top (a float or an `AISEstimate`), or `None` to
                compute it by `log_z_method`.
            method: `"monte_carlo"`: the expectation by `n_samples` draws of
                h ~ Q per example (an unbiased estimate of the bound; the
                entropies of the conditionals in closed form); `"exact"`: a
                sum over the 2^m joint states of the hidden layers below the
                top RBM (m <= 20). Defaults to `"monte_carlo"`.
            n_samples: int, draws per example. Defaults to `100`.
            log_z_method: `"auto"` (exact when the top RBM's smaller layer has
                at most 20 units, else AIS), `"exact"` or `"ais"`. Defaults to `"auto"`.
            ais_chains: int, AIS runs. Defaults to `100`.
            betas: AIS schedule. Defaults to `None` (`default_ais_schedule()`).
            seed: int seed of the Monte Carlo draws and of AIS. Defaults to `None`.

        Returns:
            A `LikelihoodBound(mean, stderr, per_example, log_z)`.
        """
        data = self.check_visible("data", data)
        check_choice("method", method, {"monte_carlo", "exact"})
        n_samples = check_positive_int("n_samples", n_samples)
        check_choice("log_z_method", log_z_method, {"auto", "exact", "ais"})
        seed = check_seed("seed", seed)
        hidden_units = sum(self.layer_sizes[1:-1])
        if method == "exact" and hidden_units > EXACT_MAX_UNITS:
            raise ValueError(
                f"`method='exact'` sums over the 2^m joint states of the hidden layers below the top RBM; "
                f"expected m <= {EXACT_MAX_UNITS}. Received m={hidden_units} "
                f"(layer_sizes={self.layer_sizes}). Use method='monte_carlo'."
            )
        log_z, log_z_std = self._top_log_partition(log_z, log_z_method, ais_chains, betas, seed)
        weights = self._bound_weights()
        fns = self._compiled_bound_functions()
        per_example = np.empty(data.shape[0], "float64")
        if self.n_layers > 1 and method == "monte_carlo" and seed is not None:
            generator = self.sampling_seed_generator
            generator.state.assign(ops.convert_to_tensor([seed, 0], dtype=generator.state.dtype))
        rows = _EXACT_ROWS if method == "exact" else _ROWS
        for start in range(0, data.shape[0], rows):
            v = ops.convert_to_tensor(data[start : start + rows], "float64")
            if self.n_layers == 1:
                value = negative_free_energy(v, *weights["top"])
            elif method == "monte_carlo":
                value = fns["monte_carlo"](v, weights, ops.convert_to_tensor(n_samples, "int32"))
            else:
                value = self._exact_bound_terms(v, weights, hidden_units, fns["exact"])
            per_example[start : start + rows] = ops.convert_to_numpy(value)
        return bounds.likelihood_bound(per_example, log_z, log_z_std)

    def _top_log_partition(self, log_z, log_z_method, ais_chains, betas, seed):
        """`(log Z_top, its standard error)`: given, exact or by AIS."""
        return bounds.resolve_log_z(self.rbms[-1], log_z, log_z_method, ais_chains, betas, seed)

    def _bound_weights(self):
        """The weights the bound uses, as float64 tensors: recognition, generative and top."""

        def f64(*tensors):
            return tuple(ops.cast(ops.convert_to_tensor(t), "float64") for t in tensors)

        lower = range(self.n_layers - 1)
        top = self.rbms[-1]
        return {
            "recognition": [f64(*self.recognition_weights(layer)) for layer in lower],
            "generative": [f64(self.rbms[layer].kernel, self.rbms[layer].visible_bias) for layer in lower],
            "top": f64(top.kernel, top.visible_bias, top.hidden_bias),
        }

    def _compiled_bound_functions(self):
        if self._bound_functions is None:
            self._bound_functions = {
                "monte_carlo": compile_function(self.sampled_bound_terms),
                "exact": compile_function(self.exact_bound_terms),
            }
        return self._bound_functions

    def sampled_bound_terms(self, v, weights, n_samples):
        """Per example, the mean over `n_samples` draws h ~ Q(. | v) of (keras.ops, float64)

            sum_{l=1}^{L-1} [H(Q(h_l | h_{l-1})) + log p(h_{l-1} | h_l)] + log p*(h_{L-1}),

        an unbiased estimate of the bound plus log Z_top; shape (batch,).
        """

        def one_draw(i, total):
            below, terms = v, total
            for (kernel_r, bias_r), (kernel_g, bias_g) in zip(weights["recognition"], weights["generative"]):
                logits = ops.matmul(below, kernel_r) + bias_r
                h = bernoulli(ops.sigmoid(logits), self.sampling_seed_generator)
                generative_logits = ops.matmul(h, ops.transpose(kernel_g)) + bias_g
                terms = terms + bernoulli_entropy(logits) + bernoulli_log_likelihood(below, generative_logits)
                below = h
            return terms + negative_free_energy(below, *weights["top"])

        total = ops.fori_loop(0, n_samples, one_draw, ops.zeros((ops.shape(v)[0],), "float64"))
        return total / ops.cast(n_samples, "float64")

    def exact_bound_terms(self, v, states, weights):
        """sum over the joint states h = (h_1, ..., h_{L-1}) in `states` (S, m) of
        Q(h | v) [log p(v, h_1, ..., h_{L-1})* - log Q(h | v)] (keras.ops, float64), shape (batch,).

        log Q(h_1 | v) = h_1 . a - sum_j softplus(a_j), a = r_1 + v R_1, is the
        (batch, S) matrix a h_1^T - sum softplus(a); log p(v | h_1) likewise
        v A^T - sum softplus(A), A = b_1 + h_1 W_1^T; the terms of the layers
        above involve the states alone, shape (S,).
        """
        sizes = self.layer_sizes[1:-1]
        offsets = np.cumsum([0] + sizes)
        hs = [states[:, offsets[i] : offsets[i + 1]] for i in range(len(sizes))]
        (kernel_r, bias_r), (kernel_g, bias_g) = weights["recognition"][0], weights["generative"][0]
        a = ops.matmul(v, kernel_r) + bias_r  # (B, H_1)
        log_q = ops.matmul(a, ops.transpose(hs[0])) - ops.sum(ops.softplus(a), -1)[:, None]  # (B, S)
        big_a = ops.matmul(hs[0], ops.transpose(kernel_g)) + bias_g  # (S, D)
        log_p = ops.matmul(v, ops.transpose(big_a)) - ops.sum(ops.softplus(big_a), -1)[None, :]  # (B, S)
        chain = negative_free_energy(hs[-1], *weights["top"])  # log p*(h_{L-1}), (S,)
        for layer in range(1, len(sizes)):
            (kernel_r, bias_r), (kernel_g, bias_g) = weights["recognition"][layer], weights["generative"][layer]
            below, above = hs[layer - 1], hs[layer]
            log_q_layer = bernoulli_log_likelihood(above, ops.matmul(below, kernel_r) + bias_r)  # (S,)
            chain = chain + bernoulli_log_likelihood(below, ops.matmul(above, ops.transpose(kernel_g)) + bias_g)
            log_q = log_q + log_q_layer[None, :]
        # sum_h Q(h | v) [log p(v | h_1) + sum_l log p(h_{l-1} | h_l) + log p*(h_{L-1}) - log Q(h | v)]
        return ops.sum(ops.exp(log_q) * (log_p + chain[None, :] - log_q), axis=1)

    def _exact_bound_terms(self, v, weights, m, fn):
        """`exact_bound_terms` summed over the 2^m joint states, in chunks of `_STATES`."""
        total = 2**m
        chunk = min(total, _STATES)
        result = 0.0
        for start in range(0, total, chunk):
            idx = np.arange(start, start + chunk, dtype=np.int64)
            states = ((idx[:, None] >> np.arange(m)) & 1).astype("float64")
            result = result + ops.convert_to_numpy(fn(v, ops.convert_to_tensor(states), weights))
        return result
