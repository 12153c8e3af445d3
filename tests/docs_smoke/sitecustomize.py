"""Small sizes for the documentation's snippets, when `KERAS_GENMODELS_DOCS_SMOKE=1`.

`tests/test_docs.py` runs every Python block and shell command of README.md and
docs/*.md as printed, with this folder on `PYTHONPATH`: Python imports
`sitecustomize` at start-up, in the snippets' interpreter and in every
`keras-genmodels` or `python scripts/...` process they start. With the variable
set, an import hook patches the library's modules right after each is first
executed (before any `from ... import ...` elsewhere binds their names), so
that the snippets' 30-epoch trainings and 5000-sample bounds run in seconds.
The library itself knows nothing of this. Without the variable this file
does nothing (but hand over to any `sitecustomize` it hides).

What is capped, and to what (`PATCHES` below):

| module | call | capped |
|---|---|---|
| `generative_model` | `GenerativeModel.fit` | 1 epoch after `initial_epoch`; NumPy `x` and `validation_data` to 256 rows, datasets to 2 batches; `steps_per_epoch`, `validation_steps` to 2 |
| `vae.evaluation` | `elbo` | data to 256 rows (2 batches) |
| `vae.evaluation` | `importance_weighted_bound` | K to 8; data to 16 rows (1 batch) |
| `rbm.contrastive` | `ContrastiveDivergence.compile` (the RBMs') | `jit_compile=False`: XLA takes ~7 s of CPU to compile the chunked training loop that then runs 3 steps |
| `rbm.partition` | `log_partition_ais` | schedule to `default_ais_schedule(0.005)` (73 betas); 16 chains |
| `rbm.eager` | `RBMEagerMethods.sample`, `.gibbs_states` (and so `gibbs`) | 10 Gibbs sweeps |
| `ebm.model` | `EnergyBasedModel.sample`, `.sample_chain` | 20 Langevin steps; `sample`'s `n` to 256 |
| `physics.data` | `generate` (and so `load`) | 64 configurations per temperature |
| `datasets` | `load` | `limit` 256 examples |
| `metrics.images` | `image_quality` | `n` to 500 images of each set, `kd_subsets` to 10 |
| `runner` | `quality_samples` (`evaluate --quality`) | 500 samples |
| `cli` | `main` | with `KERAS_GENMODELS_DOCS_PARSE_ONLY=1` too: parses the arguments and stops |
"""

import os
import sys


def _hand_over():
    """Run the `sitecustomize` that this one hides on `sys.path`, if any."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


ROWS = 256  # NumPy rows of fit and elbo
BATCHES = 2  # dataset batches of fit (per epoch) and elbo
IW_SAMPLES, IW_ROWS = 8, 16
AIS_SCALE, AIS_CHAINS = 0.005, 16
GIBBS_STEPS = 10
LANGEVIN_STEPS = 20  # steps of an energy-based model's sample and sample_chain
ISING_PER_TEMPERATURE = 64
DATASET_LIMIT = 256
QUALITY_IMAGES, QUALITY_KD_SUBSETS = 500, 10


def _small(data, rows, batches):
    """`data` cut to `rows` rows (NumPy arrays, lists, tuples of them) or `batches` batches (tf.data)."""
    import numpy as np

    if isinstance(data, (np.ndarray, list)):
        return data[:rows]
    if isinstance(data, tuple):
        return tuple(_small(d, rows, batches) for d in data)
    if type(data).__module__.startswith("tensorflow") and hasattr(data, "take"):
        return data.take(batches)
    return data


def _at_most(limit):
    return lambda value, arguments: limit if value is None else min(value, limit)


def _capped(fn, **caps):
    """`fn` with some arguments replaced by `cap(value, arguments)` before the call."""
    import functools
    import inspect

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for name, cap in caps.items():
            bound.arguments[name] = cap(bound.arguments[name], bound.arguments)
        return fn(*bound.args, **bound.kwargs)

    return wrapper


def _patch_generative_model(module):
    def epochs(value, arguments):
        return min(value, arguments["kwargs"].get("initial_epoch", 0) + 1)

    def kwargs(value, arguments):
        value = dict(value)
        for key in ("steps_per_epoch", "validation_steps"):
            if value.get(key):
                value[key] = min(value[key], BATCHES)
        return value

    model = module.GenerativeModel
    model.fit = _capped(
        model.fit,
        epochs=epochs,
        kwargs=kwargs,
        x=lambda x, a: _small(x, ROWS, BATCHES),
        validation_data=lambda x, a: _small(x, ROWS, BATCHES),
    )


def _patch_vae_evaluation(module):
    module.elbo = _capped(module.elbo, data=lambda x, a: _small(x, ROWS, BATCHES))
    module.importance_weighted_bound = _capped(
        module.importance_weighted_bound,
        data=lambda x, a: _small(x, IW_ROWS, 1),
        num_samples=_at_most(IW_SAMPLES),
    )


def _patch_rbm_contrastive(module):
    rbm = module.ContrastiveDivergence
    rbm.compile = _capped(rbm.compile, jit_compile=lambda value, arguments: False)


def _patch_rbm_partition(module):
    short = module.default_ais_schedule(AIS_SCALE)

    def betas(value, arguments):
        return short if value is None or len(value) > len(short) else value

    module.log_partition_ais = _capped(
        module.log_partition_ais, betas=betas, n_chains=_at_most(AIS_CHAINS)
    )


def _patch_rbm_eager(module):
    methods = module.RBMEagerMethods
    methods.sample = _capped(methods.sample, steps=_at_most(GIBBS_STEPS))
    methods.gibbs_states = _capped(methods.gibbs_states, steps=_at_most(GIBBS_STEPS))


def _patch_ebm_model(module):
    model = module.EnergyBasedModel
    model.sample = _capped(model.sample, n=_at_most(ROWS), steps=_at_most(LANGEVIN_STEPS))
    model.sample_chain = _capped(model.sample_chain, steps=_at_most(LANGEVIN_STEPS))


def _patch_physics_data(module):
    module.generate = _capped(module.generate, n_per_temperature=_at_most(ISING_PER_TEMPERATURE))


def _patch_datasets(module):
    module.load = _capped(module.load, limit=_at_most(DATASET_LIMIT))


def _patch_metrics_images(module):
    module.image_quality = _capped(
        module.image_quality, n=_at_most(QUALITY_IMAGES), kd_subsets=_at_most(QUALITY_KD_SUBSETS)
    )


def _patch_runner(module):
    module.quality_samples = _capped(module.quality_samples, n=_at_most(QUALITY_IMAGES))


def _patch_cli(module):
    import functools

    run = module.main

    @functools.wraps(run)
    def main(argv=None):
        if os.environ.get("KERAS_GENMODELS_DOCS_PARSE_ONLY") != "1":
            return run(argv)
        parser, _ = module.build_parser()
        try:
            parser.parse_args(argv)
        except SystemExit as e:  # --help, --version, or a bad argument
            return e.code
        print("keras-genmodels: arguments parsed, not run (KERAS_GENMODELS_DOCS_PARSE_ONLY=1)")
        return 0

    module.main = main


PATCHES = {
    "keras_genmodels.generative_model": _patch_generative_model,
    "keras_genmodels.vae.evaluation": _patch_vae_evaluation,
    "keras_genmodels.rbm.contrastive": _patch_rbm_contrastive,
    "keras_genmodels.rbm.partition": _patch_rbm_partition,
    "keras_genmodels.rbm.eager": _patch_rbm_eager,
    "keras_genmodels.ebm.model": _patch_ebm_model,
    "keras_genmodels.physics.data": _patch_physics_data,
    "keras_genmodels.datasets": _patch_datasets,
    "keras_genmodels.metrics.images": _patch_metrics_images,
    "keras_genmodels.runner": _patch_runner,
    "keras_genmodels.cli": _patch_cli,
}


def _install_import_hook():
    import importlib.abc

    class PatchingLoader(importlib.abc.Loader):
        """The module's own loader, then its patch."""

        def __init__(self, loader, patch):
            self.loader, self.patch = loader, patch

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            self.loader.exec_module(module)
            self.patch(module)

        def __getattr__(self, name):  # get_source, get_resource_reader, is_package, ...
            return getattr(self.loader, name)

    class PatchingFinder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name not in PATCHES:
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None:
                        spec.loader = PatchingLoader(spec.loader, PATCHES[name])
                    return spec
            return None

    sys.meta_path.insert(0, PatchingFinder())


if os.environ.get("KERAS_GENMODELS_DOCS_SMOKE") == "1":
    _install_import_hook()
_hand_over()
