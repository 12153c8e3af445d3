"""The variational autoencoder of the lecture, as a `keras.Model`."""

import copy
import math

import keras
import numpy as np
from keras import ops

from keras_genmodels import _validation as v
from keras_genmodels import distribute
from keras_genmodels.generative_model import GenerativeModel
from keras_genmodels.vae import losses
from keras_genmodels.vae.layers import Sampling
from keras_genmodels.vae.networks import ARCHITECTURES, build_networks

LIKELIHOODS = ("bernoulli", "gaussian")

# log σ² of Q(h|x) is clipped to this range: σ from e^-15 ≈ 3e-7 to e^10 ≈ 2e4,
# so that exp(log σ²) in the KL and in the reparameterisation neither
# overflows float32 (e^89) nor vanishes, whatever an untrained encoder outputs.
LOG_VAR_RANGE = (-30.0, 20.0)
# The largest latent or hidden layer accepted (sizes beyond it are typos that
# would otherwise ask TensorFlow for absurd amounts of memory).
MAX_UNITS = 2**20


@keras.saving.register_keras_serializable(package="keras_genmodels")
class VAE(GenerativeModel):
    """Variational autoencoder trained by maximising the evidence lower bound.

    The encoder gives Q(h|x) = N(μ(x), diag σ²(x)); a latent is drawn with the
    reparameterisation h = μ + σ ⊙ ε (`Sampling`); the decoder gives p(x|h).
    Training minimises, averaged over the batch,

        loss = −E_Q[log p(x|h)] + β · KL(Q(h|x) || N(0, I))
             = reconstruction_loss + β · kl_loss,

    which for β = 1 is the negative ELBO in nats. The KL term is the closed
    form −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²). The encoder's log σ² is clipped
    to [−30, 20] (`LOG_VAR_RANGE`) so that σ² = exp(log σ²) stays finite.

    Under a `tf.distribute` strategy (build and compile inside
    `strategy.scope()`), each replica's loss is its examples' summed loss over
    the global batch size, so the all-reduced gradient is that of the global
    batch's mean; the metrics are means over the global batch, and each
    replica draws its own noise ε.

    Likelihoods:
    - `"bernoulli"`: p(x|h) = Π_i Bernoulli(x_i | sigmoid(l_i(h))), computed from
      the decoder's logits; inputs must lie in [0, 1]. On grey levels this is
      the binary cross-entropy of the keras.io example.
    - `"gaussian"`: p(x|h) = N(x | f(h), σ² I) with σ² = `sigma2` fixed.

    Args:
        encoder: a `keras.Model` from x to `[z_mean, z_log_var]`, or `None` to
            build one from `architecture`. Defaults to `None`.
        decoder: a `keras.Model` from h to the likelihood's parameters (logits
            or mean) with the data's shape, or `None`. Defaults to `None`.
        data_shape: shape of one example, used when the networks are built.
            Defaults to `(28, 28, 1)`.
        latent_dim: dimension of h, used when the networks are built.
            Defaults to `2`, as in the keras.io example.
        architecture: `"conv"` (the keras.io convolutional pair) or `"mlp"`
            (the lecture's MLP). Defaults to `"conv"`.
        hidden_units: widths of the MLP's hidden layers. Defaults to `(512, 256)`.
        likelihood: `"bernoulli"` or `"gaussian"`. Defaults to `"bernoulli"`.
        sigma2: the Gaussian likelihood's fixed variance σ² > 0. Defaults to `1.0`.
        beta: weight β ≥ 0 of the KL term (β-VAE). Defaults to `1.0`.
        seed: int or `None`; seeds the reparameterisation noise and `sample`.
            Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: a batch x of shape `(batch,) + data_shape`.

    `call` returns the reconstruction E[x | h = μ(x)], deterministic.

    Example:

    >>> vae = VAE(latent_dim=2)                    # the keras.io conv VAE
    >>> vae.compile(optimizer=keras.optimizers.Adam())
    >>> vae.fit(x_train, epochs=30, batch_size=128)
    >>> mean, log_var = vae.encode(x_test[:10])
    >>> images = vae.sample(16, seed=0)

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", arXiv:1312.6114.
        Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
        arXiv:1509.00519.
    """

    def __init__(
        self,
        encoder=None,
        decoder=None,
        *,
        data_shape=(28, 28, 1),
        latent_dim=2,
        architecture="conv",
        hidden_units=(512, 256),
        likelihood="bernoulli",
        sigma2=1.0,
        beta=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        v.check_choice("likelihood", likelihood, LIKELIHOODS)
        v.check_choice("architecture", architecture, ARCHITECTURES + ("custom",))
        self.sigma2 = v.check_positive_float("sigma2", sigma2)
        self.beta = v.check_positive_float("beta", beta, allow_zero=True)
        seed = v.check_seed("seed", seed)
        if (encoder is None) != (decoder is None):
            raise ValueError(
                "Pass both `encoder` and `decoder`, or neither. Received: "
                f"encoder={type(encoder).__name__}, decoder={type(decoder).__name__}"
            )
        if encoder is None:
            latent_dim = v.check_positive_int("latent_dim", latent_dim, max_value=MAX_UNITS)
            data_shape = _check_data_shape(data_shape)
            hidden_units = _check_hidden_units(hidden_units)
            encoder, decoder = build_networks(architecture, data_shape, latent_dim, hidden_units)
        self.encoder = encoder
        self.decoder = decoder
        self.data_shape, self.latent_dim = _check_networks(encoder, decoder)
        self.architecture = architecture
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.likelihood = likelihood
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.sample_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        self.built = True  # the encoder and decoder are built at creation

    # ----------------------------------------------------------------- Keras
    def build(self, input_shape=None):
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, inputs, training=False):
        z_mean, _ = self.encoder(inputs, training=training)
        return self._likelihood_mean(self.decoder(z_mean, training=training))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "data_shape": list(self.data_shape),
                "latent_dim": self.latent_dim,
                "architecture": self.architecture,
                "hidden_units": list(self.hidden_units),
                "likelihood": self.likelihood,
                "sigma2": self.sigma2,
                "beta": self.beta,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # deserialisation consumes nested dicts
        for key in ("encoder", "decoder", "data_shape", "hidden_units"):
            if key not in config:
                raise ValueError(
                    f"A VAE config must have the key `{key}`. Received keys: {sorted(config)}"
                )
        for key in ("encoder", "decoder"):
            if config[key] is not None:
                if not isinstance(config[key], dict):
                    raise ValueError(
                        f"`{key}` in a VAE config must be a serialized keras.Model. "
                        f"Received: {key}={config[key]!r}"
                    )
                config[key] = keras.saving.deserialize_keras_object(config[key])
        config["data_shape"] = _check_data_shape(config["data_shape"])
        config["hidden_units"] = _check_hidden_units(config["hidden_units"])
        return cls(**config)

    # ------------------------------------------------------------ the math
    def _likelihood_mean(self, params):
        """E[x|h] from the decoder's output: sigmoid(logits) or the Gaussian mean."""
        if self.likelihood == "bernoulli":
            return ops.sigmoid(params)
        return params

    def _posterior(self, x, training=False):
        """(μ, log σ²) of Q(h|x) in float32, log σ² clipped to `LOG_VAR_RANGE`."""
        z_mean, z_log_var = self.encoder(x, training=training)
        z_log_var = ops.clip(ops.cast(z_log_var, "float32"), *LOG_VAR_RANGE)
        return ops.cast(z_mean, "float32"), z_log_var

    def log_likelihood(self, x, params):
        """log p(x|h) per example, from the decoder's output `params`."""
        params = ops.cast(params, "float32")
        if self.likelihood == "bernoulli":
            return losses.bernoulli_log_likelihood(x, params)
        return losses.gaussian_log_likelihood(x, params, self.sigma2)

    def compute_elbo_terms(self, x, training=False):
        """One-sample estimates of the ELBO's terms, per example.

            reconstruction_loss = −log p(x|h),  h = μ + σ ⊙ ε
            kl_loss             = KL(Q(h|x) || N(0, I))   (closed form)
            loss                = reconstruction_loss + β · kl_loss

        Args:
            x: batch of shape `(batch,) + data_shape`, float32.
            training: passed to the networks.

        Returns:
            A dict of `(batch,)` tensors: `loss`, `reconstruction_loss`, `kl_loss`.
        """
        z_mean, z_log_var = self._posterior(x, training=training)
        h = self.sampling([z_mean, z_log_var])
        reconstruction_loss = -self.log_likelihood(x, self.decoder(h, training=training))
        kl_loss = losses.kl_standard_normal(z_mean, z_log_var)
        return {
            "loss": reconstruction_loss + self.beta * kl_loss,
            "reconstruction_loss": reconstruction_loss,
            "kl_loss": kl_loss,
        }

    def _update_trackers(self, terms):
        self.loss_tracker.update_state(terms["loss"])
        self.reconstruction_loss_tracker.update_state(terms["reconstruction_loss"])
        self.kl_loss_tracker.update_state(terms["kl_loss"])
        return distribute.step_outputs({m.name: m.result() for m in self.metrics})

    # ------------------------------------------- TensorFlow training steps
    def _prepare_batch(self, data):
        """Take x from `data`, check its shape (at trace time) and values."""
        import tensorflow as tf

        x = data[0] if isinstance(data, (tuple, list)) else data
        feature_shape = tuple(x.shape[1:])
        if feature_shape != self.data_shape:
            raise ValueError(
                f"{type(self).__name__} expects batches of shape "
                f"(batch, {', '.join(map(str, self.data_shape))}). "
                f"Received: shape={tuple(x.shape)}"
            )
        x = tf.cast(x, "float32")
        tf.debugging.assert_all_finite(
            x, f"{type(self).__name__} expects finite inputs. Received a batch with NaN or Inf."
        )
        if self.likelihood == "bernoulli":
            lo, hi = tf.reduce_min(x), tf.reduce_max(x)
            tf.debugging.Assert(
                tf.logical_and(lo >= 0.0, hi <= 1.0),
                [
                    "A Bernoulli VAE expects inputs in [0, 1] (divide 0..255 pixels "
                    "by 255). Received a batch with min and max:",
                    lo,
                    hi,
                ],
            )
        return x

    def check_training_data(self, x, name="x"):
        """Training data checked eagerly (NumPy arrays, and a dataset's first batch).

        Real numbers, not empty, of shape (batch,) + `data_shape`, finite, and
        in [0, 1] for a Bernoulli likelihood: the `ValueError`s `encode`
        gives. The step checks every batch again in the graph.
        """
        x = v.check_array(name, x, check_finite=False)
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"{type(self).__name__} expects batches of shape "
                f"(batch, {', '.join(map(str, self.data_shape))}). Received: shape={x.shape}"
            )
        bernoulli = self.likelihood == "bernoulli"
        return v.check_array(name, x, min_value=0.0 if bernoulli else None, max_value=1.0 if bernoulli else None)

    def data_seed_generator(self):
        """The reparameterisation noise's generator: its state seeds the order of NumPy data in `fit`."""
        return self.sampling.seed_generator

    def reseed(self, seed):
        """Restart the model's random streams as if it had been built with `seed`.

        The reparameterisation noise (`Sampling`, which the ELBO and the
        importance-weighted bound draw from) restarts at the seed pair
        [seed, 0] and `sample`'s stream at [seed + 1, 0], so that an
        evaluation is reproducible.
        """
        seed = v.check_seed("seed", seed, allow_none=False)
        for generator, value in ((self.sampling.seed_generator, seed), (self.sample_seed_generator, seed + 1)):
            generator.state.assign(ops.convert_to_tensor([value, 0], dtype=generator.state.dtype))

    def train_step(self, data):
        """One gradient step on the ELBO loss; returns the metrics.

        On R replicas with shards of n_r examples (N = Σ_r n_r), replica r
        differentiates L_r = Σ_{i ∈ r} loss_i / N (+ the layers' penalties / R);
        the optimizer sums the replicas' gradients, which gives the gradient of
        the global batch's mean loss, as on one device.
        """
        import tensorflow as tf

        x = self._prepare_batch(data)
        global_batch = distribute.global_batch_size(tf.shape(x)[0])
        with tf.GradientTape() as tape:
            terms = self.compute_elbo_terms(x, training=True)
            loss = tf.reduce_sum(terms["loss"]) / global_batch
            if self.losses:
                loss = loss + distribute.scale_loss_for_distribution(tf.add_n(self.losses))
            loss = self.optimizer.scale_loss(loss)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._update_trackers(terms)

    def test_step(self, data):
        x = self._prepare_batch(data)
        return self._update_trackers(self.compute_elbo_terms(x, training=False))

    # --------------------------------------------------- user-facing methods
    def _check_input(self, x):
        if isinstance(x, (np.ndarray, list, tuple)):
            v.check_array(
                "x",
                x,
                feature_shape=self.data_shape,
                min_value=0.0 if self.likelihood == "bernoulli" else None,
                max_value=1.0 if self.likelihood == "bernoulli" else None,
            )
        return ops.cast(ops.convert_to_tensor(x), "float32")

    def encode(self, x):
        """Parameters of Q(h|x): returns `(z_mean, z_log_var)`, each `(batch, latent_dim)`.

        `z_log_var` is clipped to `LOG_VAR_RANGE`, as in training.
        """
        return self._posterior(self._check_input(x), training=False)

    def decode(self, h):
        """Mean of p(x|h), E[x|h], for latents `h` of shape `(batch, latent_dim)`."""
        if isinstance(h, (np.ndarray, list, tuple)):
            v.check_array("h", h, feature_shape=(self.latent_dim,))
        h = ops.cast(ops.convert_to_tensor(h), "float32")
        return ops.cast(self._likelihood_mean(self.decoder(h, training=False)), "float32")

    def reconstruct(self, x, sample=False):
        """Decode the encoding of `x`: at h = μ(x), or at a draw from Q(h|x)."""
        z_mean, z_log_var = self.encode(x)
        h = self.sampling([z_mean, z_log_var]) if sample else z_mean
        return self.decode(h)

    def sample(self, n, seed=None):
        """Draw `n` samples: h ~ N(0, I), returns E[x|h] of shape `(n,) + data_shape`.

        Args:
            n: number of samples, a positive int.
            seed: int for reproducible samples, or `None` to use the model's
                own seed generator. Defaults to `None`.
        """
        n = v.check_positive_int("n", n, max_value=2**31 - 1)
        h = keras.random.normal(
            (n, self.latent_dim),
            seed=self.sample_seed_generator if seed is None else seed,
        )
        return self.decode(h)


def _check_hidden_units(hidden_units):
    """`hidden_units` as a tuple of positive ints (each at most `MAX_UNITS`)."""
    if isinstance(hidden_units, (str, bytes, dict)) or not hasattr(hidden_units, "__iter__"):
        raise ValueError(
            "`hidden_units` must be a sequence of positive ints. "
            f"Received: hidden_units={hidden_units!r}"
        )
    return tuple(
        v.check_positive_int("hidden_units[i]", u, max_value=MAX_UNITS) for u in hidden_units
    )


def _check_data_shape(data_shape):
    try:
        shape = tuple(int(d) for d in data_shape)
        if isinstance(data_shape, (str, bytes)) or any(
            isinstance(d, bool) or int(d) != d for d in data_shape
        ):
            shape = None
    except (TypeError, ValueError, OverflowError):
        shape = None
    if not shape or any(d < 1 for d in shape):
        raise ValueError(
            "`data_shape` must be a non-empty tuple of positive ints. "
            f"Received: data_shape={data_shape!r}"
        )
    return shape


def _check_networks(encoder, decoder):
    """Return `(data_shape, latent_dim)` implied by a consistent encoder/decoder pair."""
    for name, net in (("encoder", encoder), ("decoder", decoder)):
        if not isinstance(net, keras.Model) or not getattr(net, "inputs", None):
            raise ValueError(
                f"`{name}` must be a built keras.Model with known inputs "
                f"(functional or Sequential). Received: {type(net).__name__}"
            )
    if len(encoder.outputs) != 2:
        raise ValueError(
            "`encoder` must have two outputs [z_mean, z_log_var]. "
            f"Received an encoder with {len(encoder.outputs)} output(s)."
        )
    data_shape = tuple(encoder.inputs[0].shape[1:])
    mean_shape, log_var_shape = (tuple(t.shape[1:]) for t in encoder.outputs)
    if len(mean_shape) != 1 or mean_shape != log_var_shape:
        raise ValueError(
            "`encoder` outputs must both have shape (batch, latent_dim). "
            f"Received: {mean_shape} and {log_var_shape}"
        )
    latent_dim = mean_shape[0]
    decoder_in = tuple(decoder.inputs[0].shape[1:])
    decoder_out = tuple(decoder.outputs[0].shape[1:])
    if decoder_in != (latent_dim,):
        raise ValueError(
            f"`decoder` must take inputs of shape (batch, {latent_dim}) to match the "
            f"encoder. Received: {decoder_in}"
        )
    if decoder_out != data_shape:
        raise ValueError(
            f"`decoder` must output the data shape {data_shape}. Received: {decoder_out}"
        )
    if math.prod(data_shape) < 1:  # pragma: no cover - guarded by Keras
        raise ValueError(f"Empty data shape. Received: {data_shape}")
    return data_shape, latent_dim
