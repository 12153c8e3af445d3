"""`DeepBoltzmannMachine`: a Boltzmann machine with two binary hidden layers.

Binary visible units v (D), a first hidden layer h1 (H1) and a second h2 (H2),
with the energy

    E(v, h1, h2) = -v W1 h1 - h1 W2 h2 - b . v - c1 . h1 - c2 . h2

and p(v, h1, h2) = exp(-E) / Z (Salakhutdinov & Hinton 2009). Every connection
is undirected, so h1 hears both of its neighbours:

    P(h1_j = 1 | v, h2) = sigmoid((v W1)_j + (W2 h2)_j + c1_j),
    P(v_i = 1 | h1)     = sigmoid((W1 h1)_i + b_i),
    P(h2_k = 1 | h1)    = sigmoid((h1 W2)_k + c2_k),

and v and h2 are independent given h1: a Gibbs sweep has two blocks, h1, then
(v, h2). The posterior P(h1, h2 | v) is not factorial; training and the
likelihood bound use the mean-field approximation Q(h1, h2 | v) =
prod_j q(h1_j) prod_k q(h2_k) (`compute_mean_field`).

The model is bipartite between the odd layer h1 and the even layers (v, h2):
it is a `BernoulliRBM` with D + H2 visible units (v, h2), H1 hidden units h1,
the kernel [W1; W2^T] and the visible biases [b; c2] (`as_rbm`). Its log Z
(exact, or by annealed importance sampling over p*(v, h2) = sum_h1 exp(-E),
Salakhutdinov & Hinton's AIS for a DBM) is that RBM's.

The class is assembled from this module (the weights, conditionals, mean
field and the PCD step), `deep_boltzmann_likelihood` (log Z and the bounds)
and `deep_boltzmann_init` (`from_rbm`, `from_rbms`).
"""

from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from keras_genmodels import distribute
from keras_genmodels._validation import (
    check_array,
    check_bool,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from keras_genmodels.generative_model import GenerativeModel
from keras_genmodels.rbm import bounds, eager
from keras_genmodels.rbm.bounds import LikelihoodBound  # noqa: F401  (public here too)
from keras_genmodels.rbm.deep_boltzmann_init import FromRBMs
from keras_genmodels.rbm.deep_boltzmann_likelihood import DeepBoltzmannLikelihood
from keras_genmodels.rbm.rbm_base import MAX_WEIGHTS
from keras_genmodels.sampling.backend import bernoulli, compile_function, in_xla_context


def distribute_mean(x):
    """The mean over the rows of the global batch, shape x.shape[1:]: one all-reduce under a strategy."""
    if distribute.num_replicas() == 1:
        return ops.mean(x, axis=0)
    count = ops.cast(ops.reshape(ops.shape(x)[0], (1,)), x.dtype)
    sums = distribute.all_reduce_sum(ops.concatenate([ops.sum(x, axis=0), count], axis=0))
    return sums[:-1] / sums[-1]


class MeanField(NamedTuple):
    """The mean-field posterior Q(h1, h2 | v) of a batch, with the logits it was computed from.

    Attributes:
        mu1: q(h1_j = 1), shape (batch, H1); `mu1 = sigmoid(logits_1)`.
        mu2: q(h2_k = 1), shape (batch, H2); `mu2 = sigmoid(logits_2)`.
        logits_1: the logits of the last update of mu1.
        logits_2: mu1 W2 + c2 of the last update of mu2.
        input_1: v W1 + c1, the bottom-up part of logits_1.
    """

    mu1: object
    mu2: object
    logits_1: object
    logits_2: object
    input_1: object


@keras.saving.register_keras_serializable(package="keras_genmodels")
class DeepBoltzmannMachine(DeepBoltzmannLikelihood, FromRBMs, GenerativeModel):
    """Deep Boltzmann machine with binary visible units and two binary hidden layers.

    E(v, h1, h2) = -v W1 h1 - h1 W2 h2 - b . v - c1 . h1 - c2 . h2 (module
    docstring for the conditionals). `model.fit` ascends the log-likelihood
    gradient, positive phase minus negative phase (Salakhutdinov & Hinton
    2009):

        d<log p>/dW1 = <v mu1^T>_data   - <v P(h1|v,h2)^T>_model,
        d<log p>/dW2 = <mu1 mu2^T>_data - <P(h1|v,h2) h2^T>_model,
        d<log p>/db  = <v>_data - <v>_model,
        d<log p>/dc1 = <mu1>_data - <P(h1|v,h2)>_model,
        d<log p>/dc2 = <mu2>_data - <h2>_model,

    minus `weight_decay` W for both kernels. The positive phase is the
    mean-field posterior (mu1, mu2) of the batch (`compute_mean_field`); the
    negative phase comes from `n_chains` persistent chains (PCD, Tieleman
    2008) advanced `gibbs_steps` two-block Gibbs sweeps per update, ending in
    samples (v, h2) of the model, whose h1 enters through P(h1 | v, h2) rather
    than a sample (Rao-Blackwellised: the same expectation, less variance).
    The chains are stored as their h1 states, (n_chains, H1), saved in the
    `.keras` file: a sweep draws (v, h2) ~ P(. | h1) and then h1 ~ P(h1 | v, h2),
    whose probabilities the gradient uses, so no extra matmul per update.

    The optimizer is handed the negative log-likelihood gradient, as for the
    RBMs (`rbm.contrastive`). Metrics (every step, and on `validation_data`):
    `reconstruction_error` (mean squared error per unit between v and
    P(v | h1 = mu1)) and `mean_field_bound` (-E_Q[E] + H(Q) per example: the
    variational bound on log p(v) without -log Z, for monitoring).

    Args:
        n_visible: int, number of visible units D. Inputs of any shape with D
            features per example (e.g. (batch, 28, 28, 1)) are flattened.
        n_hidden_1: int, number of units H1 of the first hidden layer.
        n_hidden_2: int, number of units H2 of the second hidden layer.
        n_chains: int, number of persistent chains of the negative phase.
            Defaults to `100`.
        gibbs_steps: int, two-block Gibbs sweeps of the chains per update.
            Defaults to `1`.
        mean_field_steps: int >= 1, fixed-point iterations of the mean field
            after its bottom-up initialisation. Defaults to `10`.
        weight_decay: float >= 0, L2 penalty on W1 and W2. Defaults to `0.0`.
        centering: bool, use the centred gradient of Melchior, Fischer &
            Wiskott (2016) (`centred_gradient`): the same model, a better
            conditioned update; needed to continue from a centred RBM
            (`from_rbm`). Defaults to `False`.
        centering_rate: float in (0, 1], rate of the moving averages of the
            hidden offsets lambda1, lambda2. Defaults to `0.01`.
        seed: int or `None`, seed of the weight initialisation and of every
            random draw of training and sampling. Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: visible vectors; returns [mu1, mu2], the mean-field posterior
            of both hidden layers concatenated, shape (batch, H1 + H2).

    Example:

    ```python
    x = (images.reshape(-1, 784) > 127).astype("float32")
    rbm = keras_genmodels.load_pretrained("rbm_fashion_mnist_500")  # a centred PCD-1 RBM
    dbm = keras_genmodels.rbm.DeepBoltzmannMachine.from_rbm(  # centred as the RBM
        rbm, 500, n_chains=500, gibbs_steps=5, seed=0)  # the negative phase that kept up (docs/deep_boltzmann.md)
    dbm.compile(keras.optimizers.SGD(0.0001, momentum=0.9))
    dbm.fit(x, batch_size=100, epochs=10)
    bound = dbm.log_likelihood_bound(x_test)
    print(bound.mean, "+-", bound.stderr, "nats (a lower bound)")
    ```

    References:
        - Salakhutdinov & Hinton 2009, "Deep Boltzmann machines", AISTATS.
        - Salakhutdinov & Hinton 2012, "An efficient learning procedure for
          deep Boltzmann machines", Neural Computation 24.
        - Tieleman 2008, "Training restricted Boltzmann machines using
          approximations to the likelihood gradient" (PCD).
        - Melchior, Fischer & Wiskott 2016, "How to center deep Boltzmann
          machines", JMLR 17, arXiv:1311.1354.
        - Salakhutdinov & Murray 2008, "On the quantitative analysis of deep
          belief networks" (AIS).
        - Goodfellow, Bengio & Courville 2016, "Deep Learning", ch. 20.4.
    """

    def __init__(
        self,
        n_visible,
        n_hidden_1,
        n_hidden_2,
        n_chains=100,
        gibbs_steps=1,
        mean_field_steps=10,
        weight_decay=0.0,
        centering=False,
        centering_rate=0.01,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.centering = check_bool("centering", centering)
        self.centering_rate = check_positive_float("centering_rate", centering_rate)
        if self.centering_rate > 1:
            raise ValueError(
                f"`centering_rate` must be in (0, 1]. Received: centering_rate={centering_rate!r}"
            )
        self.n_visible = check_positive_int("n_visible", n_visible, max_value=MAX_WEIGHTS)
        self.n_hidden_1 = check_positive_int("n_hidden_1", n_hidden_1, max_value=MAX_WEIGHTS)
        self.n_hidden_2 = check_positive_int("n_hidden_2", n_hidden_2, max_value=MAX_WEIGHTS)
        if (self.n_visible + self.n_hidden_2) * self.n_hidden_1 > MAX_WEIGHTS:
            raise ValueError(
                f"`(n_visible + n_hidden_2) * n_hidden_1` must be at most {MAX_WEIGHTS} weights. "
                f"Received: n_visible={n_visible}, n_hidden_1={n_hidden_1}, n_hidden_2={n_hidden_2}"
            )
        # The persistent chains hold n_chains x n_hidden_1 states: as many as weights at most.
        self.n_chains = check_positive_int("n_chains", n_chains, max_value=MAX_WEIGHTS // self.n_hidden_1)
        self.gibbs_steps = check_positive_int("gibbs_steps", gibbs_steps)
        self.mean_field_steps = check_positive_int("mean_field_steps", mean_field_steps)
        self.weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
        self.seed = check_seed("seed", seed)
        # Training's generator (per replica under a strategy); the samplers'
        # generator, which `seed=` reseeds (as the RBMs' two generators).
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        self.sampling_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)

        def normal(offset):  # W1 from `seed`, W2 from `seed + 1`
            return keras.initializers.RandomNormal(stddev=0.01, seed=None if seed is None else seed + offset)

        self.kernel_1 = self.add_weight(shape=(self.n_visible, self.n_hidden_1), initializer=normal(0), name="kernel_1")
        self.kernel_2 = self.add_weight(shape=(self.n_hidden_1, self.n_hidden_2), initializer=normal(1), name="kernel_2")
        self.visible_bias = self.add_weight(shape=(self.n_visible,), initializer="zeros", name="visible_bias")
        self.hidden_bias_1 = self.add_weight(shape=(self.n_hidden_1,), initializer="zeros", name="hidden_bias_1")
        self.hidden_bias_2 = self.add_weight(shape=(self.n_hidden_2,), initializer="zeros", name="hidden_bias_2")
        # Running means over every training example of v and of mu2 (the
        # mean-field q(h2 = 1)): the base rate of AIS and of `sample`'s chains.
        self.data_mean = self.add_weight(
            shape=(self.n_visible,), initializer="zeros", trainable=False, name="data_mean"
        )
        self.hidden_2_mean = self.add_weight(
            shape=(self.n_hidden_2,), initializer="zeros", trainable=False, name="hidden_2_mean"
        )
        self.data_count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="data_count")
        # The persistent chains, stored as their h1 states.
        self.persistent_hidden_1 = self.add_weight(
            shape=(self.n_chains, self.n_hidden_1), initializer="zeros", trainable=False, name="persistent_hidden_1"
        )
        if self.centering:
            # lambda1, lambda2: moving averages of the data's mu1 and mu2, the hidden offsets of the
            # centred gradient (the visible offset is `data_mean`).
            self.hidden_offset_1 = self.add_weight(
                shape=(self.n_hidden_1,), initializer=keras.initializers.Constant(0.5), trainable=False,
                name="hidden_offset_1",
            )
            self.hidden_offset_2 = self.add_weight(
                shape=(self.n_hidden_2,), initializer=keras.initializers.Constant(0.5), trainable=False,
                name="hidden_offset_2",
            )
        self.built = True
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in ("reconstruction_error", "mean_field_bound")
        }
        self._gibbs_fn = None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_visible": self.n_visible,
                "n_hidden_1": self.n_hidden_1,
                "n_hidden_2": self.n_hidden_2,
                "n_chains": self.n_chains,
                "gibbs_steps": self.gibbs_steps,
                "mean_field_steps": self.mean_field_steps,
                "weight_decay": self.weight_decay,
                "centering": self.centering,
                "centering_rate": self.centering_rate,
                "seed": self.seed,
            }
        )
        return config

    def parameter_variables(self):
        """[W1, W2, b, c1, c2]: the trainable weights, in the order of `contrastive_gradient`.

        (Not named `parameters`: under the torch backend a layer is a
        `torch.nn.Module`, whose method that is.)
        """
        return [self.kernel_1, self.kernel_2, self.visible_bias, self.hidden_bias_1, self.hidden_bias_2]

    def data_seed_generator(self):
        """Training's generator: its state seeds the order of NumPy data in `fit`."""
        return self.seed_generator

    # ------------------------------------------------ conditionals (keras.ops)
    def compute_hidden_1_logits(self, v, h2):
        """v W1 + h2 W2^T + c1, shape (batch, H1): the logits of P(h1 = 1 | v, h2)."""
        return ops.matmul(v, self.kernel_1) + ops.matmul(h2, ops.transpose(self.kernel_2)) + self.hidden_bias_1

    def compute_visible_mean(self, h1):
        """P(v = 1 | h1) = sigmoid(h1 W1^T + b), shape (batch, D)."""
        return ops.sigmoid(ops.matmul(h1, ops.transpose(self.kernel_1)) + self.visible_bias)

    def compute_hidden_2_mean(self, h1):
        """P(h2 = 1 | h1) = sigmoid(h1 W2 + c2), shape (batch, H2)."""
        return ops.sigmoid(ops.matmul(h1, self.kernel_2) + self.hidden_bias_2)

    def draw_visible_and_hidden_2(self, h1, seed):
        """(v, h2, P(v = 1 | h1)): v ~ P(v | h1) and h2 ~ P(h2 | h1), independent given h1."""
        mean_v = self.compute_visible_mean(h1)
        return bernoulli(mean_v, seed), bernoulli(self.compute_hidden_2_mean(h1), seed), mean_v

    def gibbs_sweep(self, v, h2, seed):
        """One two-block Gibbs sweep: h1 ~ P(h1 | v, h2), then (v, h2) ~ P(. | h1); returns (v, h2, P(v|h1))."""
        h1 = bernoulli(ops.sigmoid(self.compute_hidden_1_logits(v, h2)), seed)
        return self.draw_visible_and_hidden_2(h1, seed)

    # ------------------------------------------------------ mean field (keras.ops)
    def compute_mean_field(self, v, steps):
        """The mean-field posterior Q(h1, h2 | v) = prod q(h1_j) prod q(h2_k) of a batch.

        Initialised by the recognition pass of Salakhutdinov & Hinton (2009,
        2012): mu1 = sigmoid(2 v W1 + c1), the bottom-up input doubled to stand
        in for the top-down input that h2 does not yet give, then
        mu2 = sigmoid(mu1 W2 + c2). Then `steps` times the fixed-point updates

            mu1 = sigmoid(v W1 + mu2 W2^T + c1),
            mu2 = sigmoid(mu1 W2 + c2).

        Each update maximises the bound `compute_variational_bound` over one
        layer given the other (the units of a layer are conditionally
        independent), so the bound never decreases from one update to the next.

        Args:
            v: visible vectors, shape (batch, D), in the compute dtype.
            steps: int >= 0, the number of fixed-point iterations.

        Returns:
            A `MeanField`.
        """
        input_1 = ops.matmul(v, self.kernel_1) + self.hidden_bias_1  # (batch, H1), fixed below
        logits_1 = 2.0 * input_1 - self.hidden_bias_1  # 2 v W1 + c1
        mu1 = ops.sigmoid(logits_1)
        logits_2 = ops.matmul(mu1, self.kernel_2) + self.hidden_bias_2
        mu2 = ops.sigmoid(logits_2)
        kernel_2_t = ops.transpose(self.kernel_2)
        for _ in range(steps):
            logits_1 = input_1 + ops.matmul(mu2, kernel_2_t)
            mu1 = ops.sigmoid(logits_1)
            logits_2 = ops.matmul(mu1, self.kernel_2) + self.hidden_bias_2
            mu2 = ops.sigmoid(logits_2)
        return MeanField(mu1, mu2, logits_1, logits_2, input_1)

    def compute_variational_bound(self, v, mean_field):
        """-E_Q[E(v, h1, h2)] + H(Q) per example: log p(v) + log Z >= this, for any Q.

            -E_Q[E] = b . v + v W1 mu1 + c1 . mu1 + mu1 W2 mu2 + c2 . mu2
                    = b . v + mu1 . (v W1 + c1) + mu2 . (mu1 W2 + c2),
            H(Q)    = sum over units of -q log q - (1 - q) log(1 - q)
                    = sum over units of softplus(x) - q x,   q = sigmoid(x),

        the entropy written in the logits x of each q (stable as q -> 0 or 1).
        """
        mf = mean_field
        expected_neg_energy = (
            ops.sum(v * self.visible_bias, -1)
            + ops.sum(mf.mu1 * mf.input_1, -1)
            + ops.sum(mf.mu2 * mf.logits_2, -1)
        )
        entropy = bounds.bernoulli_entropy(mf.logits_1) + bounds.bernoulli_entropy(mf.logits_2)
        return expected_neg_energy + entropy

    # ------------------------------------------------------------ the step
    def compile(self, optimizer=None, **kwargs):
        """Configure training; `optimizer` defaults to SGD with momentum, as the RBMs'.

        Args:
            optimizer: any Keras optimizer (it is handed the negative
                log-likelihood gradient). Defaults to
                `keras.optimizers.SGD(learning_rate=0.01, momentum=0.5)`.
            **kwargs: other `keras.Model.compile` arguments
                (`steps_per_execution`, `jit_compile`). A `loss` is not used:
                the gradient is computed in closed form.
        """
        if optimizer is None:
            optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=0.5)
        super().compile(optimizer=optimizer, **kwargs)

    def checked_batch(self, data):
        """The visible batch of `data`, flattened to (batch, D) in the compute dtype, its values asserted binary.

        Shapes are checked when the step is traced (a `ValueError`); values by
        a graph assertion (`InvalidArgumentError`), which XLA drops: `fit`
        checks NumPy data eagerly first (`check_training_data`).
        """
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        shape = tuple(x.shape)
        features = shape[1:]
        if len(shape) < 2 or (
            all(d is not None for d in features) and int(np.prod(features)) != self.n_visible
        ):
            raise ValueError(
                f"Expected {self.n_visible} visible units per example, shape (batch, {self.n_visible}) "
                f"or (batch, ...) with {self.n_visible} features. Received: shape={shape}"
            )
        v = ops.cast(ops.reshape(x, (-1, self.n_visible)), self.compute_dtype)
        if keras.backend.backend() == "tensorflow" and not in_xla_context():
            import tensorflow as tf

            binary = ops.all(ops.equal(v * (v - 1.0), 0.0))  # false for NaN too
            message = "DeepBoltzmannMachine expected binary visible values (every value 0 or 1). Received other values."
            with tf.control_dependencies([tf.debugging.Assert(binary, [message])]):
                v = tf.identity(v)
        return v

    def train_step(self, data):
        """One update on the batch of `data` (see the class docstring); returns the metrics."""
        return self.persistent_step(self.checked_batch(data))

    def persistent_step(self, v):
        """One update on the checked visible batch `v`: mean field, persistent chains, gradient.

        Under a `tf.distribute` strategy each replica holds n_r of the B
        examples and its share of the M chains; its rows are weighted -1/B and
        +1/M, so that the summed gradient is the one-device gradient, and the
        statistics and the chains are all-reduced (as `rbm.contrastive`).
        """
        mean_field = self.compute_mean_field(v, self.mean_field_steps)
        global_batch = self.update_statistics(v, mean_field.mu2)
        v_model, h2_model, mu1_model = self.negative_phase()
        grads = self.contrastive_gradient(
            v, mean_field.mu1, mean_field.mu2, v_model, h2_model, mu1_model,
            global_batch, ops.cast(self.n_chains, self.compute_dtype),
        )
        if self.weight_decay:
            # weight_decay/2 (||W1||^2 + ||W2||^2) added to the loss (divided by R under a strategy).
            for i, kernel in ((0, self.kernel_1), (1, self.kernel_2)):
                grads[i] = grads[i] + distribute.scale_loss_for_distribution(self.weight_decay * kernel)
        self.optimizer.apply_gradients(zip(grads, self.parameter_variables()))
        return self.update_metrics(v, mean_field)

    def negative_phase(self):
        """`gibbs_steps` sweeps of this replica's persistent chains; returns (v, h2, P(h1 | v, h2)).

        Each sweep draws (v, h2) ~ P(. | h1), then h1 ~ P(h1 | v, h2); the
        last h1 is written back to the chains (all replicas' rows).
        """
        h1 = ops.convert_to_tensor(self.persistent_hidden_1)
        if distribute.num_replicas() > 1:
            start, stop = distribute.replica_slice(self.n_chains)
            h1 = h1[start:stop]
        for _ in range(self.gibbs_steps):
            v_model, h2_model, _ = self.draw_visible_and_hidden_2(h1, self.seed_generator)
            mu1_model = ops.sigmoid(self.compute_hidden_1_logits(v_model, h2_model))
            h1 = bernoulli(mu1_model, self.seed_generator)
        self.persistent_hidden_1.assign(distribute.gather_replica_slices(h1, self.n_chains))
        return v_model, h2_model, mu1_model

    def contrastive_gradient(self, v, mu1, mu2, v_model, h2_model, mu1_model, n_data, n_model):
        """The gradient of the loss, minus the log-likelihood gradient: <.>_model - <.>_data.

        In the RBM view (`as_rbm`: visible x = [v; h2], hidden h1) each term
        is that of an RBM's: with x_r = [v; mu2] and p_r = mu1 for the data
        rows and x_r = [v; h2], p_r = P(h1 | v, h2) for the model rows,
        weighted w_r = -1/n_data and +1/n_model,

            dL/d[W1; W2^T] = sum_r w_r x_r p_r^T   (one matmul),
            dL/d[b; c2]    = sum_r w_r x_r,
            dL/dc1         = sum_r w_r p_r.

        Args:
            v, mu1, mu2: the data batch (B, D) and its mean field.
            v_model, h2_model, mu1_model: the chains' samples (M, D), (M, H2)
                and P(h1 = 1 | v, h2) (M, H1).
            n_data, n_model: the global numbers of data rows and of chains.

        Returns:
            [dL/dW1, dL/dW2, dL/db, dL/dc1, dL/dc2], aligned with `parameter_variables()`.
        """
        dtype = v.dtype
        rows = ops.concatenate(
            [ops.concatenate([v, mu2], axis=1), ops.concatenate([v_model, h2_model], axis=1)], axis=0
        )  # (B + M, D + H2)
        row_weight = ops.concatenate(
            [
                ops.full((ops.shape(v)[0],), -1.0, dtype=dtype) / ops.cast(n_data, dtype),
                ops.full((ops.shape(v_model)[0],), 1.0, dtype=dtype) / ops.cast(n_model, dtype),
            ],
            axis=0,
        )
        probabilities = ops.concatenate([mu1, mu1_model], axis=0)  # (B + M, H1)
        weighted = probabilities * row_weight[:, None]
        d = self.n_visible
        if not self.centering:
            grad_kernel = ops.matmul(ops.transpose(rows), weighted)  # (D + H2, H1)
            grad_visible = ops.matmul(row_weight, rows)  # (D + H2,)
            grad_hidden = ops.sum(weighted, axis=0)
        else:
            grad_kernel, grad_visible, grad_hidden = self.centred_gradient(rows, probabilities, row_weight, mu1, mu2)
        return [
            grad_kernel[:d],
            ops.transpose(grad_kernel[d:]),
            grad_visible[:d],
            grad_hidden,
            grad_visible[d:],
        ]

    def centred_gradient(self, rows, probabilities, row_weight, mu1, mu2):
        """The centred gradient (Melchior, Fischer & Wiskott 2016), in the RBM view, mapped to W, b, c.

        With offsets o = [mu; lambda2] for the even layers x = [v; h2] (mu the
        running data mean, lambda2 a moving average of the data's mu2) and
        lambda1 for h1 (of the data's mu1), the energy
        -(x - o) K (h1 - lambda1) - a.(x - o) - c1.(h1 - lambda1) is the same
        model re-parameterised, and its gradient is better conditioned:

            dL/dK  = sum_r w_r (x_r - o)(p_r - lambda1)^T,
            dL/da  = sum_r w_r x_r - dL/dK lambda1,
            dL/dc1 = sum_r w_r p_r - o^T dL/dK,

        the last two mapped back to the stored (uncentred) biases as
        `BernoulliRBM(centering=True)` does. The offsets move first, by
        `centering_rate` towards the batch's means.

        Returns:
            (dL/dK (D + H2, H1), dL/d[b; c2] (D + H2,), dL/dc1 (H1,)).
        """
        rate = self.centering_rate
        lambda_1 = self.hidden_offset_1 + rate * (distribute_mean(mu1) - self.hidden_offset_1)
        lambda_2 = self.hidden_offset_2 + rate * (distribute_mean(mu2) - self.hidden_offset_2)
        self.hidden_offset_1.assign(lambda_1)
        self.hidden_offset_2.assign(lambda_2)
        offset = ops.concatenate([ops.convert_to_tensor(self.data_mean), lambda_2], axis=0)  # (D + H2,)
        centred_rows = rows - offset
        centred_hidden = (probabilities - lambda_1) * row_weight[:, None]
        grad_kernel = ops.matmul(ops.transpose(centred_rows), centred_hidden)
        grad_visible = ops.matmul(row_weight, rows) - ops.matmul(ops.matmul(centred_hidden, lambda_1), centred_rows)
        weighted = probabilities * row_weight[:, None]
        grad_hidden = ops.sum(weighted, axis=0) - ops.matmul(ops.matmul(centred_rows, offset), centred_hidden)
        return grad_kernel, grad_visible, grad_hidden

    def update_statistics(self, v, mu2):
        """Running means of v and mu2 over every example seen; returns B, the global batch size (float).

        mean_N = mean_{N-B} + B/N (mean_B - mean_{N-B}), with B and the sums
        all-reduced over the replicas (one all-reduce).
        """
        dtype = self.data_count.dtype
        batch = ops.cast(ops.shape(v)[0], dtype)
        sums = distribute.all_reduce_sum(
            ops.concatenate(
                [ops.reshape(batch, (1,)), ops.sum(ops.cast(v, dtype), 0), ops.sum(ops.cast(mu2, dtype), 0)], 0
            )
        )
        batch, d = sums[0], self.n_visible
        count = self.data_count + batch
        self.data_mean.assign(self.data_mean + (sums[1 : 1 + d] / batch - self.data_mean) * (batch / count))
        self.hidden_2_mean.assign(self.hidden_2_mean + (sums[1 + d :] / batch - self.hidden_2_mean) * (batch / count))
        self.data_count.assign(count)
        return ops.cast(batch, self.compute_dtype)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def update_metrics(self, v, mean_field):
        """Reconstruction error of P(v | h1 = mu1) and the mean-field bound (without log Z); the logs."""
        reconstruction = self.compute_visible_mean(mean_field.mu1)
        self.trackers["reconstruction_error"].update_state(ops.mean(ops.square(v - reconstruction), axis=-1))
        self.trackers["mean_field_bound"].update_state(self.compute_variational_bound(v, mean_field))
        return distribute.step_outputs({m.name: m.result() for m in self.metrics})

    def test_step(self, data):
        """The metrics on held-out data (no update)."""
        v = self.checked_batch(data)
        return self.update_metrics(v, self.compute_mean_field(v, self.mean_field_steps))

    def call(self, inputs):
        """[mu1, mu2]: the mean-field posterior of `inputs`, shape (batch, H1 + H2)."""
        v = ops.cast(ops.reshape(inputs, (-1, self.n_visible)), self.compute_dtype)
        mean_field = self.compute_mean_field(v, self.mean_field_steps)
        return ops.concatenate([mean_field.mu1, mean_field.mu2], axis=-1)

    # ----------------------------------------------------------- eager helpers
    def check_visible(self, name, x, mean_field=False):
        """Check visible vectors eagerly; return them as a (batch, D) NumPy array.

        Args:
            name: the argument's name, for the message.
            x: shape (batch, D) or (batch, ...) with D features.
            mean_field: whether values in [0, 1] are accepted (else every value
                must be 0 or 1). Defaults to `False`.
        """
        arr = check_array(name, x)
        if arr.ndim < 2 or int(np.prod(arr.shape[1:])) != self.n_visible:
            raise ValueError(
                f"`{name}` must have {self.n_visible} visible units per example "
                f"(shape (batch, {self.n_visible}) or (batch, ...) with {self.n_visible} features). "
                f"Received: shape={arr.shape}"
            )
        arr = arr.reshape(arr.shape[0], self.n_visible)
        if mean_field:
            return check_array(name, arr, min_value=0, max_value=1)
        binary = (arr == 0) | (arr == 1)
        if not np.all(binary):
            bad = [float(f"{x:.6g}") for x in np.unique(arr[~binary])[:3]]
            raise ValueError(
                f"`{name}` must be binary (every value 0 or 1) for a DeepBoltzmannMachine. "
                f"Received values such as {bad}: binarise the data first, e.g. x = (pixels > 127)."
            )
        return arr

    def check_training_data(self, x, name="x"):
        """NumPy training data checked eagerly: D features per example, every value 0 or 1."""
        return self.check_visible(name, x)

    def map_batches(self, fn, x, batch_size=eager.ROWS_PER_BATCH):
        """`fn` (a `keras.ops` function of a batch) on the rows of `x` in batches; NumPy, concatenated on axis 0."""
        return eager.map_batches(fn, x, self.compute_dtype, batch_size)

    def reseed(self, seed):
        """Restart the sampling stream at `seed` (the seed pair [seed, 0]); `None` leaves it."""
        eager.restart_stream(self.sampling_seed_generator, seed)

    def mean_field(self, v, steps=None):
        """The mean-field posterior (mu1, mu2) of `v` (`compute_mean_field`), as NumPy arrays.

        Args:
            v: visible vectors, shape (batch, D) or (batch, ...); values in
                [0, 1] (probabilities) are accepted.
            steps: int >= 1, fixed-point iterations, or `None` for
                `mean_field_steps`. Defaults to `None`.

        Returns:
            `(mu1, mu2)`, shapes (batch, H1) and (batch, H2).
        """
        v = self.check_visible("v", v, mean_field=True)
        steps = self.mean_field_steps if steps is None else check_positive_int("steps", steps)
        both = self.map_batches(
            lambda t: ops.concatenate(self.compute_mean_field(t, steps)[:2], axis=-1), v
        )
        return both[:, : self.n_hidden_1], both[:, self.n_hidden_1 :]

    def hidden_probabilities(self, v, steps=None):
        """The feature transform, as the RBMs name it: the mean field (mu1, mu2) of `v` (see `mean_field`)."""
        return self.mean_field(v, steps)

    @property
    def persistent_chains(self):
        """P(v = 1 | h1) of the persistent chains, shape (n_chains, D)."""
        return ops.convert_to_numpy(self.compute_visible_mean(self.persistent_hidden_1))

    def _compiled_gibbs(self):
        if self._gibbs_fn is None:

            def chain(v, h2, steps):
                def body(i, state):
                    return self.gibbs_sweep(state[0], state[1], self.sampling_seed_generator)

                return ops.fori_loop(0, steps, body, (v, h2, v))

            # Not XLA, as the RBMs' chains: TensorFlow's own random numbers.
            self._gibbs_fn = compile_function(chain, jit_compile=False)
        return self._gibbs_fn

    def sample(self, n, seed=None, *, steps=1000, return_means=True):
        """Draw `n` samples of v by `steps` two-block Gibbs sweeps from fresh chains.

        The chains start from the base-rate model of AIS (`as_rbm`):
        independent v and h2 with the smoothed running means of the training
        data and of its mean-field mu2 (the biases b and c2 before any `fit`);
        each sweep draws h1 ~ P(h1 | v, h2), then v ~ P(v | h1) and
        h2 ~ P(h2 | h1). The persistent training chains are left alone.

        Args:
            n: int, number of samples.
            seed: int seed. Defaults to `None`: the model's own sampling
                stream, which `save` and `load` carry over.
            steps: int, number of sweeps. Defaults to `1000`.
            return_means: whether to return P(v = 1 | h1) of the last sweep
                (smooth images) rather than the binary v. Defaults to `True`.

        Returns:
            float32 NumPy array of shape (n, D).
        """
        n = check_positive_int("n", n, max_value=2**31 - 1)
        steps = check_positive_int("steps", steps)
        self.reseed(seed)
        logits = self.as_rbm().ais_base(None)["logits"]  # (D + H2,)
        start = bernoulli(
            ops.sigmoid(ops.broadcast_to(logits, (n, self.n_visible + self.n_hidden_2))), self.sampling_seed_generator
        )
        v, _, mean = self._compiled_gibbs()(
            start[:, : self.n_visible], start[:, self.n_visible :], ops.convert_to_tensor(steps, "int32")
        )
        return ops.convert_to_numpy(mean if return_means else v).astype("float32")

