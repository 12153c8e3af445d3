"""Attributes of a package imported when first used (PEP 562).

The command line builds its parser, answers `--help` and refuses bad
arguments without importing TensorFlow (about 4 s): the family packages and
the top-level package therefore import their TensorFlow-heavy modules only
when one of their names is first used. `import keras_genmodels` still imports
and registers every model class at once (see `keras_genmodels/__init__.py`).

Example (a package's `__init__.py`):

```python
from keras_genmodels._lazy import lazy_attributes

__getattr__, __dir__ = lazy_attributes(__name__, {"VAE": "model", "elbo": "evaluation"})
```
"""

import importlib
import sys


def lazy_attributes(package, names):
    """`(__getattr__, __dir__)` for the package `package`.

    Args:
        package: the package's `__name__`.
        names: `{attribute: submodule}`: `package.attribute` is the attribute
            of that name in `package.submodule`, imported on first use. Any
            other name is tried as a submodule (`package.name`).
    """

    def __getattr__(name):
        if name in names:
            value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as e:
                if e.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
