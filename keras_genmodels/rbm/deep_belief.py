"""Deep belief networks: a stack of `BernoulliRBM`s trained greedily, then up-down.

A DBN with layers v = h_0, h_1, ..., h_L (sizes `layer_sizes` = [D, H_1, ..., H_L])
is a directed sigmoid belief net whose top two layers form an undirected RBM:

    p(v, h_1, ..., h_L) = p(h_{L-1}, h_L) prod_{l=1}^{L-1} p(h_{l-1} | h_l),
    p(h_{l-1, i} = 1 | h_l) = sigmoid(b_l,i + (W_l h_l)_i),

with p(h_{L-1}, h_L) the top RBM. RBM l (`rbms[l - 1]`, visible h_{l-1}, hidden
h_l) holds the generative weights W_l and b_l (its kernel and visible bias).
Recognition goes up through the factorial approximate posterior

    Q(h_l | h_{l-1}) = prod_j sigmoid(r_l,j + (h_{l-1} R_l)_j),

tied to the RBMs (R_l = W_l, r_l = c_l, the RBM's hidden bias) until `up_down`
unties them.

- Greedy layer-wise training (Hinton, Osindero & Teh 2006): RBM 1 is fitted to
  the data, RBM l + 1 to the data propagated through Q of the layers below;
  under the paper's conditions (a new layer started from the transposed
  weights below) each new layer can only raise a variational lower bound
  on log p(v).
- Up-down fine-tuning (their appendix B, a contrastive wake-sleep): a wake
  pass samples up with R, and moves the generative weights of the lower
  layers by the delta rule on p(h_{l-1} | h_l) and the top RBM by CD-k; a
  sleep pass samples down from the top RBM with W, and moves R by the delta
  rule on Q(h_l | h_{l-1}).
- The variational bound of Salakhutdinov & Murray (2008) on log p(v), with
  Q(h_1, ..., h_{L-1} | v) = prod_l Q(h_l | h_{l-1}):

      log p(v) >= E_Q[log p*(h_{L-1}) + sum_{l=1}^{L-1} log p(h_{l-1} | h_l)]
                  + H(Q) - log Z_top,

  p*(h_{L-1}) = exp(-F_top(h_{L-1})) the top RBM's unnormalised marginal of
  its visible layer, Z_top its partition function. For two hidden layers
  (one RBM below the top one) this is the bound they estimate,
  sum_{h_1} Q(h_1|v)[log p*(h_1) + log p(v|h_1)] + H(Q(h_1|v)) - log Z_top;
  for one hidden layer it is the RBM's log-likelihood (Q is the exact
  posterior).

References:
    - Hinton, Osindero & Teh 2006, "A fast learning algorithm for deep belief
      nets", Neural Computation 18.
    - Salakhutdinov & Murray 2008, "On the quantitative analysis of deep
      belief networks", ICML.
    - Goodfellow, Bengio & Courville 2016, "Deep Learning", section 20.3.
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_genmodels import _arrays
from keras_genmodels._validation import (
    SEED_MAX,
    check_array,
    check_bool,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from keras_genmodels.generative_model import GenerativeModel
from keras_genmodels.rbm import bounds, partition
from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM
from keras_genmodels.rbm.bounds import (  # noqa: F401  (public here too)
    LikelihoodBound,
    bernoulli_entropy,
    bernoulli_log_likelihood,
)
from keras_genmodels.rbm.eager import ROWS_PER_BATCH
from keras_genmodels.rbm.rbm_base import MAX_WEIGHTS
from keras_genmodels.sampling.backend import bernoulli, compile_function

# RBM i is seeded with seed + RBM_SEED_STRIDE * (i + 1) (the DBN uses seed and seed + 1).
RBM_SEED_STRIDE = 1000
# Largest number of hidden units below the top RBM that `method="exact"` sums over.
EXACT_MAX_UNITS = partition.AUTO_EXACT_MAX_UNITS
# Rows per batch of the eager methods; joint hidden states per chunk of the exact bound,
# whose (rows, states) float64 matrices take _EXACT_ROWS * _STATES * 8 bytes = 8 MB each.
_ROWS, _EXACT_ROWS, _STATES = ROWS_PER_BATCH, 1024, 1024


# ----------------------------------------------------------------- the math
def negative_free_energy(v, kernel, visible_bias, hidden_bias):
    """log p*(v) = -F(v) = b . v + sum_j softplus(c_j + (v W)_j) of a Bernoulli RBM, shape (batch,)."""
    return ops.matmul(v, visible_bias) + ops.sum(ops.softplus(ops.matmul(v, kernel) + hidden_bias), -1)


def _check_epochs(name, value):
    """An int >= 0 (0: the layer is left as it is)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` must be an int >= 0. Received: {name}={value!r}")
    return int(value)


def check_layer_sizes(layer_sizes):
    """`layer_sizes` as a list of ints if it is a list of at least 2 positive ints [D, H_1, ...]."""
    if isinstance(layer_sizes, np.ndarray) and layer_sizes.ndim == 1:
        layer_sizes = layer_sizes.tolist()
    if not isinstance(layer_sizes, (list, tuple)) or len(layer_sizes) < 2:
        raise ValueError(
            "`layer_sizes` must be a list of at least 2 positive ints, [D, H_1, H_2, ...] "
            f"(the visible units, then each hidden layer's). Received: layer_sizes={layer_sizes!r}"
        )
    return [check_positive_int(f"layer_sizes[{i}]", n, max_value=MAX_WEIGHTS) for i, n in enumerate(layer_sizes)]


@keras.saving.register_keras_serializable(package="keras_genmodels")
class DeepBeliefNetwork(GenerativeModel):
    """Deep belief network: `BernoulliRBM`s stacked and trained layer by layer.

    `rbms[i]` has `layer_sizes[i]` visible and `layer_sizes[i + 1]` hidden
    units; the top one is the undirected top-level RBM, the others give the
    directed generative conditionals p(h_{l-1} | h_l) = sigmoid(b + W h_l)
    (their kernel and visible bias) and, until `up_down`, the recognition
    conditionals Q(h_l | h_{l-1}) = sigmoid(c + h_{l-1} W) (kernel, hidden
    bias). See the module docstring for the model and the bound.

    - `fit(x)`: greedy layer-wise training, each RBM by its own `model.fit`.
    - `up_down(x)`: wake-sleep fine-tuning with untied recognition weights
      (`recognition_kernels`, `recognition_biases`, saved with the model).
      From then on `propagate_up`, `transform`, `to_classifier` and the Q of
      `log_likelihood_bound` use the recognition weights; `sample` and the
      bound's p use the generative ones (the RBMs'). A later `fit` ties them
      again.
    - `sample(n)`: block Gibbs in the top RBM, then one pass down.
    - `propagate_up(v)`, `transform(v)`: the layers' mean-field features.
    - `log_likelihood_bound(x)`: the bound of Salakhutdinov & Murray (2008).
    - `to_classifier(n_classes)`: a Keras MLP initialised from the DBN.

    The model has no `train_step` of its own: it is not trained by Keras's
    `fit` loop but through its RBMs'.

    Args:
        layer_sizes: list of at least 2 positive ints, [D, H_1, ..., H_L]:
            the visible units, then each hidden layer's. `[D, H]` is a single
            RBM.
        k: int, Gibbs steps of each RBM's CD-k / PCD-k. Defaults to `1`.
        persistent: bool, whether the RBMs train by PCD (persistent chains,
            saved with the model). Defaults to `True`.
        n_chains: int, persistent chains per RBM. Defaults to `100`.
        weight_decay: float >= 0, L2 penalty on every W (also in `up_down`).
            Defaults to `0.0`.
        centering: bool, whether the RBMs use the centred gradient in greedy
            training (`up_down` uses the plain one). Defaults to `False`.
        seed: int or `None`. RBM i is seeded with `seed + 1000 * (i + 1)`.
            Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: visible vectors (batch, D) or (batch, ...); returns the top
            layer's mean-field features, shape (batch, H_L).

    Example:

    ```python
    x = (images.reshape(-1, 784) > 127).astype("float32")
    dbn = keras_genmodels.rbm.DeepBeliefNetwork([784, 500, 500, 2000], seed=0)
    dbn.fit(x, epochs=10, batch_size=100)
    bound = dbn.log_likelihood_bound(x_test[:1000], n_samples=10)
    print(bound.mean, "+-", bound.stderr, "nats")
    images = dbn.sample(16, seed=1)
    ```

    References:
        - Hinton, Osindero & Teh 2006, "A fast learning algorithm for deep
          belief nets", Neural Computation 18.
        - Salakhutdinov & Murray 2008, "On the quantitative analysis of deep
          belief networks", ICML.
    """

    # `(gibbs_steps, compiled up-down step)`, and the compiled bound functions.
    _up_down_function = None
    _bound_functions = None

    def __init__(
        self,
        layer_sizes,
        k=1,
        persistent=True,
        n_chains=100,
        weight_decay=0.0,
        centering=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.layer_sizes = check_layer_sizes(layer_sizes)
        self.k = check_positive_int("k", k)
        self.persistent = check_bool("persistent", persistent)
        self.n_chains = check_positive_int("n_chains", n_chains)
        self.weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
        self.centering = check_bool("centering", centering)
        self.seed = check_seed("seed", seed)
        n_layers = len(self.layer_sizes) - 1
        if self.seed is not None and self.seed + RBM_SEED_STRIDE * n_layers > SEED_MAX:
            raise ValueError(
                f"`seed` must leave room for the RBMs' seeds seed + {RBM_SEED_STRIDE} * (i + 1): "
                f"expected seed <= {SEED_MAX - RBM_SEED_STRIDE * n_layers}. Received: seed={seed}"
            )
        # Greedy training's sampled data and `up_down`'s noise; the bound's Monte Carlo.
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.sampling_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.rbms = [
            BernoulliRBM(
                self.layer_sizes[i],
                self.layer_sizes[i + 1],
                k=self.k,
                persistent=self.persistent,
                n_chains=self.n_chains,
                weight_decay=self.weight_decay,
                centering=self.centering,
                seed=None if seed is None else seed + RBM_SEED_STRIDE * (i + 1),
                dtype=self.dtype_policy,
                name=f"rbm_{i}",
            )
            for i in range(n_layers)
        ]
        # 1.0 once `up_down` has untied the recognition weights from the RBMs.
        self.untied = self.add_weight(shape=(), initializer="zeros", trainable=False, name="untied")
        self.recognition_kernels = [
            self.add_weight(
                shape=(self.layer_sizes[i], self.layer_sizes[i + 1]),
                initializer="zeros",
                trainable=False,
                name=f"recognition_kernel_{i}",
            )
            for i in range(n_layers - 1)
        ]
        self.recognition_biases = [
            self.add_weight(
                shape=(self.layer_sizes[i + 1],), initializer="zeros", trainable=False, name=f"recognition_bias_{i}"
            )
            for i in range(n_layers - 1)
        ]
        self.built = True

    @property
    def n_layers(self):
        """L, the number of hidden layers (of RBMs)."""
        return len(self.layer_sizes) - 1

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layer_sizes": list(self.layer_sizes),
                "k": self.k,
                "persistent": self.persistent,
                "n_chains": self.n_chains,
                "weight_decay": self.weight_decay,
                "centering": self.centering,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_rbms(cls, rbms, **kwargs):
        """A DBN whose layers start as copies of trained `BernoulliRBM`s, bottom first.

        The stack's settings (`k`, `persistent`, `n_chains`, `weight_decay`,
        `centering`) are those of `rbms[0]` unless given in `kwargs`; each
        layer takes its RBM's W, b, c, running data statistics and, where the
        shapes agree, its persistent chains and hidden offset. Then
        `fit(x, epochs=[0, ..., n])` trains only the layers above them: e.g. a
        second layer on top of the `rbm_fashion_mnist_500` preset, which is
        how greedy training is meant (Hinton, Osindero & Teh 2006).

        Args:
            rbms: a list of `BernoulliRBM`, rbms[i].n_hidden == rbms[i + 1].n_visible.
            **kwargs: other constructor arguments (`seed`, ...).

        Returns:
            A `DeepBeliefNetwork` with layer_sizes [D, H_1, ..., H_L].
        """
        if not isinstance(rbms, (list, tuple)) or not rbms or not all(isinstance(r, BernoulliRBM) for r in rbms):
            raise ValueError(
                "`rbms` must be a non-empty list of BernoulliRBM, bottom first. "
                f"Received: rbms={[type(r).__name__ for r in rbms] if isinstance(rbms, (list, tuple)) else rbms!r}"
            )
        for i in range(len(rbms) - 1):
            if rbms[i].n_hidden != rbms[i + 1].n_visible:
                raise ValueError(
                    f"Expected each RBM to model the hidden layer of the one below: rbms[{i + 1}].n_visible == "
                    f"rbms[{i}].n_hidden. Received: rbms[{i}].n_hidden={rbms[i].n_hidden}, "
                    f"rbms[{i + 1}].n_visible={rbms[i + 1].n_visible}"
                )
        first = rbms[0]
        settings = {"k": first.k, "persistent": first.persistent, "n_chains": first.n_chains,
                    "weight_decay": first.weight_decay, "centering": first.centering}
        model = cls([first.n_visible] + [r.n_hidden for r in rbms], **{**settings, **kwargs})
        for source, target in zip(rbms, model.rbms):
            for name in ("kernel", "visible_bias", "hidden_bias", "data_mean", "data_count",
                         "hidden_offset", "persistent_hidden"):
                a, b = getattr(source, name, None), getattr(target, name, None)
                if a is not None and b is not None and tuple(a.shape) == tuple(b.shape):
                    b.assign(ops.convert_to_numpy(a).astype(b.dtype))
        return model

    def train_step(self, data):
        raise NotImplementedError(
            "DeepBeliefNetwork has no train_step of its own: `fit(x)` trains its RBMs greedily, "
            "each by its own `model.fit`, and `up_down(x)` fine-tunes the stack."
        )

    # ------------------------------------------------------ weights (tensors)
    def recognition_weights(self, layer):
        """`(R, r)` of Q(h_{layer+1} = 1 | h_layer) = sigmoid(r + h_layer R), as tensors.

        The RBM's kernel and hidden bias until `up_down` unties them (and
        always for the top RBM), then `recognition_kernels[layer]` and
        `recognition_biases[layer]`.
        """
        rbm = self.rbms[layer]
        if layer == self.n_layers - 1:
            return ops.convert_to_tensor(rbm.kernel), ops.convert_to_tensor(rbm.hidden_bias)
        untied = ops.greater(self.untied, 0.5)
        return (
            ops.where(untied, self.recognition_kernels[layer], rbm.kernel),
            ops.where(untied, self.recognition_biases[layer], rbm.hidden_bias),
        )

    def untie_weights(self):
        """Copy each lower RBM's W and c into the recognition weights, and use those from now on.

        `up_down` calls it on its first run; `fit` ties the weights again.
        """
        for layer in range(self.n_layers - 1):
            self.recognition_kernels[layer].assign(self.rbms[layer].kernel)
            self.recognition_biases[layer].assign(self.rbms[layer].hidden_bias)
        self.untied.assign(1.0)

    def compute_propagate_up(self, v, layers):
        """[Q(h_1 = 1 | v), ..., Q(h_layers = 1 | ...)] by mean-field: each layer's probabilities feed the next."""
        out, h = [], v
        for layer in range(layers):
            kernel, bias = self.recognition_weights(layer)
            h = ops.sigmoid(ops.matmul(h, kernel) + bias)
            out.append(h)
        return out

    def call(self, inputs):
        """The top layer's mean-field features, shape (batch, H_L)."""
        return self.compute_propagate_up(self.rbms[0].flatten_visible(inputs), self.n_layers)[-1]

    # ------------------------------------------------------------ eager API
    def check_visible(self, name, x, mean_field=False):
        """A batch of visible vectors checked eagerly, as a (batch, D) NumPy array.

        Binary values in {0, 1}, or any in [0, 1] with `mean_field=True`;
        shape (batch, D) or (batch, ...) with D features. A `ValueError`
        names what was expected and what was received.
        """
        arr = check_array(name, x)
        d = self.layer_sizes[0]
        if arr.ndim < 2 or int(np.prod(arr.shape[1:])) != d:
            raise ValueError(
                f"`{name}` must have {d} visible units per example (shape (batch, {d}) or "
                f"(batch, ...) with {d} features). Received: shape={arr.shape}"
            )
        arr = arr.reshape(arr.shape[0], d)
        if mean_field:
            return check_array(name, arr, min_value=0, max_value=1)
        return check_array(name, arr, binary=True)

    def propagate_up(self, v, layers=None):
        """The hidden probabilities of each layer, propagated up by mean-field.

        P_1 = Q(h_1 = 1 | v) = sigmoid(r_1 + v R_1), then
        P_l = sigmoid(r_l + P_{l-1} R_l), with the recognition weights.

        Args:
            v: visible vectors, binary or in [0, 1], shape (batch, D) or (batch, ...).
            layers: int, how many layers to go up. Defaults to `None`: all.

        Returns:
            A list of `layers` NumPy arrays, shapes (batch, H_1), (batch, H_2), ...
        """
        v = self.check_visible("v", v, mean_field=True)
        layers = self.n_layers if layers is None else check_positive_int("layers", layers, max_value=self.n_layers)
        out = [[] for _ in range(layers)]
        for start in range(0, v.shape[0], _ROWS):
            batch = ops.convert_to_tensor(v[start : start + _ROWS], self.compute_dtype)
            for layer, p in enumerate(self.compute_propagate_up(batch, layers)):
                out[layer].append(ops.convert_to_numpy(p))
        return [np.concatenate(parts, axis=0) for parts in out]

    def check_training_data(self, x, name="x"):
        """Binary training data checked eagerly (`check_visible`)."""
        return self.check_visible(name, x)

    def transform(self, v):
        """The top layer's hidden probabilities (the DBN's features), shape (batch, H_L)."""
        return self.propagate_up(v)[-1]

    def _draw(self, p):
        """h ~ Bernoulli(p) elementwise from the training generator, NumPy in and out."""
        return self.rbms[0].map_batches(lambda t: bernoulli(t, self.seed_generator), p, batch_size=_ROWS)

    def _layer_data(self, x, probabilities, layer, propagate):
        """A fresh binary sample of RBM `layer`'s training data (see `fit`)."""
        if propagate == "probabilities":
            return self._draw(probabilities)
        h = x
        for below in self.rbms[:layer]:
            h = self._draw(below.hidden_probabilities(h))
        return h

    def fit(
        self,
        x,
        epochs=10,
        batch_size=100,
        learning_rate=0.01,
        momentum=0.5,
        verbose="auto",
        propagate="probabilities",
        validation_data=None,
        steps_per_execution=50,
        jit_compile="auto",
        callbacks=None,
        initialize="transpose",
    ):
        """Greedy layer-wise training: each RBM fitted in turn to the data propagated up.

        RBM 0 is fitted to `x`. RBM l > 0 is fitted to binary states of layer
        l, drawn afresh before each of its epochs (a `BernoulliRBM` trains on
        binary data only; one `fit` call per epoch, its history merged):

        - `propagate="probabilities"`: h_l ~ Bernoulli(P_l), P_l the mean-field
          probabilities of `propagate_up` (P_1 = P(h_1 | v), P_l =
          sigmoid(c + P_{l-1} W)); in expectation over the epochs the RBM sees
          the probabilities that Hinton & Salakhutdinov (2006) feed it.
        - `propagate="samples"`: h_1 ~ P(h_1 | v), h_2 ~ P(h_2 | h_1), ...
          sampled layer by layer: samples of the aggregated posterior that
          the greedy bound of Hinton et al. (2006) is about.

        With `initialize="transpose"` (the default), an untrained RBM l whose
        sizes are those of RBM l - 1 reversed (e.g. [784, 500, 784]) starts as
        its transpose (W^T, with the visible and hidden biases swapped), as
        Hinton, Osindero & Teh (2006) start each new layer: the stack then
        defines the same p(v) as the one below, the bound of
        `log_likelihood_bound` starts at the lower stack's (for two layers, at
        the bottom RBM's log-likelihood: its posterior is factorial), and
        fitting the new layer to the aggregated posterior can only raise the
        bound as far as the fit is maximum likelihood. Otherwise (other sizes,
        or `initialize="random"`) the new RBM starts from its random weights.

        Each RBM is compiled here with SGD(learning_rate, momentum) and
        `steps_per_execution`, and its visible bias set to the log-odds of
        its data's means (`initialize_visible_bias`) if it has seen no data
        yet. Any untied recognition weights are tied again (`up_down`).

        Args:
            x: binary training data, shape (N, D) or (N, ...).
            epochs: int, or a list of one int per RBM. Defaults to `10`.
            batch_size: int. Defaults to `100`.
            learning_rate: float > 0, SGD's step. Defaults to `0.01`.
            momentum: float in [0, 1). Defaults to `0.5`.
            verbose: Keras's `verbose` of each RBM's `fit`. Defaults to `"auto"`.
            propagate: `"probabilities"` or `"samples"`, see above.
                Defaults to `"probabilities"`.
            validation_data: binary held-out data, propagated as `x` (one
                draw per layer), for each RBM's `val_` metrics and
                `FreeEnergyGap`. Defaults to `None`.
            steps_per_execution: int, mini-batches per compiled call.
                Defaults to `50`.
            jit_compile: each RBM's `compile` argument (`"auto"`: its
                chunked `fit` compiled by XLA). Defaults to `"auto"`.
            callbacks: Keras callbacks given to every RBM's `fit`. Defaults to `None`.
            initialize: `"transpose"` or `"random"`, how an untrained RBM
                starts, see above. Defaults to `"transpose"`.

        Returns:
            `{rbm.name: keras.callbacks.History}`, one per layer, bottom first.
        """
        x = self.check_visible("x", x)
        epochs = self._per_layer_epochs(epochs)
        batch_size = check_positive_int("batch_size", batch_size)
        learning_rate = check_positive_float("learning_rate", learning_rate)
        momentum = check_positive_float("momentum", momentum, allow_zero=True)
        if momentum >= 1:
            raise ValueError(f"`momentum` must be in [0, 1). Received: momentum={momentum!r}")
        check_choice("propagate", propagate, {"probabilities", "samples"})
        check_choice("initialize", initialize, {"transpose", "random"})
        steps_per_execution = check_positive_int("steps_per_execution", steps_per_execution)
        if not (isinstance(jit_compile, bool) or jit_compile == "auto"):
            raise ValueError(f'`jit_compile` must be True, False or "auto". Received: jit_compile={jit_compile!r}')
        if validation_data is not None:
            validation_data = self.check_visible("validation_data", validation_data)
        self.untied.assign(0.0)
        fit_args = {"batch_size": batch_size, "verbose": verbose, "callbacks": callbacks}
        histories = {}
        for layer, rbm in enumerate(self.rbms):
            rbm.compile(
                optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
                steps_per_execution=steps_per_execution,
                jit_compile=jit_compile,
            )
            fresh = float(ops.convert_to_numpy(rbm.data_count)) == 0
            if epochs[layer] == 0:
                continue
            if layer == 0:
                if fresh:
                    rbm.initialize_visible_bias(x)
                histories[rbm.name] = rbm.fit(x, epochs=epochs[0], validation_data=validation_data, **fit_args)
                continue
            probabilities = val = None
            if propagate == "probabilities":
                probabilities = self.propagate_up(x, layers=layer)[-1]
            if validation_data is not None:
                val_p = self.propagate_up(validation_data, layers=layer)[-1] if propagate == "probabilities" else None
                val = self._layer_data(validation_data, val_p, layer, propagate)
            history = keras.callbacks.History()
            history.epoch = []
            below = self.rbms[layer - 1]
            transpose = fresh and initialize == "transpose" and (rbm.n_visible, rbm.n_hidden) == (
                below.n_hidden,
                below.n_visible,
            )
            if transpose:
                self.initialize_as_transpose(layer)
            for epoch in range(epochs[layer]):
                data = self._layer_data(x, probabilities, layer, propagate)
                if fresh and epoch == 0 and not transpose:
                    rbm.initialize_visible_bias(data)
                one = rbm.fit(data, epochs=epoch + 1, initial_epoch=epoch, validation_data=val, **fit_args)
                history.epoch.extend(one.epoch)
                for key, values in one.history.items():
                    history.history.setdefault(key, []).extend(values)
                history.params = dict(one.params, epochs=epochs[layer])
            history.set_model(rbm)
            histories[rbm.name] = history
        return histories

    def initialize_as_transpose(self, layer):
        """Start RBM `layer` as the transpose of RBM `layer - 1`: W^T, visible bias c, hidden bias b.

        Its sizes must be those of the RBM below reversed. The stack then
        defines the same p(v) as without the new layer (Hinton, Osindero &
        Teh 2006, section 4); the centring offset (if any) takes the data
        mean of the RBM below, the mean of the new RBM's hidden units.
        """
        rbm, below = self.rbms[layer], self.rbms[layer - 1]
        if (rbm.n_visible, rbm.n_hidden) != (below.n_hidden, below.n_visible):
            raise ValueError(
                f"Expected RBM {layer} to have the sizes of RBM {layer - 1} reversed, "
                f"({below.n_hidden}, {below.n_visible}). Received: ({rbm.n_visible}, {rbm.n_hidden})"
            )
        rbm.kernel.assign(ops.transpose(ops.convert_to_tensor(below.kernel)))
        rbm.visible_bias.assign(ops.convert_to_tensor(below.hidden_bias))
        rbm.hidden_bias.assign(ops.convert_to_tensor(below.visible_bias))
        if rbm.centering and below.centering:
            rbm.hidden_offset.assign(ops.convert_to_tensor(below.data_mean))

    def _per_layer_epochs(self, epochs):
        if isinstance(epochs, (list, tuple)):
            if len(epochs) != self.n_layers:
                raise ValueError(
                    f"`epochs` must be an int or a list of {self.n_layers} ints (one per RBM). "
                    f"Received: epochs={epochs!r}"
                )
            # 0 leaves a layer as it is (e.g. one copied by `from_rbms`).
            return [_check_epochs(f"epochs[{i}]", e) for i, e in enumerate(epochs)]
        return [check_positive_int("epochs", epochs)] * self.n_layers

    # ------------------------------------------------------------- sampling
    def sample(self, n, seed=None, *, steps=1000):
        """Draw `n` samples: block Gibbs in the top RBM, then one pass down.

        `steps` sweeps of the top RBM (`BernoulliRBM.sample`) give
        h_{L-1}; then h_{l-1} ~ p(h_{l-1} | h_l) down to h_1, and the visible
        means P(v = 1 | h_1) = sigmoid(b_1 + W_1 h_1) are returned (the
        generative weights). A 1-layer DBN returns its RBM's samples.

        Args:
            n: int, number of samples.
            seed: int for reproducible draws. Defaults to `None`: the RBMs'
                own sampling streams (saved with the model).
            steps: int, sweeps of the top RBM. Defaults to `1000`.

        Returns:
            float32 NumPy array of shape (n, D), values in [0, 1].
        """
        n = check_positive_int("n", n, max_value=2**31 - 1)
        steps = check_positive_int("steps", steps)
        seed = check_seed("seed", seed)
        top = self.rbms[-1]
        if self.n_layers == 1:
            return top.sample(n, seed=seed, steps=steps, return_means=True).astype("float32")
        h = top.sample(n, seed=seed, steps=steps, return_means=False)
        for layer in range(self.n_layers - 2, 0, -1):
            # Each RBM has its own generator; offset seeds keep their streams apart.
            h = self.rbms[layer].sample_visible(h, seed=None if seed is None else (seed + layer) % 2**62)
        return self.rbms[0].visible_mean(h).astype("float32")

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

    # ------------------------------------------------------------ classifier
    def to_classifier(self, n_classes, activation="sigmoid", dropout=0.0, input_shape=None):
        """A new, uncompiled `keras.Sequential` classifier initialised from the DBN.

        Flatten, then one Dense layer per RBM with kernel R_l and bias r_l
        (the recognition weights: the RBMs' W and c unless `up_down` untied
        them), then a softmax Dense(n_classes). With `activation="sigmoid"`
        and before training, its hidden layers compute `propagate_up` exactly.

        Args:
            n_classes: int >= 2, number of classes.
            activation: activation of the hidden Dense layers. Defaults to `"sigmoid"`.
            dropout: float in [0, 1), dropout rate after each hidden layer.
                Defaults to `0.0` (none).
            input_shape: the shape of one input, e.g. `(28, 28, 1)`, whose
                size must be D. Defaults to `None`: `(D,)`.

        Returns:
            A `keras.Sequential`; compile it and `fit` it on (x, labels).
        """
        if check_positive_int("n_classes", n_classes) < 2:
            raise ValueError(f"`n_classes` must be an int >= 2. Received: n_classes={n_classes!r}")
        keras.activations.get(activation)  # a ValueError for an unknown activation
        dropout = check_positive_float("dropout", dropout, allow_zero=True)
        if dropout >= 1:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")
        d = self.layer_sizes[0]
        input_shape = (d,) if input_shape is None else input_shape
        valid = isinstance(input_shape, (tuple, list)) and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in input_shape
        )
        if not valid or math.prod(input_shape) != d:
            raise ValueError(
                f"`input_shape` must be a shape of {d} features. Received: input_shape={input_shape!r}"
            )
        input_shape = tuple(int(s) for s in input_shape)
        seed = self.seed
        layers, hidden = [keras.Input(shape=input_shape), keras.layers.Flatten()], []
        for layer in range(self.n_layers):
            dense = keras.layers.Dense(self.layer_sizes[layer + 1], activation=activation, name=f"hidden_{layer + 1}")
            layers.append(dense)
            hidden.append(dense)
            if dropout:
                layers.append(keras.layers.Dropout(dropout, seed=None if seed is None else seed + 2 + layer))
        layers.append(
            keras.layers.Dense(
                n_classes,
                activation="softmax",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                name="classes",
            )
        )
        model = keras.Sequential(layers, name=f"{self.name}_classifier")
        for layer, dense in enumerate(hidden):
            dense.set_weights([ops.convert_to_numpy(w) for w in self.recognition_weights(layer)])
        return model

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
