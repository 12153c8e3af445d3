"""The registry of model families: what each family offers to the shared machinery.

A family is a folder `keras_genmodels/<family>/` whose module `family.py`
declares, with `register(Family(...))`, what the family offers:

- the classes of its models (so that a saved model is recognised as its own,
  and imported, hence registered with Keras, before a file is loaded);
- its command-line hooks (`keras-genmodels train <family>`, and what
  `evaluate` and `sample` do with its models);
- its TF Serving signatures (`keras_genmodels.export`);
- its preset recipes (`scripts/train_presets.py`, `keras_genmodels.presets`).

The core modules (`cli`, `runner`, `export`, `saving`, `presets`,
`preset_training`) name no family: they ask this registry. Adding a family
is adding a folder; `discover()` imports the `family.py` of every subpackage.

Hooks may be given as objects or as dotted module paths (`"pkg.module"`) or
attributes (`"pkg.module:attr"`), imported when first used, so that building
the command line's parser imports no model code.

Example (a family in a test or a notebook):

```python
from keras_genmodels import families

families.register(families.Family(
    name="toy", summary="A toy model.", models=(ToyModel,), cli=toy_cli,
    signatures=toy_signatures,
))
```
"""

import dataclasses
import importlib
import os
import pkgutil

_REGISTRY = {}
_DISCOVERED = False


@dataclasses.dataclass(frozen=True)
class Family:
    """What one model family offers.

    Attributes:
        name: the family's name: `keras-genmodels train NAME`, the `family`
            of its preset cards. Letters, digits and `_`.
        summary: one line, shown by `keras-genmodels train --help`.
        models: the classes of the family's models (or `"module:Class"`
            paths); `family_of(model)` matches instances of them.
        cli: the command-line hooks (an object or a module path), see
            `keras_genmodels.cli`: `add_train_arguments(parser)`,
            `training(args) -> runner.TrainingPlan`, `evaluate(model, args)
            -> dict`, `sample(model, args) -> runner.Samples`, and optionally
            `add_evaluate_arguments(parser)`, `add_sample_arguments(parser)`.
            `None` for a family without a command line.
        signatures: `signatures(model) -> {name: endpoint}`, the TF Serving
            signatures of a model (see `keras_genmodels.export`), or `None`.
        presets: the preset hooks (an object or a module path), see
            `keras_genmodels.preset_training`: `RECIPES` (name -> recipe),
            `train(recipe, local_dir, verbose) -> preset_training.Trained`
            and `compute_check(model, check, local_dir) -> (value, stderr)`;
            or `None`.
        default_dataset: the data set `evaluate` uses when neither
            `--dataset` nor the model's `history.json` names one. Defaults
            to `None`.
    """

    name: str
    summary: str
    models: tuple = ()
    cli: object = None
    signatures: object = None
    presets: object = None
    default_dataset: str = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(
                "`name` must be a family name of letters, digits and '_'. "
                f"Received: name={self.name!r}"
            )
        if not isinstance(self.summary, str) or not self.summary.strip():
            raise ValueError(f"`summary` must be a non-empty str. Received: summary={self.summary!r}")
        if isinstance(self.models, (str, type)):
            object.__setattr__(self, "models", (self.models,))
        object.__setattr__(self, "models", tuple(self.models))

    def model_classes(self):
        """The classes of the family's models, imported."""
        return tuple(resolve(m) for m in self.models)

    def handles(self, model):
        """Whether `model` is one of the family's models."""
        classes = self.model_classes()
        return bool(classes) and isinstance(model, classes)

    def hooks(self, kind):
        """The hooks of `kind` ("cli", "signatures" or "presets"), imported, or `None`."""
        return resolve(getattr(self, kind))


def resolve(target):
    """`target` itself, or the module `"pkg.module"` or attribute `"pkg.module:attr"` it names."""
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attr) if attr else obj


def register(family, replace=False):
    """Add `family` to the registry; returns it.

    Args:
        family: a `Family`.
        replace: whether a family already registered under that name may be
            replaced. Defaults to `False`.

    Raises:
        ValueError: `family` is not a `Family`, or its name is taken.
    """
    if not isinstance(family, Family):
        raise ValueError(f"Expected a keras_genmodels.families.Family. Received: {family!r}")
    if family.name in _REGISTRY and not replace and _REGISTRY[family.name] != family:
        raise ValueError(
            f"A family named {family.name!r} is already registered. Received another: "
            "pass replace=True to replace it."
        )
    _REGISTRY[family.name] = family
    return family


def unregister(name):
    """Remove the family `name` from the registry (a no-op if absent)."""
    _REGISTRY.pop(name, None)


def discover():
    """Import `keras_genmodels/<sub>/family.py` of every subpackage that has one (once)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = os.path.dirname(os.path.abspath(__file__))
    for info in sorted(pkgutil.iter_modules([package]), key=lambda m: m.name):
        if info.ispkg and os.path.isfile(os.path.join(package, info.name, "family.py")):
            importlib.import_module(f"keras_genmodels.{info.name}.family")
    _DISCOVERED = True


def import_models():
    """Import every registered family's model classes, which registers them with Keras.

    `load_model` calls it before deserialising a file; `import keras_genmodels`
    calls it too (unless `KERAS_GENMODELS_LAZY_IMPORT=1`, as the command line sets).
    """
    for family in all_families().values():
        family.model_classes()


def all_families():
    """Every registered family, by name (the package's own and any registered since)."""
    discover()
    return dict(sorted(_REGISTRY.items()))


def get(name):
    """The family registered as `name`; a `ValueError` lists the valid names."""
    families = all_families()
    if name not in families:
        raise ValueError(
            f"Unknown family {name!r}. Expected one of: {', '.join(families) or 'none registered'}."
        )
    return families[name]


def family_of(model):
    """The family whose model classes `model` is an instance of, or `None`."""
    for family in all_families().values():
        if family.handles(model):
            return family
    return None


def _concrete_classes(classes):
    """`classes` and their subclasses that Keras can deserialise (registered ones), by name."""
    import keras

    seen, stack = {}, list(classes)
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if ">" in keras.saving.get_registered_name(cls) or cls in classes:
            seen.setdefault(cls.__name__, cls)
    registered = [n for n, c in seen.items() if ">" in keras.saving.get_registered_name(c)]
    return sorted(registered) or sorted(seen)


def model_class_names():
    """'family: Class, Class' for every family (its registered model classes), for error messages."""
    return "; ".join(
        f"{name}: {', '.join(_concrete_classes(f.model_classes()))}" for name, f in all_families().items()
    )


def require_family_of(model, what="a keras_genmodels model"):
    """`family_of(model)`, or a `ValueError` naming the registered model classes."""
    family = family_of(model)
    if family is None:
        raise ValueError(
            f"Expected {what} of a registered family ({model_class_names()}). "
            f"Received: {type(model).__module__}.{type(model).__name__}"
        )
    return family
