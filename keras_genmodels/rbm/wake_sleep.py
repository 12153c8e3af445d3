"""The up-down (contrastive wake-sleep) fine-tuning of a `DeepBeliefNetwork` (Hinton, Osindero & Teh 2006).

`UpDown` is that part of `DeepBeliefNetwork`: `up_down` and its compiled step.
"""


import keras
import numpy as np
from keras import ops

from keras_genmodels import _arrays
from keras_genmodels._validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
)
from keras_genmodels.sampling.backend import bernoulli, compile_function


class UpDown:
    """`up_down` and `up_down_step`, for `DeepBeliefNetwork`."""

    # `(gibbs_steps, compiled up-down step)`, built on first use.
    _up_down_function = None

    # -------------------------------------------------------------- up-down
    def up_down_step(self, v, learning_rate, gibbs_steps):
        """One up-down update on the batch `v` (keras.ops); returns the sum of its squared errors per unit.

        Wake: h_0 = v, h_l ~ Q(h_l | h_{l-1}) with the recognition weights R.
        Top: CD-k on the top RBM from its wake visible state h_{L-1}:
            dW = <h_{L-1} P(h_L|h_{L-1})^T>_wake - <same>_negative.
        Sleep: from the top RBM's negative visible state, h_{l-1} ~
        p(h_{l-1} | h_l) down with the generative weights (means for v).
        Delta rules (all computed before any update; eta = learning_rate):
            generative:  W_l += eta <(h_{l-1} - p(h_{l-1}=1 | h_l)) h_l^T>_wake,
                         b_l += eta <h_{l-1} - p(h_{l-1}=1 | h_l)>_wake,
            recognition: R_l += eta <h_{l-1} (h_l - Q(h_l=1 | h_{l-1}))^T>_sleep,
                         r_l += eta <h_l - Q(h_l=1 | h_{l-1})>_sleep,
        and -eta weight_decay W on every kernel. The error is
        mean_i (v_i - p(v_i = 1 | h_1^wake))^2 per example.
        """
        seed = self.seed_generator
        n_layers = self.n_layers
        batch = ops.cast(ops.shape(v)[0], v.dtype)
        wake = [v]
        for layer in range(n_layers - 1):
            logits = ops.matmul(wake[-1], self.recognition_kernels[layer]) + self.recognition_biases[layer]
            wake.append(bernoulli(ops.sigmoid(logits), seed))
        top = self.rbms[-1]
        v_pos = wake[-1]
        ph_pos = ops.sigmoid(top.compute_hidden_logits(v_pos))
        h = bernoulli(ph_pos, seed)
        for step in range(gibbs_steps):
            v_neg, mean = top.draw_visible(h, seed)
            if step == 0:
                first_mean = mean
            ph_neg = ops.sigmoid(top.compute_hidden_logits(v_neg))
            if step < gibbs_steps - 1:
                h = bernoulli(ph_neg, seed)
        sleep = [None] * n_layers
        sleep[-1] = v_neg
        for layer in range(n_layers - 2, -1, -1):
            p = self.rbms[layer].compute_visible_mean(sleep[layer + 1])
            sleep[layer] = p if layer == 0 else bernoulli(p, seed)

        decay = self.weight_decay
        updates = []
        error = ops.mean(ops.square(v - first_mean), axis=-1) if n_layers == 1 else None
        for layer in range(n_layers - 1):
            rbm = self.rbms[layer]
            delta = wake[layer] - rbm.compute_visible_mean(wake[layer + 1])  # (B, layer_sizes[layer])
            if layer == 0:
                error = ops.mean(ops.square(delta), axis=-1)
            grad_w = ops.matmul(ops.transpose(delta), wake[layer + 1]) / batch - decay * rbm.kernel
            updates += [(rbm.kernel, grad_w), (rbm.visible_bias, ops.mean(delta, axis=0))]
            kernel, bias = self.recognition_kernels[layer], self.recognition_biases[layer]
            # (B, layer_sizes[layer + 1])
            q_delta = sleep[layer + 1] - ops.sigmoid(ops.matmul(sleep[layer], kernel) + bias)
            grad_r = ops.matmul(ops.transpose(sleep[layer]), q_delta) / batch - decay * kernel
            updates += [(kernel, grad_r), (bias, ops.mean(q_delta, axis=0))]
        positive = ops.matmul(ops.transpose(v_pos), ph_pos)
        negative = ops.matmul(ops.transpose(v_neg), ph_neg)
        updates += [
            (top.kernel, (positive - negative) / batch - decay * top.kernel),
            (top.visible_bias, ops.mean(v_pos - v_neg, axis=0)),
            (top.hidden_bias, ops.mean(ph_pos - ph_neg, axis=0)),
        ]
        deltas = [learning_rate * grad for _, grad in updates]
        for (variable, _), delta in zip(updates, deltas):
            variable.assign_add(delta)
        return ops.sum(error)

    def up_down(self, x, epochs=1, batch_size=100, learning_rate=0.001, gibbs_steps=3, verbose=0):
        """Up-down (contrastive wake-sleep) fine-tuning, Hinton, Osindero & Teh 2006.

        On its first run the recognition weights are untied from the RBMs
        (`untie_weights`); each mini-batch then makes one `up_down_step`
        (wake pass, CD-`gibbs_steps` on the top RBM, sleep pass, delta rules),
        compiled once as a `compile_function`. The generative weights are the
        lower RBMs' kernels and visible biases, and the top RBM stays an RBM
        (tied weights); the lower RBMs' hidden biases are no longer used by
        the DBN.

        Args:
            x: binary data, shape (N, D) or (N, ...).
            epochs: int. Defaults to `1`.
            batch_size: int. Defaults to `100`.
            learning_rate: float > 0. Defaults to `0.001`.
            gibbs_steps: int, the k of the top RBM's CD-k. Defaults to `3`
                (Hinton et al. used a few, more as training went on).
            verbose: 0 or 1 (a progress bar per epoch). Defaults to `0`.

        Returns:
            NumPy array (epochs,): each epoch's mean squared error per visible
            unit between v and p(v = 1 | h_1 ~ Q(h_1 | v)).
        """
        x = self.check_visible("x", x)
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", batch_size)
        learning_rate = check_positive_float("learning_rate", learning_rate)
        gibbs_steps = check_positive_int("gibbs_steps", gibbs_steps)
        check_choice("verbose", verbose, (0, 1))
        if float(ops.convert_to_numpy(self.untied)) < 0.5:
            self.untie_weights()
        key, step = self._up_down_function or (None, None)
        if key != gibbs_steps:
            step = compile_function(lambda v, lr: self.up_down_step(v, lr, gibbs_steps))
            self._up_down_function = (gibbs_steps, step)
        rate = ops.convert_to_tensor(learning_rate, self.compute_dtype)
        n = x.shape[0]
        errors = []
        for _ in range(epochs):
            order = np.random.default_rng(_arrays.seed_from_state(self.seed_generator)).permutation(n)
            progress = keras.utils.Progbar(-(-n // batch_size)) if verbose else None
            total = ops.zeros((), self.compute_dtype)
            for start in range(0, n, batch_size):
                batch = ops.convert_to_tensor(x[order[start : start + batch_size]], self.compute_dtype)
                total = total + step(batch, rate)
                if progress is not None:
                    progress.add(1)
            errors.append(float(ops.convert_to_numpy(total)) / n)
        return np.asarray(errors)

