"""`DiffusionModel`: a denoising diffusion probabilistic model trained by `fit` (Ho et al. 2020).

Forward process, fixed, with the schedule β_1..β_T (`schedules`), α_t = 1 − β_t
and ᾱ_t = Π_{s≤t} α_s:

    q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I),   q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)

Training (L_simple, Ho et al. eq. 14): for x_0 from the data, t ~ U{1..T} and
ε ~ N(0, I) per example,

    x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,   ℓ = ‖ε − ε_θ(x_t, t)‖² / D

(`loss="mse"`; `"mae"` takes ‖ε − ε_θ‖₁ / D, as keras-io's DDIM), D the
number of features. The network ε_θ sees t as τ = t / T ∈ (0, 1].

Reverse process: p(x_T) = N(0, I) and p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I) with

    μ_θ(x_t, t) = (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t,
    σ_t² = β_t for t ≥ 2 (Ho et al.'s "fixedlarge"),   σ_1² = β̃_2

where β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) β_t is the posterior's variance; σ_1
serves only the decoder (sampling adds no noise at t = 1), and β̃_2 is the
value Ho et al.'s code gives it ("fixedlarge"; Nichol & Dhariwal: "to get a
better decoder log likelihood"). `sample` runs this chain (`method="ddpm"`)
or the deterministic-to-stochastic DDIM over fewer steps (`method="ddim"`).

Variational bound (Ho et al. eq. 5), per example, in nats:

    −log p_θ(x_0) ≤ L_T + Σ_{t=2}^{T} L_{t−1} + L_0,
    L_T = KL(q(x_T | x_0) ‖ N(0, I)),
    L_{t−1} = KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)),   x_t ~ q(x_t | x_0),
    L_0 = −log p_θ(x_0 | x_1),   x_1 ~ q(x_1 | x_0),

every KL between Gaussians in closed form (`process.normal_kl`). The decoder
p_θ(x_0 | x_1) discretises N(μ_θ(x_1, 1), σ_1²) into the data's values:

- `data="grey"`: 256 bins of 8-bit pixels scaled to [−1, 1], x = 2k/255 − 1
  (Ho et al. eq. 13, `process.discretized_gaussian_log_likelihood`);
- `data="binary"` (pixels b ∈ {0, 1}, which the model sees as x = 2b − 1) and
  `data="spins"` (x = ±1): two bins split at 0, the Gaussian mass above and below,
  P(x = +1 | x_1) = Φ(μ_θ(x_1, 1) / σ_1),   P(x = −1 | x_1) = Φ(−μ_θ(x_1, 1) / σ_1).

References:
    Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models",
    arXiv 2006.11239. Song, Meng & Ermon 2021, "Denoising Diffusion Implicit
    Models", arXiv 2010.02502. Nichol & Dhariwal 2021, "Improved Denoising
    Diffusion Probabilistic Models", arXiv 2102.09672. keras-io
    `examples/generative/ddim.py` (A. Béres, 2022): the EMA network, AdamW.
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_genmodels import _validation as v
from keras_genmodels import distribute
from keras_genmodels.diffusion import networks, process, schedules
from keras_genmodels.generative_model import GenerativeModel
from keras_genmodels.sampling import backend

SCHEDULES = ("linear", "cosine")
DATA_KINDS = ("grey", "binary", "spins")
LOSSES = ("mse", "mae")
METHODS = ("ddpm", "ddim")
# The largest example accepted (features): larger shapes are typos.
MAX_FEATURES = 2**24
# Ho et al.'s floor on a decoder bin's probability (as in `process`): log 1e-12 ≈ −27.6 nats.
_MIN_PROBABILITY = 1e-12


def _check_data_shape(data_shape):
    try:
        shape = tuple(data_shape)
        ok = len(shape) >= 1 and all(
            isinstance(d, numbers.Integral) and not isinstance(d, (bool, np.bool_)) and d >= 1 for d in shape
        ) and math.prod(int(d) for d in shape) <= MAX_FEATURES
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(
            f"`data_shape` must be the shape of one example, a tuple of positive ints (at most {MAX_FEATURES} "
            f"features), e.g. (28, 28, 1). Received: data_shape={data_shape!r}"
        )
    return tuple(int(d) for d in shape)


def _check_decay(ema_decay):
    try:
        ok = (isinstance(ema_decay, numbers.Real) and not isinstance(ema_decay, (bool, np.bool_))
              and 0.0 <= float(ema_decay) < 1.0)
    except OverflowError:
        ok = False
    if not ok:
        raise ValueError(f"`ema_decay` must be a float in [0, 1). Received: ema_decay={ema_decay!r}")
    return float(ema_decay)


def binary_decoder_log_likelihood(x, means, log_scales):
    """log P(x) of ±1 data under N(μ, σ²) discretised into the two bins split at 0, elementwise.

        P(+1) = Φ(μ / σ),   P(−1) = 1 − Φ(μ / σ) = Φ(−μ / σ)

    the decoder of binary and spin data (Ho et al.'s 256-bin decoder with two
    bins, (−∞, 0] and (0, ∞)). Φ(z) = ½ (1 + erf(z/√2)) is evaluated in
    float64 and each probability floored at 1e-12 before the log, as in
    `process.discretized_gaussian_log_likelihood`.

    Args:
        x: the data, values in {−1, +1} (any x > 0 counts as +1), a float tensor.
        means: μ, broadcastable to x.
        log_scales: log σ, broadcastable to x.

    Returns:
        The log-probabilities in nats, float32, of the broadcast shape.
    """
    z = ops.cast(means, "float64") * ops.exp(-ops.cast(log_scales, "float64"))
    signed = ops.where(ops.convert_to_tensor(x) > 0, z, -z)  # P(x) = Φ(±μ/σ)
    probability = 0.5 * (1.0 + ops.erf(signed * (1.0 / math.sqrt(2.0))))
    return ops.cast(ops.log(ops.maximum(probability, _MIN_PROBABILITY)), "float32")


def _clone_for_ema(network):
    """A copy of `network` (new variables, the same values), for the EMA weights."""
    try:
        clone = keras.models.clone_model(network)
    except Exception as e:
        raise ValueError(
            "`network` must be clonable for its EMA copy: a functional or Sequential model, or a model whose "
            f"get_config/from_config rebuild it. Cloning failed: {e}"
        ) from e
    return clone


@keras.saving.register_keras_serializable(package="keras_genmodels")
class DiffusionModel(GenerativeModel):
    """Denoising diffusion probabilistic model (DDPM) with an EMA network, trained by `fit`.

    See the module docstring for the forward process, the loss and the bound.
    Each `fit` step draws t ~ U{1..T} and ε ~ N(0, I) per example, makes one
    optimizer step on the mean per-example loss ℓ (summed over the replicas'
    examples and divided by the global batch), then moves the EMA weights,
    w_ema ← d w_ema + (1 − d) w. `sample` and `log_likelihood_bound` use the
    EMA network by default. Metric: `loss`, the mean per-example ℓ.

    Data (`data`): `"grey"`: images in [−1, 1] (8-bit pixels p as
    p / 127.5 − 1; the bound's decoder assumes that grid); `"binary"`: pixels
    in {0, 1}, seen by the model as 2b − 1 and sampled back as {0, 1};
    `"spins"`: lattices of ±1.

    Args:
        network: a Keras model from `[x_t, τ]`, x_t `(batch,) + data_shape`
            and τ = t / T `(batch,)` float32 in (0, 1], to ε̂ of shape
            `(batch,) + data_shape`; or `None` for the default: for `"spins"`
            on square (L, L, 1) lattices `networks.lattice_network(L)`, else
            `networks.unet(data_shape)`. Defaults to `None`.
        data_shape: the shape of one example. Defaults to `(28, 28, 1)`.
        timesteps: T ≥ 1. Defaults to `1000`.
        schedule: `"linear"` (β from `beta_start` to `beta_end`, Ho et al.)
            or `"cosine"` (Nichol & Dhariwal, offset `cosine_s`). Defaults to
            `"linear"`.
        beta_start, beta_end: the linear schedule's β_1 and β_T (checked for
            either schedule). Defaults to `1e-4` and `0.02`.
        cosine_s: the cosine schedule's offset s > 0. Defaults to `0.008`.
        data: `"grey"`, `"binary"` or `"spins"`. Defaults to `"grey"`.
        loss: `"mse"` (L_simple) or `"mae"`. Defaults to `"mse"`.
        ema_decay: d in [0, 1) (0: the EMA is the live weights). Defaults to
            `0.999`.
        ema_warmup: whether step n (n = 1, 2, ... optimizer steps) decays by
            d_n = min(d, (1 + n) / (10 + n)) instead of d, as
            `tf.train.ExponentialMovingAverage(num_updates=n)`: with a fixed
            d the EMA keeps d^n of the random initial weights (13% after
            2,000 steps at d = 0.999), whose shrunken ε̂ spoils deterministic
            DDIM samples of short trainings. Defaults to `True`.
        seed: int or `None`: the default network's initial weights, the
            training draws (stream [seed, 0]) and `sample`'s stream
            ([seed + 1, 0]). Defaults to `None`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: `[x_t, t]`: x_t `(batch,) + data_shape` and the step indices
            t `(batch,)`, ints in 0..T−1 (index t − 1 is step t). Returns the
            live network's ε̂, float32.

    Example:

    ```python
    from keras_genmodels.diffusion import DiffusionModel
    model = DiffusionModel(data_shape=(28, 28, 1), seed=0)
    model.compile()                                   # AdamW(1e-3, weight_decay=1e-4)
    model.fit(images, batch_size=128, epochs=10)      # images in [-1, 1]
    x = model.sample(16, method="ddim", steps=50, seed=1)
    bound = model.log_likelihood_bound(images[:100])  # bound["bits_per_dim"]
    ```

    References:
        Ho et al. 2020, arXiv 2006.11239. Song et al. 2021, arXiv 2010.02502.
        Nichol & Dhariwal 2021, arXiv 2102.09672.
    """

    def __init__(
        self,
        network=None,
        data_shape=(28, 28, 1),
        timesteps=1000,
        schedule="linear",
        beta_start=1e-4,
        beta_end=0.02,
        cosine_s=0.008,
        data="grey",
        loss="mse",
        ema_decay=0.999,
        ema_warmup=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.seed = v.check_seed("seed", seed)
        self.data_shape = _check_data_shape(data_shape)
        self.timesteps = v.check_positive_int("timesteps", timesteps, max_value=schedules.MAX_TIMESTEPS)
        self.schedule = v.check_choice("schedule", schedule, SCHEDULES)
        self.cosine_s = v.check_positive_float("cosine_s", cosine_s)
        linear = schedules.linear_beta_schedule(self.timesteps, beta_start, beta_end)  # checks both bounds
        self.beta_start, self.beta_end = float(beta_start), float(beta_end)
        self.data = v.check_choice("data", data, DATA_KINDS)
        self.loss_kind = v.check_choice("loss", loss, LOSSES)
        self.ema_decay = _check_decay(ema_decay)
        self.ema_warmup = v.check_bool("ema_warmup", ema_warmup)
        # Constants of the schedule (float64 NumPy, recomputed from the config, never saved).
        self.betas = linear if self.schedule == "linear" else schedules.cosine_beta_schedule(
            self.timesteps, self.cosine_s)
        self.alphas_cumprod = schedules.alphas_cumprod(self.betas)
        self.log_betas = np.log(self.betas).astype("float32")
        abar = self.alphas_cumprod
        # log σ_1² of the decoder: log β̃_2 (Ho et al.'s code), log β_1 when T = 1.
        self.decoder_log_variance = float(
            np.log((1.0 - abar[0]) / (1.0 - abar[1]) * self.betas[1]) if self.timesteps > 1
            else np.log(self.betas[0]))
        if network is None:
            network = self.default_network()
        if not isinstance(network, keras.Model):
            raise ValueError(  # noqa: TRY004  (the package raises ValueError for every bad argument)
                f"`network` must be a keras.Model or None. Received: network={type(network).__name__}")
        self.network = network
        self._check_network()
        ema_network = _clone_for_ema(network)
        ema_network([ops.zeros((1,) + self.data_shape), ops.ones((1,))])  # builds a subclassed clone
        shared = {id(w) for w in network.weights} & {id(w) for w in ema_network.weights}
        if shared or len(ema_network.weights) != len(network.weights):
            raise ValueError("`network`'s clone for the EMA weights must have its own variables, as many as "
                             f"the network's. Received {len(ema_network.weights)} variables, {len(shared)} shared")
        ema_network.set_weights(network.get_weights())
        ema_network.trainable = False
        self.ema_network = ema_network
        # Training's draws (per replica under a strategy), then `sample`'s and the bound's stream.
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        self.sampling_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.built = True
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._sample_fns, self._bound_fns = {}, {}

    # ------------------------------------------------------------- building
    def default_network(self):
        """The default ε-network for `data_shape`: the lattice network for square spin lattices, else the U-Net."""
        if len(self.data_shape) != 3:
            raise ValueError("The default networks are for images or lattices, (height, width, channels); pass "
                             f"`network` for other shapes. Received: data_shape={self.data_shape}")
        h, w, c = self.data_shape
        if self.data == "spins" and h == w and c == 1:
            return networks.lattice_network(h, seed=self.seed)
        return networks.unet(self.data_shape, seed=self.seed)

    def _check_network(self):
        shape = ", ".join(map(str, self.data_shape))
        try:
            out = self.network([ops.zeros((2,) + self.data_shape), ops.ones((2,))])
        except Exception as e:
            raise ValueError(
                f"`network` must take [x_t, t] with x_t of shape (batch,) + data_shape = (batch, {shape}) and t "
                f"of shape (batch,). Calling it failed: {e}"
            ) from e
        if tuple(out.shape) != (2,) + self.data_shape:
            raise ValueError(
                f"`network` must return ε̂ of shape (batch,) + data_shape = (batch, {shape}). "
                f"Received: shape {tuple(out.shape)} for a batch of 2"
            )

    def get_config(self):
        config = super().get_config()
        config.update({
            "network": keras.saving.serialize_keras_object(self.network),
            "data_shape": self.data_shape,
            "timesteps": self.timesteps,
            "schedule": self.schedule,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "cosine_s": self.cosine_s,
            "data": self.data,
            "loss": self.loss_kind,
            "ema_decay": self.ema_decay,
            "ema_warmup": self.ema_warmup,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("network"), dict):
            try:
                config["network"] = keras.saving.deserialize_keras_object(config["network"])
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                raise ValueError(f"`network` must be a serialised keras.Model. Deserialising it failed: {e}") from e
        return cls(**config)

    def compile(self, optimizer=None, **kwargs):
        """Compile with `optimizer`, by default keras-io DDIM's `AdamW(1e-3, weight_decay=1e-4)`.

        Args:
            optimizer: an optimizer (name, config or instance), or `None` for
                the default. Defaults to `None`.
            **kwargs: `keras.Model.compile` arguments (`jit_compile`,
                `steps_per_execution`, ...).
        """
        if optimizer is None:
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=1e-4)
        super().compile(optimizer=optimizer, **kwargs)

    # ------------------------------------------------------------------ data
    def check_data(self, x, name="x"):
        """`x` checked eagerly: shape `(batch,) + data_shape`, finite, and the values of `data`; a NumPy array."""
        x = v.check_array(name, x, feature_shape=self.data_shape)
        if self.data == "binary":
            return v.check_array(name, x, binary=True)
        if self.data == "spins" and not np.all(np.abs(x) == 1.0):
            values = np.unique(x)
            shown = ", ".join(f"{a:g}" for a in values[:5]) + (", ..." if len(values) > 5 else "")
            raise ValueError(f"`{name}` must be spin configurations, every value −1 or +1 (data='spins'). "
                             f"Received values {{{shown}}}")
        if self.data == "grey" and (x.min() < -1.0 or x.max() > 1.0):
            raise ValueError(f"`{name}` must be images in [-1, 1] (data='grey'; 8-bit pixels p as p / 127.5 − 1). "
                             f"Received values in [{x.min()}, {x.max()}]")
        return x

    def check_training_data(self, x, name="x"):
        return self.check_data(x, name)

    def data_seed_generator(self):
        return self.seed_generator

    def to_model_space(self, x):
        """x_0 as the model sees it, float32: binary b ∈ {0, 1} as 2b − 1, grey levels and spins as they are."""
        x = ops.cast(x, "float32")
        return 2.0 * x - 1.0 if self.data == "binary" else x

    # ------------------------------------------------------------------ math
    def predict_noise(self, x_t, t, use_ema=False, training=False):
        """ε̂ = ε_θ(x_t, t), float32, from the live (or EMA) network; t the step indices (batch,) in 0..T−1."""
        network = self.ema_network if use_ema else self.network
        tau = (ops.cast(t, "float32") + 1.0) / float(self.timesteps)  # τ = step / T ∈ (0, 1]
        return ops.cast(network([ops.convert_to_tensor(x_t), tau], training=training), "float32")

    def call(self, inputs, training=False):
        x_t, t = inputs
        return self.predict_noise(x_t, t, training=training)

    def noise_losses(self, eps, eps_hat):
        """Per-example loss (batch,): ‖ε − ε̂‖² / D (`"mse"`, `process.noise_prediction_loss`), or ‖ε − ε̂‖₁ / D."""
        if self.loss_kind == "mse":
            return process.noise_prediction_loss(eps, eps_hat)
        error = ops.abs(ops.cast(eps, "float32") - ops.cast(eps_hat, "float32"))
        return ops.mean(ops.reshape(error, (ops.shape(error)[0], -1)), axis=-1)

    def losses_of(self, x0, training=False):
        """Per-example loss (batch,) at a draw of t ~ U{1..T} and ε ~ N(0, I) (training stream)."""
        n = ops.shape(x0)[0]
        u = backend.uniform((n,), "float32", self.seed_generator)
        t = ops.minimum(ops.cast(ops.floor(u * self.timesteps), "int32"), self.timesteps - 1)
        eps = backend.normal(ops.shape(x0), "float32", self.seed_generator)
        x_t = process.q_sample(x0, t, eps, self.alphas_cumprod)
        return self.noise_losses(eps, self.predict_noise(x_t, t, training=training))

    def _per_example_sum(self, values):
        return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)

    def prior_term(self, x0):
        """L_T = KL(q(x_T | x_0) ‖ N(0, I)) per example (batch,), nats; x0 in model space."""
        abar = float(self.alphas_cumprod[-1])
        kl = process.normal_kl(math.sqrt(abar) * ops.cast(x0, "float32"), math.log(1.0 - abar), 0.0, 0.0)
        return self._per_example_sum(kl)

    def model_mean(self, x_t, t, use_ema=True):
        """μ_θ(x_t, t) = (x_t − β_t / √(1 − ᾱ_t) ε̂) / √α_t, float32; t the step indices (batch,)."""
        eps_hat = self.predict_noise(x_t, t, use_ema=use_ema)
        return process.ddpm_step(x_t, t, eps_hat, self.betas, self.alphas_cumprod, noise=None)

    def diffusion_term(self, x0, t, noise, use_ema=True):
        """L_{t−1} = KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)) per example (batch,), nats.

        At x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε for the given ε (`noise`), one draw of
        x_t ~ q(x_t | x_0): an unbiased estimate of E_q L_{t−1}. p_θ's variance
        is β_t. `x0` in model space; `t` the step indices (batch,), in 1..T−1
        (steps 2..T).
        """
        x0 = ops.cast(x0, "float32")
        x_t = process.q_sample(x0, t, noise, self.alphas_cumprod)
        mean_q, _, log_var_q = process.posterior_mean_variance(x0, x_t, t, self.betas)
        log_var_p = ops.reshape(ops.take(self.log_betas, t, axis=0), (-1,) + (1,) * len(self.data_shape))
        return self._per_example_sum(process.normal_kl(mean_q, log_var_q, self.model_mean(x_t, t, use_ema),
                                                       log_var_p))

    def decoder_term(self, x0, noise, use_ema=True):
        """L_0 = −log p_θ(x_0 | x_1) per example (batch,), nats, at x_1 = √ᾱ_1 x_0 + √(1 − ᾱ_1) ε.

        The decoder discretises N(μ_θ(x_1, 1), σ_1²), σ_1² = β̃_2, into the
        data's values (module docstring). `x0` in model space.
        """
        x0 = ops.cast(x0, "float32")
        t = ops.zeros((ops.shape(x0)[0],), "int32")
        x_1 = process.q_sample(x0, t, noise, self.alphas_cumprod)
        mean = self.model_mean(x_1, t, use_ema)
        log_scale = 0.5 * self.decoder_log_variance
        if self.data == "grey":
            log_p = process.discretized_gaussian_log_likelihood(x0, mean, log_scale)
        else:
            log_p = binary_decoder_log_likelihood(x0, mean, log_scale)
        return -self._per_example_sum(log_p)

    # ------------------------------------------------------------------ step
    def _batch(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.to_model_space(x)

    def train_step(self, data):
        """One optimizer step on L_simple, then the EMA update (module docstring).

        On R replicas each replica differentiates Σ_{i ∈ r} ℓ_i / N (+ the
        layers' penalties / R), N the global batch; the optimizer sums the
        replicas' gradients.
        """
        import tensorflow as tf

        x0 = self._batch(data)
        global_batch = distribute.global_batch_size(tf.shape(x0)[0])
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            per_example = self.losses_of(x0, training=True)
            loss = ops.sum(per_example) / global_batch
            if self.network.losses:
                loss = loss + distribute.scale_loss_for_distribution(ops.sum(ops.stack(self.network.losses)))
            scaled = self.optimizer.scale_loss(loss)
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        self.update_ema()
        self.loss_tracker.update_state(per_example)
        return distribute.step_outputs({m.name: m.result() for m in self.metrics})

    def test_step(self, data):
        """The loss of the live network on held-out data (fresh t and ε), no update."""
        self.loss_tracker.update_state(self.losses_of(self._batch(data)))
        return distribute.step_outputs({m.name: m.result() for m in self.metrics})

    def ema_decay_at(self, step):
        """The decay of the EMA update after optimizer step `step` (≥ 1): d, or min(d, (1 + n) / (10 + n))."""
        if not self.ema_warmup:
            return ops.convert_to_tensor(self.ema_decay, "float32")
        n = ops.cast(step, "float32")
        return ops.minimum(self.ema_decay, (1.0 + n) / (10.0 + n))

    def update_ema(self):
        """w_ema ← d_n w_ema + (1 − d_n) w for every weight of the network (w_ema = w when d = 0).

        d_n = `ema_decay_at(n)`, n the optimizer's step count after this step.
        """
        if self.ema_decay == 0.0:
            for w, w_ema in zip(self.network.weights, self.ema_network.weights):
                w_ema.assign(w)
            return
        d = self.ema_decay_at(self.optimizer.iterations)
        for w, w_ema in zip(self.network.weights, self.ema_network.weights):
            if not keras.backend.is_float_dtype(w.dtype):
                w_ema.assign(w)
            else:
                d_w = ops.cast(d, w_ema.dtype)
                w_ema.assign(d_w * w_ema + (1.0 - d_w) * ops.cast(w, w_ema.dtype))

    @property
    def metrics(self):
        return [self.loss_tracker]

    # ------------------------------------------------------------- sampling
    def reseed(self, seed):
        """Restart `sample`'s (and the bound's) stream at the seed pair [seed, 0]; `None` leaves it."""
        if v.check_seed("seed", seed) is not None:
            state = self.sampling_seed_generator.state
            state.assign(ops.convert_to_tensor([int(seed), 0], dtype=state.dtype))

    def sampling_schedule(self, method="ddpm", steps=None, eta=None):
        """Checked sampler arguments: `(method, steps, eta, t, t_prev)`, t and t_prev int32 NumPy arrays.

        DDPM takes every step, T − 1 .. 0 (`steps` None or T; no η). DDIM
        takes `steps` ≤ T trailing steps (`process.sampling_timesteps`;
        None: T), with η in [0, 1] (None: 0).
        """
        v.check_choice("method", method, METHODS)
        T = self.timesteps
        if method == "ddpm":
            if steps is not None and steps != T:
                raise ValueError(f"`steps` must be None or T = {T} for method='ddpm' (ancestral sampling takes every "
                                 f"step; use method='ddim' for fewer). Received: steps={steps!r}")
            if eta is not None:
                raise ValueError(f"`eta` applies to method='ddim' only. Received: eta={eta!r} with method='ddpm'")
            t = np.arange(T - 1, -1, -1)
            return method, T, None, t.astype("int32"), (t - 1).astype("int32")
        steps = T if steps is None else steps
        if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, numbers.Integral) or not 1 <= steps <= T:
            raise ValueError(
                f"`steps` must be an int in [1, T] = [1, {T}] for method='ddim'. Received: steps={steps!r}")
        eta = 0.0 if eta is None else process.check_eta(eta)
        t = process.sampling_timesteps(T, int(steps))
        return method, int(steps), eta, t.astype("int32"), np.append(t[1:], -1).astype("int32")

    def _sampler(self, method, steps, eta, use_ema):
        key = (method, steps, eta, use_ema)
        if key not in self._sample_fns:
            _, _, _, t_all, t_prev_all = self.sampling_schedule(method, None if method == "ddpm" else steps, eta)
            generator = self.sampling_seed_generator

            def run(n):
                x = backend.normal((n,) + self.data_shape, "float32", generator)  # x_T ~ N(0, I)
                ones = ops.ones((n,), "int32")

                def body(i, x):
                    t, t_prev = ones * ops.take(t_all, i), ones * ops.take(t_prev_all, i)
                    eps_hat = self.predict_noise(x, t, use_ema=use_ema)
                    if method == "ddpm":
                        z = backend.normal(ops.shape(x), "float32", generator)
                        return process.ddpm_step(x, t, eps_hat, self.betas, self.alphas_cumprod, z)
                    z = backend.normal(ops.shape(x), "float32", generator) if eta > 0 else None
                    return process.ddim_step(x, t, t_prev, eps_hat, self.alphas_cumprod, eta, z)

                return self.from_model_space(ops.fori_loop(0, len(t_all), body, x))

            self._sample_fns[key] = backend.compile_function(run, jit_compile=False)
        return self._sample_fns[key]

    def from_model_space(self, x):
        """Samples as data: grey levels clipped to [−1, 1]; binary {0, 1} by x > 0; spins ±1 by sign (x > 0: +1).

        For binary and spin data that is the decoder's most probable value,
        P(+1 | x_1) = Φ(μ_θ / σ_1) > ½ exactly when x_0 = μ_θ(x_1, 1) > 0.
        """
        if self.data == "grey":
            return ops.clip(x, -1.0, 1.0)
        positive = ops.cast(x > 0, "float32")
        return positive if self.data == "binary" else 2.0 * positive - 1.0

    def sample(self, n, seed=None, *, method="ddpm", steps=None, eta=None, batch_size=256, use_ema=True):
        """Draw n samples; a float32 NumPy array `(n,) + data_shape` of the data's values.

        x_T ~ N(0, I), then the compiled reverse chain: DDPM (ancestral, all T
        steps, σ_t² = β_t) or DDIM (`steps` ≤ T steps, η = 0 deterministic
        given x_T; η = 1 with steps = T is ancestral with σ_t² = β̃_t). One
        compiled loop per (method, steps, η, use_ema), kept for later calls.

        Args:
            n: the number of samples, a positive int.
            seed: int for reproducible samples, or `None` to continue the
                model's sampling stream. Defaults to `None`.
            method: `"ddpm"` or `"ddim"`. Defaults to `"ddpm"`.
            steps: the number of steps: None or T for DDPM; an int in [1, T]
                for DDIM (None: T). Defaults to `None`.
            eta: DDIM's η in [0, 1] (None: 0); None for DDPM. Defaults to `None`.
            batch_size: samples drawn together (memory). Defaults to `256`.
            use_ema: whether the EMA network denoises. Defaults to `True`.
        """
        n = v.check_positive_int("n", n, max_value=2**31 - 1)
        batch_size = v.check_positive_int("batch_size", batch_size)
        use_ema = v.check_bool("use_ema", use_ema)
        method, steps, eta, _, _ = self.sampling_schedule(method, steps, eta)
        self.reseed(seed)
        fn, out = self._sampler(method, steps, eta, use_ema), []
        for i in range(0, n, batch_size):
            out.append(ops.convert_to_numpy(fn(ops.convert_to_tensor(min(batch_size, n - i), "int32"))))
        return np.concatenate(out).astype("float32")

    # ------------------------------------------------------------ likelihood
    def timestep_strata(self, timestep_samples=None):
        """The strata of the steps 2..T of the bound's estimate: `(starts, sizes)`, int NumPy arrays.

        `None`: every step is its own stratum (the exact sum over t, T − 1
        network calls). K: the T − 1 steps cut into K contiguous strata of
        sizes ⌊(T − 1) / K⌋ or one more (`numpy.array_split`); starts are
        step indices (index i is step i + 1).
        """
        n = self.timesteps - 1
        k = n if timestep_samples is None else v.check_positive_int("timestep_samples", timestep_samples)
        if n < 1:
            return np.zeros((0,), "int32"), np.zeros((0,), "int32")
        if k > n:
            raise ValueError(f"Expected `timestep_samples` of at most T − 1 = {n} (the steps 2..T). "
                             f"Received: timestep_samples={k}")
        sizes = np.array([len(a) for a in np.array_split(np.arange(n), k)], "int32")
        return (1 + np.concatenate([[0], np.cumsum(sizes)[:-1]])).astype("int32"), sizes

    def _bound(self, use_ema, timestep_samples):
        key = (use_ema, timestep_samples)
        if key not in self._bound_fns:
            generator = self.sampling_seed_generator
            starts, sizes = self.timestep_strata(timestep_samples)
            exact = timestep_samples is None

            def run(x0):
                n = ops.shape(x0)[0]
                ones = ops.ones((n,), "int32")

                def body(k, total):  # stratum k: one step t per example in it, weighted by its size
                    eps = backend.normal(ops.shape(x0), "float32", generator)
                    if exact:  # step t = k + 1 ∈ 2..T, L_{t−1}
                        return total + ops.cast(self.diffusion_term(x0, ones * (k + 1), eps, use_ema), "float64")
                    size = ops.take(ops.convert_to_tensor(sizes), k)
                    u = backend.uniform((n,), "float32", generator)
                    offset = ops.minimum(ops.cast(u * ops.cast(size, "float32"), "int32"), size - 1)
                    t = ops.take(ops.convert_to_tensor(starts), k) + offset
                    term = ops.cast(self.diffusion_term(x0, t, eps, use_ema), "float64")
                    return total + ops.cast(size, "float64") * term

                diffusion = ops.fori_loop(0, len(sizes), body, ops.zeros((n,), "float64"))
                decoder = self.decoder_term(x0, backend.normal(ops.shape(x0), "float32", generator), use_ema)
                return self.prior_term(x0), diffusion, decoder

            self._bound_fns[key] = backend.compile_function(run, jit_compile=False)
        return self._bound_fns[key]

    def log_likelihood_bound(self, x, batch_size=256, seed=None, use_ema=True, timestep_samples=None):
        """The variational bound of Ho et al. (eq. 5) on −log p_θ(x), term by term, per example.

        L_T and each L_{t−1} are closed-form Gaussian KLs; each L_{t−1} is
        taken at one draw x_t ~ q(x_t | x_0) (a fresh draw per t and
        example), so `diffusion` is an unbiased one-sample estimate of
        Σ_t E_q L_{t−1}, and `nats` of the bound. By default every step
        t = 2..T is visited: T − 1 network calls per batch, in one compiled
        loop. With `timestep_samples=K` the steps are cut into K contiguous
        strata (`timestep_strata`) and each example visits one step drawn
        uniformly in each stratum, its term weighted by the stratum's size
        (stratified sampling): K network calls per batch, still unbiased for
        the bound, with a larger spread per example (report the mean with its
        standard error). The draws come from `sample`'s stream.

        Args:
            x: data as for `fit` (`check_data`), `(n,) + data_shape`.
            batch_size: examples evaluated together. Defaults to `256`.
            seed: int to restart the stream (reproducible), or `None`.
                Defaults to `None`.
            use_ema: whether p_θ uses the EMA network. Defaults to `True`.
            timestep_samples: `None` (every step) or K in 1..T − 1 (strata).
                Defaults to `None`.

        Returns:
            A dict of float64 NumPy arrays (n,): `nats` (−log p_θ(x) ≤ nats),
            `prior` (L_T), `diffusion` (Σ_{t=2}^T L_{t−1}), `decoder` (L_0) and
            `bits_per_dim` = nats / (D ln 2).
        """
        x = self.check_data(x, "x")
        batch_size = v.check_positive_int("batch_size", batch_size)
        use_ema = v.check_bool("use_ema", use_ema)
        if timestep_samples is not None:
            timestep_samples = v.check_positive_int("timestep_samples", timestep_samples)
            self.timestep_strata(timestep_samples)  # checks K ≤ T − 1
        self.reseed(seed)
        fn, parts = self._bound(use_ema, timestep_samples), []
        for i in range(0, len(x), batch_size):
            x0 = self.to_model_space(ops.convert_to_tensor(x[i:i + batch_size]))
            parts.append([ops.convert_to_numpy(a).astype("float64") for a in fn(x0)])
        prior, diffusion, decoder = (np.concatenate(p) for p in zip(*parts))
        nats = prior + diffusion + decoder
        return {"nats": nats, "prior": prior, "diffusion": diffusion, "decoder": decoder,
                "bits_per_dim": nats / (math.prod(self.data_shape) * math.log(2.0))}
