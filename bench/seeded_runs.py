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


def summarize_keras_io_pairs(runs, steps_key, target=None):
    """Print and return the paired keras-io / ours figures of per-seed runs of a keras-io benchmark.

    Each run holds `seed`, `order`, `budget_seconds`, `ours_description`,
    `steps_ratio`, `differences["fd"]` and, under "keras_io" and "ours",
    `steps_key` (training steps made in the budget) and `quality` (FD, KD,
    precision, recall of `metrics.image_quality`).

    Returns:
        `{figure: {"keras_io", "ours", "difference": (mean, sd), "ours_lower", "ours_higher"},
        "steps_ratio": (mean, sd)}`, the differences paired by seed (ours − keras-io).
    """
    print(f"\n{'seed':>4}  {'first':>8}  {'steps k/o':>11}  {'FD keras-io':>11}  {'FD ours':>8}  {'ours − k':>8}  "
          f"{'KD k/ours':>15}  {'prec k/ours':>11}  {'recall k/ours':>13}")
    for r in runs:
        k, o = r["keras_io"], r["ours"]
        print(f"{r['seed']:>4}  {r['order'][0]:>8}  {k[steps_key]:>5}/{o[steps_key]:<5}  "
              f"{k['quality']['fd']:11.2f}  {o['quality']['fd']:8.2f}  {r['differences']['fd']:+8.2f}  "
              f"{k['quality']['kd_mean']:7.4f}/{o['quality']['kd_mean']:7.4f}  "
              f"{k['quality']['precision']:5.3f}/{o['quality']['precision']:5.3f}  "
              f"{k['quality']['recall']:6.3f}/{o['quality']['recall']:6.3f}")
    figures = {"steps": lambda side: side[steps_key], "fd": lambda side: side["quality"]["fd"],
               "kd": lambda side: side["quality"]["kd_mean"], "precision": lambda side: side["quality"]["precision"],
               "recall": lambda side: side["quality"]["recall"]}
    summary = {}
    for name, of in figures.items():
        k = [of(r["keras_io"]) for r in runs]
        o = [of(r["ours"]) for r in runs]
        summary[name] = {"keras_io": mean_sd(k), "ours": mean_sd(o), "difference": mean_sd(np.subtract(o, k)),
                         "ours_lower": int(np.sum(np.less(o, k))), "ours_higher": int(np.sum(np.greater(o, k)))}
    summary["steps_ratio"] = mean_sd([r["steps_ratio"] for r in runs])
    budgets = sorted({r["budget_seconds"] for r in runs})
    configs = sorted({r["ours_description"] for r in runs})
    print(f"over {len(runs)} seed(s) {[r['seed'] for r in runs]} (mean ± sample sd; budget {budgets} s per side; "
          f"ours = {'; '.join(configs)}):")
    fmt = {"steps": ".1f", "fd": ".2f", "kd": ".4f", "precision": ".3f", "recall": ".3f"}
    for name, f in fmt.items():
        s = summary[name]
        (km, ks), (om, osd), (dm, dsd) = s["keras_io"], s["ours"], s["difference"]
        print(f"  {name:9s}: keras-io {km:{f}} ± {ks:{f}}, ours {om:{f}} ± {osd:{f}}; paired ours − keras-io "
              f"{dm:+{f}} ± {dsd:{f}} (ours lower on {s['ours_lower']}, higher on {s['ours_higher']} of {len(runs)})")
    print(f"  steps ratio ours / keras-io {summary['steps_ratio'][0]:.2f} ± {summary['steps_ratio'][1]:.2f}x"
          + (f" ({target})" if target else ""))
    return summary
