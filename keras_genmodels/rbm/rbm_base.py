"""`RestrictedBoltzmannMachine`: the base class of every RBM of the library.

An RBM with visible units v (D of them) and binary hidden units h (H of them)
has the energy E(v, h) = E_v(v) - c . h - s(v) W h and the free energy

    F(v) = -log sum_h exp(-E(v, h)) = E_v(v) - sum_j softplus(c_j + (s(v) W)_j),

p(v) = exp(-F(v)) / Z, and is trained by the log-likelihood gradient, positive
phase minus negative phase, with the negative phase from block Gibbs chains.
The class is assembled from the parts that change separately, one module each:

- `rbm.energy.RBMEnergy`: energy, free energy and conditionals (`keras.ops`),
  and the interface the subclasses implement;
- `rbm.contrastive.ContrastiveDivergence`: the CD-k / PCD-k step, metrics,
  `compile`;
- `rbm.chunked.ChunkedTraining`: `fit` on NumPy data in compiled chunks of
  mini-batches;
- `rbm.eager.RBMEagerMethods`: the validated, NumPy-returning methods;
- `keras_genmodels.GenerativeModel`: NumPy `fit`, saved random state, `sample`.

This module holds the constructor (the weights), the configuration and what
loading files of earlier releases needs. The subclasses (`BernoulliRBM`,
`GaussianBernoulliRBM`) supply E_v, the visible conditional and the
closed-form gradients.
"""

import math

import keras

from keras_genmodels import distribute
from keras_genmodels._validation import check_bool, check_positive_float, check_positive_int, check_seed
from keras_genmodels.generative_model import GenerativeModel
from keras_genmodels.rbm.chunked import ChunkedTraining
from keras_genmodels.rbm.contrastive import ContrastiveDivergence, PerExampleMeans
from keras_genmodels.rbm.eager import RBMEagerMethods
from keras_genmodels.rbm.energy import RBMEnergy

# The largest number of weights W an RBM may have (TensorFlow's int32 sizes).
MAX_WEIGHTS = 2**31 - 1

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class RestrictedBoltzmannMachine(
    RBMEagerMethods, ChunkedTraining, ContrastiveDivergence, RBMEnergy, GenerativeModel
):
    """Base class of the restricted Boltzmann machines (not used directly).

    Abstract (its energy is left to subclasses), hence not registered for
    serialisation; `BernoulliRBM` and `GaussianBernoulliRBM` are.

    Holds the weights W (`kernel`, shape (n_visible, n_hidden)), the hidden
    biases c, the visible biases b, the running statistics of the training
    data, and PCD's persistent chains; see the module docstring for where the
    step, the samplers and the partition function live.

    Args:
        n_visible: int, number of visible units D. Inputs of any shape whose
            feature dimensions multiply to D (e.g. (batch, 28, 28, 1) for
            D = 784) are flattened.
        n_hidden: int, number of binary hidden units H.
        k: int, number of block Gibbs steps per update (CD-k / PCD-k).
            Defaults to `1`.
        persistent: bool, whether the negative phase uses persistent chains
            (PCD, Tieleman 2008) instead of chains started at the data (CD).
            Defaults to `False`.
        n_chains: int, number of persistent fantasy particles (PCD only).
            Defaults to `100`.
        weight_decay: float >= 0, L2 penalty: `weight_decay * W` is subtracted
            from the log-likelihood gradient of W. Defaults to `0.0`.
        seed: int or `None`, seed of the weight initialiser and of every random
            draw of training and sampling. Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`, ...).
    """

    # Release 0.1.0 saved the two generators' states under these names.
    seed_state_aliases = {"seed_state": "seed_state_0", "sampling_seed_state": "seed_state_1"}
    # `compile`'s jit_compile as requested ("auto", True or False).
    jit_request = "auto"
    # Rows per mini-batch while a chunked `fit` runs (`rbm.chunked`), else None.
    minibatch_size = None

    def __init__(
        self,
        n_visible,
        n_hidden,
        k=1,
        persistent=False,
        n_chains=100,
        weight_decay=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_visible = check_positive_int("n_visible", n_visible, max_value=MAX_WEIGHTS)
        self.n_hidden = check_positive_int("n_hidden", n_hidden, max_value=MAX_WEIGHTS)
        if self.n_visible * self.n_hidden > MAX_WEIGHTS:
            raise ValueError(
                f"`n_visible * n_hidden` must be at most {MAX_WEIGHTS} weights. "
                f"Received: n_visible={n_visible}, n_hidden={n_hidden}"
            )
        self.k = check_positive_int("k", k)
        self.persistent = check_bool("persistent", persistent)
        self.n_chains = check_positive_int("n_chains", n_chains)
        self.weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
        self.seed = check_seed("seed", seed)
        # Training's generator: under a tf.distribute strategy each replica
        # folds its id into the seed, so replicas draw independent samples.
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        # Public samplers reseed this one when given `seed=`, so that a
        # seeded call is reproducible without retracing the compiled loop.
        self.sampling_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)

        self.kernel = self.add_weight(
            shape=(self.n_visible, self.n_hidden),
            initializer=keras.initializers.RandomNormal(stddev=0.01, seed=seed),
            name="kernel",
        )
        self.visible_bias = self.add_weight(shape=(self.n_visible,), initializer="zeros", name="visible_bias")
        self.hidden_bias = self.add_weight(shape=(self.n_hidden,), initializer="zeros", name="hidden_bias")
        self.build_visible_weights()
        # Running mean of the training data (exact over everything seen by
        # `fit`): the base-rate model of AIS and the centring offset.
        self.data_mean = self.add_weight(
            shape=(self.n_visible,), initializer="zeros", trainable=False, name="data_mean"
        )
        self.data_count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="data_count")
        if self.persistent:
            # PCD's fantasy particles, stored as their binary hidden states
            # (n_chains, n_hidden): one matmul per step cheaper than storing v.
            self.persistent_hidden = self.add_weight(
                shape=(self.n_chains, self.n_hidden),
                initializer="zeros",
                trainable=False,
                name="persistent_hidden",
            )
        self.built = True
        self.metric_tracker = PerExampleMeans(self.metric_names, name="rbm_metrics")

    def data_seed_generator(self):
        """Training's generator: its state seeds the order of NumPy data in `fit`."""
        return self.seed_generator

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_visible": self.n_visible,
                "n_hidden": self.n_hidden,
                "k": self.k,
                "persistent": self.persistent,
                "n_chains": self.n_chains,
                "weight_decay": self.weight_decay,
                "seed": self.seed,
            }
        )
        return config
