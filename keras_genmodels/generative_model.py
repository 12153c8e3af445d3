"""`GenerativeModel`: the base of every model that trains with its own `train_step`.

What the base gives a family, so that a family writes its math and its step:

- `fit` on NumPy arrays, batched by the model itself without tf.data's
  autotuning (`keras_genmodels._arrays`), after the family's eager check of
  the data (`check_training_data`); datasets go to Keras's `fit` unchanged.
- Random state that survives saving: the state of every
  `keras.random.SeedGenerator` of the model and of its layers is written to
  the `.keras` file (and to `save_weights` files) and restored on loading, so
  a reloaded model continues each random stream where the saved one stood.
- `compile` with one optimizer or several named ones
  (`optimizer={"generator": ..., "critic": ...}`), each serialised in the
  `.keras` file with its state, so that training resumes.
- `sample(n, seed=None)`: the one sampling call of every family.

A family's math stays in `keras.ops`, with a thin TensorFlow `train_step`;
everything here runs eagerly, before and around `fit`.

Example (a family's model):

```python
@keras.saving.register_keras_serializable(package="keras_genmodels")
class MyModel(GenerativeModel):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.noise = keras.random.SeedGenerator(seed)   # saved with the model
        ...
    def train_step(self, data): ...
    def sample(self, n, seed=None): ...
```
"""

import keras
import numpy as np

from keras_genmodels import _arrays, distribute
from keras_genmodels import _validation as v

# The key under which the i-th seed generator's state is saved.
_SEED_STATE_KEY = "seed_state_{}"


class GenerativeModel(keras.Model):
    """Base class of the library's generative models (not registered; abstract).

    Subclasses implement `train_step` (and `test_step`), `sample(n, seed=None)`,
    and, where they refine the defaults:

    - `check_training_data(x, name)`: the eager check of NumPy training and
      validation data (default: a real-valued array);
    - `data_seed_generator()`: the generator whose state seeds the order of
      NumPy data in `fit` (default: the model's first seed generator);
    - `fit_callbacks(x, validation_data, callbacks)`: callbacks `fit` adds;
    - `fit_arrays(x, batch_size, shuffle, seed, **fit_args)`: how NumPy data
      is fed (default: `_arrays.batches`);
    - `optimizer_variables()`: which variables each named optimizer updates.

    Class attributes:
        batches_targets: whether `fit(x, y)` with NumPy `y` batches `(x, y)`
            pairs in the model's own pipeline (a conditional model's labels);
            otherwise such a call goes to Keras's pipeline. Defaults to `False`.
        seed_state_aliases: `{old key: new key}` for seed states that files
            written by earlier releases stored under other names.
    """

    seed_state_aliases = {}
    batches_targets = False

    # ------------------------------------------------------------- sampling
    def sample(self, n, seed=None):
        """Draw `n` samples from the model; `seed` an int for reproducible draws.

        Without `seed` the draws continue the model's own random stream (which
        `save` and `load` carry over).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement sample(n, seed=None).")

    # --------------------------------------------------------- random state
    def seed_generators(self):
        """Every `keras.random.SeedGenerator` of the model and its layers, in a fixed order."""
        seen, generators = set(), []
        for layer in self._flatten_layers(include_self=True, recursive=True):
            for generator in getattr(layer, "_seed_generators", ()):
                if id(generator) not in seen:
                    seen.add(id(generator))
                    generators.append(generator)
        return generators

    def save_own_variables(self, store):
        """Save the variables, and the state of every seed generator too.

        Keras saves no `SeedGenerator` state: a reloaded model would replay
        the random stream from its seed (the same noise again, the same
        "fresh" samples). Saving them makes resumed training and sampling
        continue their streams.
        """
        super().save_own_variables(store)
        for i, generator in enumerate(self.seed_generators()):
            store[_SEED_STATE_KEY.format(i)] = generator.state

    def load_own_variables(self, store):
        """Load what `save_own_variables` saved (files without seed states load too)."""
        keys = list(store.keys())
        extra = [k for k in keys if not k.isdigit()]  # Keras numbers variables "0", "1", ...
        super().load_own_variables({k: store[k] for k in keys if k.isdigit()})
        generators = self.seed_generators()
        for key in extra:
            name = self.seed_state_aliases.get(key, key)
            index = name[len("seed_state_"):] if name.startswith("seed_state_") else ""
            if not index.isdigit() or int(index) >= len(generators):
                raise ValueError(
                    f"Expected the saved seed states of {len(generators)} seed generator(s) of "
                    f"{type(self).__name__}. Received an entry {key!r} that matches none."
                )
            generators[int(index)].state.assign(store[key])

    def data_seed_generator(self):
        """The generator whose state seeds the order of NumPy data in `fit` (or `None`)."""
        generators = self.seed_generators()
        return generators[0] if generators else None

    # ------------------------------------------------------------ optimizers
    def compile(self, optimizer="adam", **kwargs):
        """`keras.Model.compile`, with one optimizer or several named ones.

        Args:
            optimizer: an optimizer (name, config or instance), or a dict of
                them, `{name: optimizer}`, for models whose step updates
                several sets of variables (a GAN's generator and critic;
                see `optimizer_variables`). `model.optimizer` is then the
                first one, and `model.optimizers` the dict. Defaults to
                `"adam"`.
            **kwargs: other `keras.Model.compile` arguments. Under a
                `tf.distribute` strategy with several replicas,
                `steps_per_execution` is set to 1 and `jit_compile` to
                `False` (`distribute.supported_compile_arguments`).

        The optimizers' variables are built here, eagerly, so that a first
        `fit` that fails on bad input leaves no variable to be created inside
        a later trace of the training step.
        """
        kwargs = distribute.supported_compile_arguments(
            kwargs, getattr(self, "distribute_strategy", None)
        )
        named = None
        if isinstance(optimizer, dict):
            if not optimizer:
                raise ValueError("`optimizer` must be an optimizer or a non-empty dict of them. Received: {}")
            named = {}
            for name, opt in optimizer.items():
                if not isinstance(name, str) or not name.isidentifier():
                    raise ValueError(
                        "The names of `optimizer` must be identifiers such as 'generator'. "
                        f"Received: {name!r}"
                    )
                named[name] = keras.optimizers.get(opt)
            optimizer = next(iter(named.values()))
        super().compile(optimizer=optimizer, **kwargs)
        if named is not None:
            self.optimizers = named
            self._compile_config.config["optimizer"] = dict(named)
        self.build_optimizers()

    def compile_from_config(self, config):
        """Recompile a loaded model; its optimizers' states are then loaded from the file."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    def named_optimizers(self):
        """`{name: optimizer}`: those passed as a dict to `compile`, else `{"optimizer": model.optimizer}`."""
        named = getattr(self, "optimizers", None)
        if named:
            return dict(named)
        return {"optimizer": self.optimizer} if getattr(self, "optimizer", None) is not None else {}

    def optimizer_variables(self):
        """`{optimizer name: variables it updates}`; by default every trainable variable.

        A model compiled with several named optimizers overrides this (each
        name of `compile`'s dict must appear).
        """
        names = list(self.named_optimizers())
        if len(names) > 1:
            raise NotImplementedError(
                f"{type(self).__name__} was compiled with the optimizers {names}: it must "
                "override optimizer_variables() to say which variables each one updates."
            )
        return {name: self.trainable_variables for name in names}

    def build_optimizers(self):
        """Create every optimizer's variables (slots) for the variables it updates."""
        variables = self.optimizer_variables()
        for name, optimizer in self.named_optimizers().items():
            if name not in variables:
                raise ValueError(
                    f"{type(self).__name__}.optimizer_variables() names no variables for the "
                    f"optimizer {name!r}. Received names: {sorted(variables)}"
                )
            if not optimizer.built:
                optimizer.build(variables[name])

    # ------------------------------------------------------------------ fit
    def check_training_data(self, x, name="x"):
        """Check NumPy (or list) training data eagerly; return it as a NumPy array.

        The default accepts any real-valued array (NaN and Inf are left to the
        step's graph check). Families check shapes and value ranges here, with
        messages that name what was expected and what was received.
        """
        return v.check_array(name, x, check_finite=False)

    def fit_callbacks(self, x, validation_data, callbacks):
        """The callbacks of `fit`: `callbacks` (a list), plus any the family adds."""
        return callbacks

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        **kwargs,
    ):
        """`keras.Model.fit`, with NumPy data checked up front and batched by the model.

        NumPy (or list) `x` and `validation_data` are checked eagerly by
        `check_training_data`, before anything is traced, so that bad data
        gives a `ValueError` naming what was expected and what was received.

        NumPy features alone (no targets, `sample_weight`, `class_weight` or
        `steps_per_epoch`; `shuffle` a bool; no `tf.distribute` strategy) are
        batched by the model as Keras would batch them (`validation_split`
        takes the last fraction, every example once per epoch, the last batch
        smaller, a new order each epoch from the model's random state) but
        without tf.data's autotuning, which stalls the start of each of
        Keras's epochs by seconds on a CPU (`keras_genmodels._arrays`).
        Anything else goes to `keras.Model.fit` unchanged, after a check of a
        dataset's first batch. The progress bar (`verbose=1`) counts
        mini-batches (`training.StepProgbar`).
        """
        if batch_size is not None:
            batch_size = v.check_positive_int("batch_size", batch_size)
        if isinstance(x, (np.ndarray, list)):
            x = self.check_training_data(x, "x")
        else:
            self._check_first_batch(x, "x")
        validation_data = self._checked_validation_data(validation_data)
        own_pipeline = _arrays.own_pipeline_applies(self, x, y, kwargs)
        if own_pipeline:
            batch_size = 32 if batch_size is None else batch_size
            if validation_split and validation_data is None:  # Keras: validation_data wins
                x, validation_data = _arrays.split_for_validation(x, validation_split)
                if y is not None:
                    y, y_validation = _arrays.split_for_validation(y, validation_split)
                    validation_data = (validation_data, y_validation)
            if y is not None:  # a model with `batches_targets`: batches of (x, y)
                x, y = (x, y), None
        callbacks = self.fit_callbacks(x, validation_data, list(callbacks or []))
        if verbose in (1, "auto") and not any(isinstance(c, keras.callbacks.ProgbarLogger) for c in callbacks):
            from keras_genmodels.training import StepProgbar

            callbacks.append(StepProgbar())
        fit_args = dict(epochs=epochs, verbose=verbose, callbacks=callbacks, **kwargs)
        if not own_pipeline:
            if _is_tf_dataset(x):
                # A dataset shuffles itself; Keras would warn that `shuffle=True` is ignored.
                fit_args.setdefault("shuffle", False)
            return super().fit(
                x, y, batch_size=batch_size, validation_split=validation_split,
                validation_data=validation_data, **fit_args,
            )
        fit_args["validation_batch_size"] = fit_args.get("validation_batch_size") or batch_size
        fit_args["validation_data"] = _arrays.validation_batches(
            validation_data, fit_args["validation_batch_size"]
        )
        shuffle = fit_args.pop("shuffle", True)
        generator = self.data_seed_generator()
        seed = 0 if generator is None else _arrays.seed_from_state(generator)
        return self.fit_arrays(x, batch_size, shuffle, seed, **fit_args)

    def fit_arrays(self, x, batch_size, shuffle, seed, **fit_args):
        """Run Keras's `fit` on the NumPy array `x`, batched by `_arrays.batches`."""
        return keras.Model.fit(
            self, _arrays.batches(x, batch_size, shuffle, seed), shuffle=False, **fit_args
        )

    def _check_first_batch(self, dataset, name):
        """`check_training_data` on the first batch of a `tf.data.Dataset`, eagerly.

        Bad data then get the family's one-line `ValueError` before anything
        is traced; the step's graph checks still cover the later batches.
        """
        if not _is_tf_dataset(dataset):
            return
        for element in dataset.take(1):
            x, _, _ = keras.utils.unpack_x_y_sample_weight(element)
            self.check_training_data(keras.ops.convert_to_numpy(x), f"{name} (first batch)")

    def _checked_validation_data(self, validation_data):
        """NumPy `validation_data` (an array, or its first element) checked by `check_training_data`."""
        if isinstance(validation_data, (np.ndarray, list)):
            return self.check_training_data(validation_data, "validation_data")
        self._check_first_batch(validation_data, "validation_data")
        if isinstance(validation_data, tuple) and validation_data and isinstance(
            validation_data[0], (np.ndarray, list)
        ):
            first = self.check_training_data(validation_data[0], "validation_data")
            return (first,) + tuple(validation_data[1:])
        return validation_data


def _is_tf_dataset(data):
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(data, tf.data.Dataset)
