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

The class is assembled from this module (the stack, greedy `fit`, sampling,
the classifier), `wake_sleep` (`up_down`) and `deep_belief_bound`
(`log_likelihood_bound`).
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

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
from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM
from keras_genmodels.rbm.bounds import (  # noqa: F401  (public here too)
    LikelihoodBound,
    bernoulli_entropy,
    bernoulli_log_likelihood,
)
from keras_genmodels.rbm.deep_belief_bound import (  # noqa: F401  (public here too)
    _ROWS,
    EXACT_MAX_UNITS,
    DeepBeliefBound,
    negative_free_energy,
)
from keras_genmodels.rbm.rbm_base import MAX_WEIGHTS
from keras_genmodels.rbm.wake_sleep import UpDown
from keras_genmodels.sampling.backend import bernoulli
from keras_genmodels.training import StageBackup

# RBM i is seeded with seed + RBM_SEED_STRIDE * (i + 1) (the DBN uses seed and seed + 1).
RBM_SEED_STRIDE = 1000


# ----------------------------------------------------------------- the math
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


def _history(rbm, logs):
    """A `keras.callbacks.History` of `rbm` holding `{metric: [value per epoch]}`."""
    history = keras.callbacks.History()
    history.history = {key: list(values) for key, values in logs.items()}
    history.epoch = list(range(max((len(v) for v in logs.values()), default=0)))
    history.set_model(rbm)
    return history


@keras.saving.register_keras_serializable(package="keras_genmodels")
class DeepBeliefNetwork(DeepBeliefBound, UpDown, GenerativeModel):
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
        # The persistent chains of each RBM hold n_chains x n_hidden states: as many as weights at most.
        self.n_chains = check_positive_int("n_chains", n_chains, max_value=MAX_WEIGHTS // max(self.layer_sizes))
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
        backup_dir=None,
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
            backup_dir: folder where the stack is backed up, atomically, each
                time an RBM is trained (`training.StageBackup`), or `None`.
                A `fit` with a backup there starts from it and trains the
                RBMs after it only: a killed run loses at most the RBM in
                progress. Defaults to `None`.

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
        backup = None if backup_dir is None else StageBackup(backup_dir)
        done, saved = (0, {}) if backup is None else backup.restore(self)
        histories = {}
        for layer, rbm in enumerate(self.rbms):
            rbm.compile(
                optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
                steps_per_execution=steps_per_execution,
                jit_compile=jit_compile,
            )
            fresh = float(ops.convert_to_numpy(rbm.data_count)) == 0
            if layer < done:  # trained before the restart
                if rbm.name in saved:
                    histories[rbm.name] = _history(rbm, saved[rbm.name])
                continue
            if epochs[layer] == 0:
                continue
            histories[rbm.name] = self._fit_layer(
                layer, x, validation_data, epochs[layer], propagate, initialize, fresh, fit_args
            )
            if backup is not None:
                backup.commit(self, layer + 1, {name: h.history for name, h in histories.items()})
        return histories

    def _fit_layer(self, layer, x, validation_data, epochs, propagate, initialize, fresh, fit_args):
        """Fit RBM `layer` (compiled) as `fit` says; returns its `keras.callbacks.History`."""
        rbm = self.rbms[layer]
        if layer == 0:
            if fresh:
                rbm.initialize_visible_bias(x)
            return rbm.fit(x, epochs=epochs, validation_data=validation_data, **fit_args)
        probabilities = val = None
        if propagate == "probabilities":
            probabilities = self.propagate_up(x, layers=layer)[-1]
        if validation_data is not None:
            val_p = self.propagate_up(validation_data, layers=layer)[-1] if propagate == "probabilities" else None
            val = self._layer_data(validation_data, val_p, layer, propagate)
        below = self.rbms[layer - 1]
        transpose = fresh and initialize == "transpose" and (rbm.n_visible, rbm.n_hidden) == (
            below.n_hidden,
            below.n_visible,
        )
        if transpose:
            self.initialize_as_transpose(layer)
        history = _history(rbm, {})
        for epoch in range(epochs):
            data = self._layer_data(x, probabilities, layer, propagate)
            if fresh and epoch == 0 and not transpose:
                rbm.initialize_visible_bias(data)
            one = rbm.fit(data, epochs=epoch + 1, initial_epoch=epoch, validation_data=val, **fit_args)
            history.epoch.extend(one.epoch)
            for key, values in one.history.items():
                history.history.setdefault(key, []).extend(values)
            history.params = dict(one.params, epochs=epochs)
        return history

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

