"""What the side-by-side benchmarks share: the machine's description, per-seed JSON files, mean ± sd.

`bench/keras_io_wgan_gp.py`, `bench/foster_ebm.py` and `bench/keras_io_ddim.py`
each compare a published recipe with ours at an equal wall-clock budget,
one JSON file per seed (`NAME_seed{S}.json` in a results folder), and
summarise the seeds as mean ± sample standard deviation. Run as scripts
(`python bench/NAME.py`), they import this module from their own folder.
"""

import glob
import os
import platform

import numpy as np

from keras_genmodels._files import atomic_write_json

THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS",
                    "XLA_FLAGS", "TF_XLA_FLAGS")


def environment():
    """The machine and library versions of a run: cores, versions, load, TensorFlow's devices and threads."""
    import keras
    import tensorflow as tf

    env = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    return {"cores": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__, "load_average": os.getloadavg(),
            "devices": [d.device_type + ":" + d.name for d in tf.config.list_physical_devices()],
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "environment_variables": {k: v for k, v in env.items() if v is not None}}


def mean_sd(values):
    """`(mean, sample sd)` of `values` (sd with ddof = 1; 0 for one value)."""
    values = np.asarray(values, "float64")
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def seed_path(results_dir, name, seed):
    """The JSON file of one seed: `results_dir/NAME_seed{seed}.json`."""
    return os.path.join(results_dir, f"{name}_seed{seed}.json")


def load_seeds(results_dir, name, seeds=None):
    """The results of `results_dir/NAME_seed*.json` (only `seeds` if given), sorted by seed."""
    import json

    runs = []
    for path in sorted(glob.glob(os.path.join(results_dir, f"{name}_seed*.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    if seeds is not None:
        runs = [r for r in runs if r["seed"] in seeds]
    return sorted(runs, key=lambda r: r["seed"])


def write_json(path, data):
    """Write `data` as JSON to `path` atomically, creating its folder; the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_json(path, data)
    return path
