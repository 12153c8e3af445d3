"""`DCGAN` and `WGANGP`: a generator and a discriminator (critic) trained against each other by `fit`.

The min-max game of Goodfellow et al. 2014,

    min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))],

whose inner maximum, for a fixed G, is D*(x) = p_data(x) / (p_data(x) + p_G(x))
and leaves 2 JS(p_data ‖ p_G) − log 4 to minimise over G. The Wasserstein
GAN replaces the Jensen-Shannon divergence by the earth-mover distance in
its dual form, W(p, q) = max_{‖D‖_L ≤ 1} E_p[D] − E_q[D], with the
Lipschitz constraint enforced softly by the gradient penalty
(`gan.losses`). Each `fit` step does `d_steps` discriminator (critic)
updates on the batch, each with fresh z, then one generator update.
"""

import keras
import numpy as np
from keras import ops

from keras_genmodels import _validation as v
from keras_genmodels import distribute
from keras_genmodels.gan import losses, networks
from keras_genmodels.generative_model import GenerativeModel
from keras_genmodels.sampling import backend

MAX_LATENT = 2**16
MAX_CLASSES = 2**16
OPTIMIZER_NAMES = ("generator", "discriminator")


def _check_shape(data_shape):
    try:
        shape = tuple(int(d) for d in data_shape)
        ok = len(shape) == 3 and all(d >= 1 for d in shape) and all(
            not isinstance(d, bool) and float(d) == int(d) for d in data_shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "`data_shape` must be the shape of one image or lattice, (height, width, channels) of positive ints. "
            f"Received: data_shape={data_shape!r}"
        )
    return shape


def _check_temperature_range(value):
    if value is None:
        return None
    try:
        lo, hi = (float(t) for t in value)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise ValueError(
            "`temperature_range` must be (T_min, T_max) with 0 < T_min < T_max, or None. "
            f"Received: temperature_range={value!r}"
        )
    return lo, hi


class GAN(GenerativeModel):
    """The adversarial step shared by `DCGAN` and `WGANGP` (abstract; not registered).

    Subclasses give the losses (`discriminator_terms`, `generator_terms`),
    the default networks and the default optimizers.

    Args:
        generator: a Keras model from z `(batch, latent_dim)` (and c
            `(batch, condition_dim)` for a conditional model, as `[z, c]`)
            to `(batch,) + data_shape` in [−1, 1]; `None` for the default.
        discriminator: a Keras model from `(batch,) + data_shape` (and c,
            as `[x, c]`) to one score per example, `(batch, 1)`; `None` for
            the default.
        data_shape: the shape of one example, (height, width, channels).
        latent_dim: the size of z ~ N(0, I).
        d_steps: discriminator (critic) updates per generator update, ≥ 1.
        num_classes: for a class-conditional model, the number of classes
            (labels 0 .. num_classes − 1, one-hot); else `None`.
        temperature_range: for a temperature-conditional model, the
            training range (T_min, T_max); c = (T − T_min) / (T_max − T_min).
            `None` otherwise. At most one of the two conditions.
        spins: whether the data are spin configurations ±1 (the generator's
            tanh output m is then the mean spin, and `sample` draws
            s = ±1 with P(s = +1) = (1 + m) / 2).
        symmetric: whether each generated example's sign is flipped with
            probability 1/2, in training and in sampling: a generator
            symmetric under s → −s by construction, as the Ising
            Hamiltonian (spin data only).
        straight_through: whether the discriminator sees, in training, the
            spins s = ±1 drawn from the generator's means m (as `sample`
            gives them) instead of m itself, with the generator's gradient
            passed through the draw as if it were m (the straight-through
            estimator, Bengio et al. 2013, arXiv 1308.3432):
            x̃ = s + m − stop_gradient(m). Spin data only.
        seed: int or `None`: the initial weights and every random draw.
    """

    network_kind = None  # "wgan_gp" or "dcgan": the default networks for images

    def __init__(
        self,
        generator=None,
        discriminator=None,
        data_shape=(28, 28, 1),
        latent_dim=128,
        d_steps=1,
        num_classes=None,
        temperature_range=None,
        spins=False,
        symmetric=False,
        straight_through=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.data_shape = _check_shape(data_shape)
        self.latent_dim = v.check_positive_int("latent_dim", latent_dim, max_value=MAX_LATENT)
        self.d_steps = v.check_positive_int("d_steps", d_steps, max_value=1000)
        self.num_classes = None if num_classes is None else v.check_positive_int(
            "num_classes", num_classes, max_value=MAX_CLASSES)
        self.temperature_range = _check_temperature_range(temperature_range)
        if self.num_classes is not None and self.temperature_range is not None:
            raise ValueError(
                "A GAN is conditioned on classes or on a temperature, not both. Received: "
                f"num_classes={num_classes!r}, temperature_range={temperature_range!r}"
            )
        self.spins = v.check_bool("spins", spins)
        self.symmetric = v.check_bool("symmetric", symmetric)
        if self.symmetric and not self.spins:
            raise ValueError("`symmetric=True` (a spin-flip symmetric generator) needs `spins=True`. "
                             "Received: spins=False")
        self.straight_through = v.check_bool("straight_through", straight_through)
        if self.straight_through and not self.spins:
            raise ValueError("`straight_through=True` (spin draws in training) needs `spins=True`. "
                             "Received: spins=False")
        self.seed = v.check_seed("seed", seed)
        condition_dim = self.condition_dim
        if generator is None or discriminator is None:
            default_g, default_d = self.default_networks(condition_dim, self.seed)
            generator = default_g if generator is None else generator
            discriminator = default_d if discriminator is None else discriminator
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, keras.Model):
                raise ValueError(f"`{name}` must be a keras.Model or None. Received: {name}={type(net).__name__}")
        self.generator = generator
        self.discriminator = discriminator
        # Training's draws (per replica under a strategy), then `sample`'s stream.
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        self.sampling_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self._check_networks()
        self.built = True
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self._generate_fn = None

    # ------------------------------------------------------------- building
    @property
    def conditional(self):
        """Whether the model is conditioned on classes or on a temperature."""
        return self.num_classes is not None or self.temperature_range is not None

    @property
    def condition_dim(self):
        """The size of c: `num_classes`, 1 for a temperature, `None` unconditional."""
        if self.num_classes is not None:
            return self.num_classes
        return 1 if self.temperature_range is not None else None

    def default_networks(self, condition_dim, seed):
        """`(generator, discriminator)` for `data_shape`: the lattice pair for spins, else the family's image pair."""
        h, w, c = self.data_shape
        if self.spins:
            if h != w or c != 1:
                raise ValueError(
                    f"The default networks for spins need square lattices (L, L, 1). Received: data_shape={self.data_shape}"
                )
            return (networks.lattice_generator(h, self.latent_dim, condition_dim, seed=seed),
                    networks.lattice_critic(h, condition_dim, seed=seed))
        if self.data_shape != (28, 28, 1):
            raise ValueError(
                "The default image networks are for 28 x 28 x 1 images; pass `generator` and `discriminator` "
                f"for other shapes. Received: data_shape={self.data_shape}"
            )
        return self.image_networks(condition_dim, seed)

    def image_networks(self, condition_dim, seed):
        raise NotImplementedError

    def _inputs(self, x, c):
        """x, or [x, c] for a conditional network (as tensors: Keras refuses a mixed list)."""
        return x if c is None else [ops.convert_to_tensor(x), ops.convert_to_tensor(c)]

    def _check_networks(self):
        c = None if not self.conditional else ops.zeros((2, self.condition_dim))
        z = ops.zeros((2, self.latent_dim))
        try:
            fake = self.generator(self._inputs(z, c))
        except Exception as e:
            raise ValueError(
                f"`generator` must take z of shape (batch, latent_dim) = (batch, {self.latent_dim})"
                + (f" and c of shape (batch, {self.condition_dim}) as [z, c]" if c is not None else "")
                + f". Calling it failed: {e}"
            ) from e
        if tuple(fake.shape) != (2,) + self.data_shape:
            raise ValueError(
                f"`generator` must return a batch of shape (batch,) + data_shape = (batch, "
                f"{', '.join(map(str, self.data_shape))}). Received: shape {tuple(fake.shape)} for a batch of 2"
            )
        try:
            score = self.discriminator(self._inputs(ops.zeros((2,) + self.data_shape), c))
        except Exception as e:
            raise ValueError(
                f"`discriminator` must take a batch of shape (batch, {', '.join(map(str, self.data_shape))})"
                + (" and c as [x, c]" if c is not None else "") + f". Calling it failed: {e}"
            ) from e
        if tuple(score.shape) not in ((2,), (2, 1)):
            raise ValueError(
                "`discriminator` must return one number per example, of shape (batch, 1) or (batch,). "
                f"Received: shape {tuple(score.shape)} for a batch of 2"
            )

    def get_config(self):
        config = super().get_config()
        config.update({
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "data_shape": self.data_shape,
            "latent_dim": self.latent_dim,
            "d_steps": self.d_steps,
            "num_classes": self.num_classes,
            "temperature_range": self.temperature_range,
            "spins": self.spins,
            "symmetric": self.symmetric,
            "straight_through": self.straight_through,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("generator", "discriminator"):
            if isinstance(config.get(name), dict):
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    # ------------------------------------------------------------ optimizers
    def default_optimizers(self):
        """`{"generator": ..., "discriminator": ...}`: the recipe's optimizers."""
        raise NotImplementedError

    def compile(self, optimizer=None, **kwargs):
        """Compile with two optimizers, `{"generator": ..., "discriminator": ...}`.

        Args:
            optimizer: that dict; or one optimizer, copied for each network
                (two optimizers with its config); or `None` for the recipe's
                (`default_optimizers`). Defaults to `None`.
            **kwargs: `keras.Model.compile` arguments (`jit_compile`,
                `steps_per_execution`, ...).
        """
        if optimizer is None:
            optimizer = self.default_optimizers()
        elif not isinstance(optimizer, dict):
            one = keras.optimizers.get(optimizer)
            optimizer = {name: type(one).from_config(one.get_config()) for name in OPTIMIZER_NAMES}
        if sorted(optimizer) != sorted(OPTIMIZER_NAMES):
            raise ValueError(
                f"`optimizer` must name one optimizer for each network, {list(OPTIMIZER_NAMES)}. "
                f"Received names: {sorted(optimizer)}"
            )
        super().compile(optimizer={name: optimizer[name] for name in OPTIMIZER_NAMES}, **kwargs)

    def optimizer_variables(self):
        return {"generator": self.generator.trainable_variables,
                "discriminator": self.discriminator.trainable_variables}

    # ------------------------------------------------------------------ data
    def check_data(self, x, name="x"):
        """`x` checked eagerly: shape `(batch,) + data_shape`, finite, in [−1, 1] (spins: each −1 or +1); a NumPy array."""
        x = v.check_array(name, x, feature_shape=self.data_shape, min_value=-1.0, max_value=1.0)
        if self.spins and x.size and not np.all(np.abs(x) == 1.0):
            values = np.unique(x)
            shown = ", ".join(f"{a:g}" for a in values[:5]) + (", ..." if len(values) > 5 else "")
            raise ValueError(f"`{name}` must be spin configurations, every value −1 or +1 (`spins=True`). "
                             f"Received values {{{shown}}}")
        return x

    def check_training_data(self, x, name="x"):
        return self.check_data(x, name)

    def check_conditions(self, y, n=None, name="y"):
        """Class labels or temperatures, checked eagerly; a NumPy array (n,).

        Labels must be ints in [0, num_classes); temperatures floats in
        `temperature_range`. An unconditional model takes none.
        """
        if not self.conditional:
            raise ValueError(
                f"This {type(self).__name__} is unconditional: it takes no `{name}`. Received: {name} of type "
                f"{type(y).__name__}"
            )
        arr = v.check_array(name, y)
        arr = arr.reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr
        if arr.ndim != 1 or (n is not None and len(arr) != n):
            raise ValueError(
                f"`{name}` must hold one {'label' if self.num_classes else 'temperature'} per example, shape "
                f"({n if n is not None else 'batch'},). Received: shape={np.shape(y)}"
            )
        if self.num_classes is not None:
            if not np.all(arr == np.round(arr)) or arr.min() < 0 or arr.max() >= self.num_classes:
                raise ValueError(
                    f"`{name}` must be class labels, ints in [0, {self.num_classes}). Received values in "
                    f"[{arr.min()}, {arr.max()}]"
                )
            return arr.astype("int32")
        lo, hi = self.temperature_range
        tol = 1e-6 * hi
        if arr.min() < lo - tol or arr.max() > hi + tol:
            raise ValueError(
                f"`{name}` must be temperatures in the training range [{lo}, {hi}]. Received values in "
                f"[{arr.min()}, {arr.max()}]"
            )
        return arr.astype("float32")

    def condition_vectors(self, y):
        """c of labels (one-hot, (batch, num_classes)) or temperatures ((T − T_min)/(T_max − T_min), (batch, 1))."""
        if self.num_classes is not None:
            return ops.one_hot(ops.cast(ops.reshape(y, (-1,)), "int32"), self.num_classes)
        lo, hi = self.temperature_range
        return ops.reshape((ops.cast(y, "float32") - lo) / (hi - lo), (-1, 1))

    batches_targets = True  # `fit(x, y)` batches the conditions with the examples (GenerativeModel.fit)

    def check_training_targets(self, y, x, name="y"):
        return self.check_conditions(y, len(x), name)

    def fit(self, x=None, y=None, *args, **kwargs):
        """`GenerativeModel.fit`: `fit(images)`, or `fit(images, labels_or_temperatures)` when conditional."""
        if isinstance(x, (np.ndarray, list)) and self.conditional and y is None:
            raise ValueError(
                f"This conditional {type(self).__name__} trains on (x, y) pairs: pass "
                f"{'labels' if self.num_classes else 'temperatures'} as `y`. Received: y=None"
            )
        if y is not None and isinstance(x, (np.ndarray, list)):
            y = self.check_conditions(y, len(np.asarray(x)), "y")
        return super().fit(x, y, *args, **kwargs)

    def data_seed_generator(self):
        return self.seed_generator

    # ------------------------------------------------------------------ step
    @property
    def metric_names(self):
        raise NotImplementedError

    def discriminator_terms(self, x, fake, real_scores, fake_scores, c):
        """`(per-example discriminator loss (n,), {metric: per-example values})`."""
        raise NotImplementedError

    def generator_terms(self, fake_scores):
        """Per-example generator loss, (n,)."""
        raise NotImplementedError

    def call(self, inputs, training=False):
        """G(z): z of shape (batch, latent_dim), or `[z, c]` for a conditional model (c as
        `condition_vectors` gives it); float32 (batch,) + data_shape, the generator's output (no spin draw)."""
        return ops.cast(self.generator(inputs, training=training), "float32")

    def generate(self, z, c=None, training=False, seed=None):
        """G(z) (or G(z, c)) in float32; spin-flip symmetrised (a random sign per example) when `symmetric`."""
        out = ops.cast(self.generator(self._inputs(z, c), training=training), "float32")
        if self.symmetric:
            n = ops.shape(out)[0]
            flip = keras.random.uniform((n,), seed=seed if seed is not None else self.seed_generator) < 0.5
            out = out * ops.reshape(ops.where(flip, -1.0, 1.0), (-1,) + (1,) * len(self.data_shape))
        return out

    def training_fakes(self, z, c=None, training=True):
        """What the discriminator sees of G(z) in `train_step`/`test_step`: `generate`'s output, or with
        `straight_through` the spins drawn from it, s + m − stop_gradient(m) (value s, gradient of m)."""
        means = self.generate(z, c, training=training)
        if not self.straight_through:
            return means
        u = keras.random.uniform(ops.shape(means), seed=self.seed_generator)
        spins = ops.where(u < (1.0 + means) / 2.0, 1.0, -1.0)
        return spins + (means - ops.stop_gradient(means))  # exactly s (m − m = 0), the gradient of m

    def score(self, x, c=None, training=False):
        """D(x) (or D(x, c)) as float32 (batch,)."""
        return ops.reshape(ops.cast(self.discriminator(self._inputs(x, c), training=training), "float32"), (-1,))

    def _batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if self.conditional and y is None:
            raise ValueError("A conditional GAN trains on (x, y) batches. Received batches of x alone.")
        c = self.condition_vectors(y) if self.conditional else None
        return ops.cast(x, "float32"), c

    def _latent(self, n):
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator)

    def train_step(self, data):
        """`d_steps` discriminator updates, then one generator update (see the module docstring).

        On R replicas each loss is the replica's sum of per-example losses
        over the global batch size; the optimizers sum the replicas' gradients.
        """
        import tensorflow as tf

        x, c = self._batch(data)
        n = tf.shape(x)[0]
        global_batch = ops.cast(distribute.global_batch_size(n), "float32")
        d_opt, g_opt = self.optimizers["discriminator"], self.optimizers["generator"]
        d_vars, g_vars = self.discriminator.trainable_variables, self.generator.trainable_variables
        for _ in range(self.d_steps):
            z = self._latent(n)
            with tf.GradientTape() as tape:
                fake = ops.stop_gradient(self.training_fakes(z, c))
                real_scores = self.score(x, c, training=True)
                fake_scores = self.score(fake, c, training=True)
                d_per_example, d_metrics = self.discriminator_terms(x, fake, real_scores, fake_scores, c)
                d_loss = ops.sum(d_per_example) / global_batch
                scaled = d_opt.scale_loss(d_loss)
            d_opt.apply(tape.gradient(scaled, d_vars), d_vars)
        z = self._latent(n)
        with tf.GradientTape() as tape:
            fake = self.training_fakes(z, c)
            g_per_example = self.generator_terms(self.score(fake, c, training=True))
            g_loss = ops.sum(g_per_example) / global_batch
            scaled = g_opt.scale_loss(g_loss)
        g_opt.apply(tape.gradient(scaled, g_vars), g_vars)
        return self.update_metrics(d_per_example, g_per_example, d_metrics)

    def test_step(self, data):
        """The losses and metrics on held-out data, against fresh samples (no update)."""
        x, c = self._batch(data)
        n = ops.shape(x)[0]
        fake = self.training_fakes(self._latent(n), c, training=False)
        real_scores, fake_scores = self.score(x, c), self.score(fake, c)
        d_per_example, d_metrics = self.discriminator_terms(x, fake, real_scores, fake_scores, c)
        return self.update_metrics(d_per_example, self.generator_terms(fake_scores), d_metrics)

    def update_metrics(self, d_per_example, g_per_example, d_metrics):
        t = self.trackers
        t["d_loss"].update_state(d_per_example)
        t["g_loss"].update_state(g_per_example)
        for name, values in d_metrics.items():
            t[name].update_state(values)
        return distribute.step_outputs({name: m.result() for name, m in t.items()})

    @property
    def metrics(self):
        return list(self.trackers.values())

    # ------------------------------------------------------------- sampling
    def reseed(self, seed):
        """Restart `sample`'s stream at the seed pair [seed, 0]; `None` leaves it."""
        if v.check_seed("seed", seed) is not None:
            state = self.sampling_seed_generator.state
            state.assign(ops.convert_to_tensor([int(seed), 0], dtype=state.dtype))

    def sample_conditions(self, n, labels=None, temperature=None):
        """The conditions of n samples as a NumPy array (n,), or `None`; checked (one value or n)."""
        if not self.conditional:
            if labels is not None or temperature is not None:
                given = "labels" if labels is not None else "temperature"
                raise ValueError(f"This {type(self).__name__} is unconditional: it takes no `{given}`. "
                                 f"Received: {given}={labels if labels is not None else temperature!r}")
            return None
        name, value, other = (("labels", labels, temperature) if self.num_classes is not None
                              else ("temperature", temperature, labels))
        if other is not None:
            wrong = "temperature" if name == "labels" else "labels"
            raise ValueError(f"This {type(self).__name__} is conditioned on {name}, not {wrong}. "
                             f"Received: {wrong}={other!r}")
        if value is None:
            raise ValueError(f"This conditional {type(self).__name__} needs `{name}` to sample. Received: {name}=None")
        arr = np.asarray(value)
        if arr.ndim == 0:
            arr = np.full((n,), arr)
        return self.check_conditions(arr, n, name)

    def generate_batch(self, z, c, seed_generator):
        """Samples from z (and c): G's output, and for spins a draw s = ±1 with P(+1) = (1 + m) / 2.

        Returns `(samples, means)`, float32 (batch,) + data_shape.
        """
        means = self.generate(z, c, seed=seed_generator)
        if not self.spins:
            return means, means
        u = keras.random.uniform(ops.shape(means), seed=seed_generator)
        return ops.where(u < (1.0 + means) / 2.0, 1.0, -1.0), means

    def _compiled_generate(self):
        if self._generate_fn is None:
            def run(n, c):
                z = keras.random.normal((n, self.latent_dim), seed=self.sampling_seed_generator)
                return self.generate_batch(z, c, self.sampling_seed_generator)

            self._generate_fn = backend.compile_function(run, jit_compile=False)
        return self._generate_fn

    def sample(self, n, seed=None, *, labels=None, temperature=None, batch_size=1000, return_means=False):
        """Draw n samples G(z), z ~ N(0, I); a float32 NumPy array `(n,) + data_shape` in [−1, 1].

        Args:
            n: the number of samples, a positive int.
            seed: int for reproducible samples, or `None` to continue the
                model's sampling stream. Defaults to `None`.
            labels: a class-conditional model's label(s): one int or n ints.
            temperature: a temperature-conditional model's temperature(s):
                one float or n floats, inside `temperature_range`.
            batch_size: samples generated together (memory). Defaults to `1000`.
            return_means: for spin data, the generator's mean spins m instead
                of the drawn configurations ±1. Defaults to `False`.
        """
        n = v.check_positive_int("n", n, max_value=2**31 - 1)
        batch_size = v.check_positive_int("batch_size", batch_size)
        v.check_bool("return_means", return_means)
        conditions = self.sample_conditions(n, labels, temperature)
        self.reseed(seed)
        fn, out = self._compiled_generate(), []
        for i in range(0, n, batch_size):
            m = min(batch_size, n - i)
            c = None if conditions is None else self.condition_vectors(ops.convert_to_tensor(conditions[i:i + m]))
            samples, means = fn(ops.convert_to_tensor(m, "int32"), c)
            out.append(ops.convert_to_numpy(means if return_means else samples))
        return np.concatenate(out).astype("float32")


@keras.saving.register_keras_serializable(package="keras_genmodels")
class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty, trained by `fit`.

    Critic loss, per example: D(x̃) − D(x) + λ (‖∇_x̂ D(x̂)‖₂ − 1)² with
    x̂ = α x + (1 − α) x̃, α ~ U(0, 1) (`losses.gradient_penalties`);
    generator loss −D(x̃). Metrics: `d_loss` (with the penalty), `g_loss`,
    `wasserstein` (mean D(x) − mean D(x̃), the critic's estimate of W₁) and
    `gradient_penalty` (the unweighted mean penalty).

    With no arguments it is keras-io's Fashion-MNIST model: its generator
    and critic (`networks.wgan_gp_generator`, `networks.wgan_gp_critic`),
    z of size 128, three critic steps per generator step, λ = 10; `compile()`
    then uses Adam(2e-4, β₁ = 0.5, β₂ = 0.9) for both networks.

    Args:
        generator, discriminator, data_shape, latent_dim, num_classes,
            temperature_range, spins, symmetric, straight_through, seed: as
            `GAN`. Defaults: `None`, `None`, `(28, 28, 1)`, `128`, `None`,
            `None`, `False`, `False`, `False`, `None`.
        d_steps: critic updates per generator update. Defaults to `3`.
        gp_weight: λ ≥ 0. Defaults to `10.0`.

    Example:

    ```python
    from keras_genmodels.gan import WGANGP
    model = WGANGP(seed=0)
    model.compile()
    model.fit(images, batch_size=512, epochs=20)   # images (n, 28, 28, 1) in [-1, 1]
    samples = model.sample(16, seed=1)            # (16, 28, 28, 1)
    ```

    References:
        Arjovsky et al. 2017, arXiv 1701.07875. Gulrajani et al. 2017,
        "Improved Training of Wasserstein GANs", arXiv 1704.00028.
    """

    network_kind = "wgan_gp"

    def __init__(self, generator=None, discriminator=None, data_shape=(28, 28, 1), latent_dim=128, d_steps=3,
                 gp_weight=10.0, **kwargs):
        self.gp_weight = v.check_positive_float("gp_weight", gp_weight, allow_zero=True)
        super().__init__(generator, discriminator, data_shape=data_shape, latent_dim=latent_dim, d_steps=d_steps,
                         **kwargs)

    def image_networks(self, condition_dim, seed):
        return (networks.wgan_gp_generator(self.latent_dim, condition_dim, seed=seed),
                networks.wgan_gp_critic(self.data_shape, condition_dim, seed=seed))

    def default_optimizers(self):
        return {name: keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9) for name in OPTIMIZER_NAMES}

    @property
    def metric_names(self):
        return ("d_loss", "g_loss", "wasserstein", "gradient_penalty")

    def discriminator_terms(self, x, fake, real_scores, fake_scores, c):
        gp = losses.gradient_penalties(self.discriminator, x, fake, seed=self.seed_generator, conditions=c)
        per_example = losses.critic_losses(real_scores, fake_scores) + self.gp_weight * gp
        return per_example, {"wasserstein": real_scores - fake_scores, "gradient_penalty": gp}

    def generator_terms(self, fake_scores):
        return losses.critic_generator_losses(fake_scores)

    def get_config(self):
        return {**super().get_config(), "gp_weight": self.gp_weight}


@keras.saving.register_keras_serializable(package="keras_genmodels")
class DCGAN(GAN):
    """Deep convolutional GAN (Radford et al. 2015), trained by `fit`.

    Discriminator loss, per example: BCE(σ(D(x)), 1 − ε) + BCE(σ(D(x̃)), 0)
    (real = 1; ε the one-sided `label_smoothing`); generator loss the
    non-saturating −log σ(D(x̃)) (`gan.losses`). Metrics: `d_loss`,
    `g_loss`, `d_real` and `d_fake` (mean σ(D) on real and generated
    examples: 1/2 each at the game's equilibrium, D* = p_data/(p_data + p_G)).

    With no arguments: the DCGAN pair for 28 x 28 x 1 images in [−1, 1]
    (`networks.dcgan_generator`, `networks.dcgan_discriminator`: weights
    N(0, 0.02), batch normalisation, LeakyReLU(0.2) in the discriminator),
    z of size 100, one discriminator step per generator step; `compile()`
    uses the paper's Adam(2e-4, β₁ = 0.5) for both networks.

    Args:
        generator, discriminator, data_shape, latent_dim, d_steps,
            num_classes, temperature_range, spins, symmetric,
            straight_through, seed: as `GAN`. Defaults: `None`, `None`,
            `(28, 28, 1)`, `100`, `1`, `None`, `None`, `False`, `False`,
            `False`, `None`.
        label_smoothing: ε in [0, 1): the real examples' target 1 − ε.
            Defaults to `0.0`.

    Example:

    ```python
    from keras_genmodels.gan import DCGAN
    model = DCGAN(seed=0, label_smoothing=0.1)
    model.compile()
    model.fit(images, batch_size=128, epochs=5)
    ```

    References:
        Goodfellow et al. 2014, arXiv 1406.2661. Radford, Metz & Chintala
        2015, arXiv 1511.06434. Salimans et al. 2016, arXiv 1606.03498
        (one-sided label smoothing).
    """

    network_kind = "dcgan"

    def __init__(self, generator=None, discriminator=None, data_shape=(28, 28, 1), latent_dim=100, d_steps=1,
                 label_smoothing=0.0, **kwargs):
        ok = not isinstance(label_smoothing, bool)
        try:
            ok = ok and 0.0 <= float(label_smoothing) < 1.0
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ValueError(
                f"`label_smoothing` must be a float in [0, 1). Received: label_smoothing={label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        super().__init__(generator, discriminator, data_shape=data_shape, latent_dim=latent_dim, d_steps=d_steps,
                         **kwargs)

    def image_networks(self, condition_dim, seed):
        return (networks.dcgan_generator(self.latent_dim, condition_dim, seed=seed),
                networks.dcgan_discriminator(self.data_shape, condition_dim, seed=seed))

    def default_optimizers(self):
        return {name: keras.optimizers.Adam(2e-4, beta_1=0.5) for name in OPTIMIZER_NAMES}

    @property
    def metric_names(self):
        return ("d_loss", "g_loss", "d_real", "d_fake")

    def discriminator_terms(self, x, fake, real_scores, fake_scores, c):
        per_example = losses.discriminator_losses(real_scores, fake_scores, self.label_smoothing)
        return per_example, {"d_real": ops.sigmoid(real_scores), "d_fake": ops.sigmoid(fake_scores)}

    def generator_terms(self, fake_scores):
        return losses.generator_losses(fake_scores)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
