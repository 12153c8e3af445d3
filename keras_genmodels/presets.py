"""Pretrained models shipped with the package, loaded by name.

In the spirit of keras-hub's `from_preset`:

```python
import keras_genmodels
keras_genmodels.list_presets()              # {"vae_fashion_mnist_keras_io": "...", ...}
vae = keras_genmodels.load_pretrained("vae_fashion_mnist_keras_io")
keras_genmodels.presets.preset_card("vae_fashion_mnist_keras_io")["metrics"]
```

The files live in the package itself, in `keras_genmodels/presets/` (declared
as package data, so they are in every wheel and installation, not only in a
source checkout), next to a registry `manifest.json`:

```json
{"format_version": 1,
 "presets": {"NAME": {"file": "NAME.keras", "class": "VAE", "family": "vae",
                      "description": "...", "card": "NAME.json",
                      "card_markdown": "NAME.md", "sha256": "...", "bytes": 123}}}
```

`NAME.json` is the model card (data and split, the command that reproduces
the file, the training time, the held-out metrics) and `NAME.md` the same
card for people. `scripts/train_presets.py NAME` regenerates a preset and
its entry. Every function takes an optional `root`, another folder laid out
the same way (tests use one).
"""

import importlib.resources
import json
import os

from keras_genmodels._files import atomic_write_text
from keras_genmodels.saving import file_sha256  # noqa: F401  (also public here)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_REQUIRED = ("file", "class", "family", "description", "card")


def presets_root():
    """The folder of the installed presets (a `Traversable`, usually a path)."""
    return importlib.resources.files("keras_genmodels").joinpath("presets")


def _root(root):
    return presets_root() if root is None else _as_traversable(root)


def _as_traversable(root):
    import pathlib

    if isinstance(root, (str, os.PathLike)):
        return pathlib.Path(root)
    return root


def read_manifest(root=None):
    """The registry: a dict of preset name -> entry (file, class, family, description, card, ...).

    Args:
        root: folder holding `manifest.json`. Defaults to the installed presets.
    """
    path = _root(root).joinpath(MANIFEST)
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ValueError(f"Expected a JSON preset manifest. Received {str(path)!r} ({e}).") from e
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"Expected a preset manifest with format_version={FORMAT_VERSION}. "
            f"Received {str(path)!r} with format_version="
            f"{manifest.get('format_version') if isinstance(manifest, dict) else None!r}."
        )
    presets = manifest.get("presets", {})
    if not isinstance(presets, dict):
        raise ValueError(
            "Expected the manifest's `presets` to be a JSON object {name: entry}. "
            f"Received {str(path)!r} with presets of type {type(presets).__name__}."
        )
    for name, entry in presets.items():
        if not isinstance(entry, dict):
            raise ValueError(
                f"Expected preset {name!r} of {str(path)!r} to be a JSON object. "
                f"Received: {entry!r}"
            )
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise ValueError(
                f"Preset {name!r} of {str(path)!r} lacks the field(s) {missing}. "
                f"Expected the fields {list(_REQUIRED)}."
            )
    return dict(sorted(presets.items()))


def list_presets(family=None, root=None):
    """The available presets: a dict of name -> one-line description, sorted by name.

    Args:
        family: keep only this family (`"vae"` or `"rbm"`). Defaults to `None` (all).
        root: folder holding `manifest.json`. Defaults to the installed presets.
    """
    return {
        name: entry["description"]
        for name, entry in read_manifest(root).items()
        if family is None or entry["family"] == family
    }


def _entry(name, root):
    if not isinstance(name, str):
        raise ValueError(f"`name` must be a preset name (a str). Received: name={name!r}")
    presets = read_manifest(root)
    if name not in presets:
        valid = ", ".join(repr(n) for n in presets) or "none are installed"
        raise ValueError(f"Unknown preset {name!r}. Available presets: {valid}.")
    return presets[name]


def preset_card(name, root=None):
    """The model card of preset `name`, as a dict (see `scripts/train_presets.py`)."""
    entry = _entry(name, root)
    path = _root(root).joinpath(entry["card"])
    if not path.is_file():
        raise FileNotFoundError(f"The card {entry['card']!r} of preset {name!r} is missing.")
    return json.loads(path.read_text(encoding="utf-8"))


def load_pretrained(name, root=None, compile=False):
    """Load the pretrained model `name` with `safe_mode=True`.

    The file's SHA-256 is checked against the registry first, so a truncated
    file (or a Git LFS pointer in its place) gives a clear error.

    Args:
        name: a preset name (see `list_presets()`).
        root: folder holding the presets. Defaults to the installed presets.
        compile: whether to restore the training configuration. Defaults to
            `False` (the files carry no optimizer state).

    Returns:
        The model (a `VAE`, `BernoulliRBM`, ...).

    Raises:
        ValueError: unknown name (the message lists the valid ones), or a
            file that does not match the registry.
        FileNotFoundError: the registry names a file that is missing.

    Example:

    >>> vae = keras_genmodels.load_pretrained("vae_fashion_mnist_keras_io")
    >>> images = vae.sample(16, seed=0)
    """
    from keras_genmodels.saving import load_model

    entry = _entry(name, root)
    resource = _root(root).joinpath(entry["file"])
    if not resource.is_file():
        raise FileNotFoundError(
            f"Preset {name!r}: its file {entry['file']!r} is missing from {str(_root(root))!r}."
        )
    with importlib.resources.as_file(resource) as path:
        if "sha256" in entry:
            digest = file_sha256(path)
            if digest != entry["sha256"]:
                raise ValueError(
                    f"Preset {name!r}: {entry['file']!r} has SHA-256 {digest[:12]}..., "
                    f"expected {entry['sha256'][:12]}... from the registry: the file is "
                    f"corrupt, truncated or was replaced ({os.path.getsize(path)} bytes, "
                    f"expected {entry.get('bytes')})."
                )
        model = load_model(path, safe_mode=True, compile=compile)
    if type(model).__name__ != entry["class"]:
        raise ValueError(
            f"Preset {name!r}: expected a {entry['class']} from the registry. "
            f"Received a {type(model).__name__} from {entry['file']!r}."
        )
    return model




def register_preset(root, name, *, file, class_name, family, description, card, card_markdown=None):
    """Add or replace preset `name` in `root/manifest.json` (written atomically).

    Records the SHA-256 and size of `root/file`, which must exist.

    Args:
        root: the presets folder (a path).
        name: preset name.
        file, card, card_markdown: file names relative to `root`.
        class_name: the model's class name.
        family: `"vae"` or `"rbm"`.
        description: one line.

    Returns:
        The entry written.
    """
    root = os.fspath(root)
    path = os.path.join(root, file)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected the preset file {path!r} to exist.")
    entry = {
        "file": file,
        "class": class_name,
        "family": family,
        "description": description,
        "card": card,
        "sha256": file_sha256(path),
        "bytes": os.path.getsize(path),
    }
    if card_markdown is not None:
        entry["card_markdown"] = card_markdown
    presets = read_manifest(root)
    presets[name] = entry
    manifest = {"format_version": FORMAT_VERSION, "presets": dict(sorted(presets.items()))}
    atomic_write_text(os.path.join(root, MANIFEST), json.dumps(manifest, indent=2) + "\n")
    return entry
