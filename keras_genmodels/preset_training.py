"""Training, evaluating and registering the pretrained presets, for every family.

    python scripts/train_presets.py --list                        # the recipes, one per preset
    python scripts/train_presets.py vae_fashion_mnist_keras_io    # -> keras_genmodels/presets/
    python scripts/train_presets.py all                           # every preset, one after another
    python scripts/train_presets.py rbm_ising_l4_tc --smoke --out /tmp/presets   # seconds
    python scripts/train_presets.py vae_fashion_mnist_keras_io --from-model saved_models/vae_fashion_mnist
        # evaluate and register the model of a `keras-genmodels train vae` run with the recipe

Each family declares its presets (`Family.presets`, see
`keras_genmodels.families`): `RECIPES` (name -> recipe: every hyperparameter),
`HEADLINE` (check metric -> the card's headline metric), `train(recipe,
local_dir, verbose) -> Trained` and `compute_check(model, check, local_dir)
-> (value, stderr)`, and optionally `accepts_cli_run(recipe)` and
`from_cli_run(recipe, folder)` for `--from-model`. This module does the rest,
the same for every family: for each preset NAME it trains the model of its
recipe, evaluates it on held-out data, and writes into the output folder (by
default the package's data folder `keras_genmodels/presets/`, so that the
files ship in the wheel):

- `NAME.keras`: the model, without optimizer state (small; loads with
  `safe_mode=True`);
- `NAME.json`: its model card: data and split, the command, the training
  time on this machine, the held-out metrics, and a `check` (a metric on a
  fixed subset, seeded, with a tolerance) that `tests/test_presets.py`
  recomputes from the committed file with `compute_check`;
- `NAME.md`: the same card for people;
- its entry in `manifest.json` (the registry read by
  `keras_genmodels.load_pretrained`).

`--smoke` replaces the sizes by tiny ones (a few hundred examples, one epoch,
K = 8, a short AIS schedule, `SMOKE`): it checks the whole pipeline in
seconds and marks the card `"smoke": true`. It refuses to write into the
package folder.
"""

import argparse
import copy
import dataclasses
import datetime
import json
import math
import os
import platform
import sys

import numpy as np

from keras_genmodels import families

PACKAGE_PRESETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "presets")
SCRIPT = "scripts/train_presets.py"

# Tiny sizes for `--smoke` (the pipeline end to end in seconds).
SMOKE = {
    "train_limit": 512,
    "test_limit": 256,
    "epochs": 1,
    "iw_samples": 8,
    "iw_examples": 16,
    "check_examples": 64,
    "select_candidates": 2,
    "select_examples": 32,
    "ais_betas": 200,
    "ais_chains": 8,
    "ising_n_train": 2000,
    "ising_n_test": 500,
    "sample_size": 200,
    "gibbs_steps": 20,
    "exact_steps": 20,
}


@dataclasses.dataclass
class Trained:
    """What a family's preset `train` returns: the model and its evaluation.

    Attributes:
        model: the trained model, without optimizer state (`strip_optimizer`).
        train_seconds: training time.
        history: `{metric: [value per epoch or log step]}`.
        metrics: the held-out metrics for the card (in the recipe's `units`, nats by default).
        check: `{"metric", ..., "tolerance"}`: what `compute_check` recomputes.
        eval_seconds: evaluation time.
        selection: the model-selection record, or `None`.
    """

    model: object
    train_seconds: float
    history: dict
    metrics: dict
    check: dict
    eval_seconds: float
    selection: dict = None


def recipes():
    """Every preset recipe of every family: name -> recipe (sorted by name)."""
    out = {}
    for family in families.all_families().values():
        hooks = family.hooks("presets")
        for name, r in (getattr(hooks, "RECIPES", None) or {}).items():
            out[name] = dict(r, family=family.name)
    return dict(sorted(out.items()))


def recipe(name, smoke=False):
    """The recipe of preset `name` (a copy), with the `--smoke` sizes applied if asked."""
    all_recipes = recipes()
    if name not in all_recipes:
        raise ValueError(f"Unknown preset {name!r}. Available: {', '.join(all_recipes)}.")
    r = copy.deepcopy(all_recipes[name])
    r["name"] = name
    if not smoke:
        return r
    if "epochs" in r["train"]:
        r["train"]["epochs"] = SMOKE["epochs"]
    if "steps" in r["train"]:
        r["train"]["steps"] = SMOKE["exact_steps"]
    ev = r["evaluate"]
    if r["kind"] == "image":
        r["data"]["train_limit"] = SMOKE["train_limit"]
        r["data"]["test_limit"] = SMOKE["test_limit"]
    else:
        r["data"]["n_train"] = SMOKE["ising_n_train"]
        r["data"]["n_test"] = SMOKE["ising_n_test"]
    for key in ("iw_samples", "iw_examples", "check_examples", "sample_size", "gibbs_steps"):
        if key in ev:
            ev[key] = SMOKE[key]
    if "ais_chains" in ev:
        ev["ais_chains"] = SMOKE["ais_chains"]
        ev["ais_schedule"] = SMOKE["ais_betas"]
    if "select" in r:
        s = r["select"]
        s["candidates"] = s["candidates"][: SMOKE["select_candidates"]]
        s["epochs"] = SMOKE["epochs"]
        s["iw_samples"] = SMOKE["iw_samples"]
        s["iw_examples"] = SMOKE["select_examples"]
        s.pop("note", None)
    return r


# ---------------------------------------------------------------------------
# Helpers of the families' preset hooks


def stderr(values):
    """The standard error of the mean of `values` (NaN for fewer than 2)."""
    values = np.asarray(values, "float64")
    return float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else float("nan")


def strip_optimizer(model):
    """A copy of `model` without optimizer state (and identical outputs)."""
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def compute_check(model, check, local_dir=None):
    """Recompute the card's `check` metric of `model` with its family's `compute_check`: `(value, stderr)`."""
    family = families.require_family_of(model)
    return family.hooks("presets").compute_check(model, check, local_dir=local_dir)


def _family_hooks(r):
    return families.get(r["family"]).hooks("presets")


# ---------------------------------------------------------------------------
# The card


def timing_note(load_start, load_end, cpu_count=None, niceness=None):
    """A line for the card on how far the measured times are from an idle machine's.

    `niceness` (this process's, `os.nice(0)`, by default) is named only when it is above 0.
    """
    cpu_count = cpu_count or os.cpu_count() or 1
    if max(load_start, load_end) <= 0.75 * cpu_count:
        return None
    niceness = os.nice(0) if niceness is None else niceness
    nice = f"; this job ran under `nice -n {niceness}`" if niceness > 0 else ""
    return (
        f"the machine was shared with other jobs (1-min load average {load_start:.1f} at the start "
        f"and {load_end:.1f} at the end, on {cpu_count} cores{nice}): "
        f"the times are as measured, longer than on an idle machine"
    )


def _timing_note_of(r, load_start, load_end):
    note = timing_note(load_start, load_end)
    if not r.get("trained_by"):
        return note
    return (
        f"the training time is the one that `{r['trained_by'].split(' --')[0]}` recorded in "
        f"{r['from_model']}/history.json (on this machine; see saved_models/README.md); "
        + ("the evaluation ran here, where " + note if note else "the evaluation ran here")
    )


def machine():
    """The platform, processor, core count and library versions, for a card."""
    import keras
    import tensorflow as tf

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def train_preset(name, out=None, smoke=False, local_dir=None, verbose=0, from_model=None):
    """Train, evaluate and register preset `name` in `out`; returns its card (a dict).

    `from_model`: instead of training, take the model that a `keras-genmodels
    train` run trained into that folder with the same recipe (where the
    family's `accepts_cli_run` allows it); the card then records that command
    and its training time.
    """
    import keras_genmodels
    from keras_genmodels import presets
    from keras_genmodels._files import atomic_write_json, atomic_write_text
    from keras_genmodels.saving import save_model

    r = recipe(name, smoke=smoke)
    hooks = _family_hooks(r)
    if from_model is not None:
        refusal = getattr(hooks, "accepts_cli_run", lambda r: "--from-model applies to no preset of this family")(r)
        if refusal or smoke:
            raise ValueError(f"{refusal or '--from-model does not apply with --smoke'}; not to "
                             f"{name!r}{' with --smoke' if smoke else ''}.")
        r["from_model"] = from_model
    out = os.path.abspath(out or PACKAGE_PRESETS)
    if smoke and out == os.path.abspath(PACKAGE_PRESETS):
        raise ValueError("--smoke writes toy models: pass --out DIR outside the package folder.")
    os.makedirs(out, exist_ok=True)
    if from_model is not None:
        print(f"[{name}] taking the model trained in {from_model}; evaluating it", flush=True)
    else:
        print(f"[{name}] training ({'smoke' if smoke else 'full'} settings)", flush=True)
    load_start = os.getloadavg()[0]
    trained = hooks.train(r, local_dir, verbose)
    load_end = os.getloadavg()[0]
    model, check = trained.model, trained.check
    # The check, computed by the very function the tests call.
    check["value"], check["stderr"] = compute_check(model, check, local_dir=local_dir)
    check["headline"] = hooks.HEADLINE[check["metric"]]

    file = f"{name}.keras"
    save_model(model, os.path.join(out, file))
    os.chmod(os.path.join(out, file), 0o644)
    command = f"python {SCRIPT} {name}"
    if out != os.path.abspath(PACKAGE_PRESETS):
        command += f" --out {out}"
    if smoke:
        command += " --smoke"
    if r.get("trained_by"):
        command = f"{r['trained_by']} && {command} --from-model {r['from_model']}"
    card = {
        "name": name,
        "description": r["description"],
        "class": type(model).__name__,
        "family": r["family"],
        "file": file,
        "smoke": smoke,
        "command": command,
        "trained_by": r.get("trained_by"),
        "data": r["data"],
        "model": r["model"],
        "train": r["train"],
        "evaluate": r["evaluate"],
        "selection": trained.selection,
        "train_seconds": trained.train_seconds,
        "selection_seconds": None if trained.selection is None else trained.selection["seconds"],
        "eval_seconds": trained.eval_seconds,
        "history_last": {k: v[-1] for k, v in trained.history.items()},
        "metrics": trained.metrics,
        "check": check,
        "units": r.get("units", "nats"),
        "parameters": int(model.count_params()),
        "machine": dict(machine(), load_average_1min={"start": load_start, "end": load_end}),
        "timing_note": _timing_note_of(r, load_start, load_end),
        "keras_genmodels_version": keras_genmodels.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_json(os.path.join(out, f"{name}.json"), card)
    atomic_write_text(os.path.join(out, f"{name}.md"), markdown_card(card))
    presets.register_preset(
        out, name, file=file, class_name=card["class"], family=r["family"],
        description=r["description"], card=f"{name}.json", card_markdown=f"{name}.md",
    )
    print(f"[{name}] wrote {os.path.join(out, file)} ({os.path.getsize(os.path.join(out, file))} bytes); "
          f"trained in {trained.train_seconds:.0f} s, evaluated in {trained.eval_seconds:.0f} s", flush=True)
    return card



def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.1f}"
    return str(value)


def markdown_card(card):
    """The model card as Markdown."""
    lines = [
        f"# {card['name']}",
        "",
        card["description"] + ".",
        "",
        f"- class: `{card['class']}` ({card['parameters']:,} parameters), file `{card['file']}`",
        "- load: `keras_genmodels.load_pretrained(\"%s\")`" % card["name"],
        f"- reproduce: `{card['command']}`",
        f"- training time: {card['train_seconds']:.0f} s"
        + (f" (by `{card['trained_by']}`)" if card.get("trained_by") else "")
        + (f" (+ {card['selection_seconds']:.0f} s model selection)" if card["selection_seconds"] else "")
        + f", evaluation {card['eval_seconds']:.0f} s, on {card['machine']['cpu_count']} CPU core(s) "
        f"({card['machine']['processor']}; TensorFlow {card['machine']['tensorflow']}, "
        f"Keras {card['machine']['keras']})",
    ]
    if card.get("timing_note"):
        lines.append(f"- timing: {card['timing_note']}")
    lines += [
        f"- created: {card['created']}" + (" — SMOKE SETTINGS, not a real preset" if card["smoke"] else ""),
        "",
        "## Data",
        "",
    ]
    lines += [f"- {k}: {_fmt(v)}" for k, v in card["data"].items()]
    lines += ["", "## Hyperparameters", ""]
    lines += [f"- model: `{json.dumps(card['model'])}`", f"- training: `{json.dumps(card['train'])}`",
              f"- evaluation: `{json.dumps(card['evaluate'])}`"]
    if card["selection"]:
        settings = card["selection"].get("settings", {})
        lines += ["", "## Model selection (validation NLL ~= -L_K, nats)", ""]
        if settings:
            lines += [f"- settings: `{json.dumps({k: v for k, v in settings.items() if k != 'note'})}`"]
            if settings.get("note"):
                lines += [f"- {settings['note']}."]
            lines += [""]
        lines += ["The s.e. is over the validation images; the candidates share them, so their "
                  "differences are known more precisely than the s.e. suggests.", "",
                  "| candidate | validation NLL | s.e. | training time |", "|---|---|---|---|"]
        for row in card["selection"]["table"]:
            cand = {k: v for k, v in row.items() if not k.startswith("val_") and k != "train_seconds"}
            lines.append(f"| `{json.dumps(cand)}` | {row['val_nll']:.2f} | {row['val_iw_stderr']:.2f} | "
                         f"{row['train_seconds']:.0f} s |")
        lines.append(f"\nChosen: `{json.dumps(card['selection']['chosen'])}`")
    units = card.get("units", "nats")
    lines += ["", f"## Held-out metrics ({units})", "", "| metric | value |", "|---|---|"]
    for k, v in card["metrics"].items():
        if not isinstance(v, dict):
            lines.append(f"| {k} | {_fmt(v)} |")
    obs = {k: v for k, v in card["metrics"].items() if k.startswith("observables_") and isinstance(v, dict)}
    if obs:
        names = list(card["metrics"]["observables_exact"])
        cols = list(obs)
        lines += ["", "## Observables per spin", "", "| observable | " + " | ".join(cols) + " |",
                  "|---" * (len(cols) + 1) + "|"]
        for n in names:
            cells = []
            for c in cols:
                val = obs[c][n]
                cells.append(f"{val['value']:.4f} ± {val['error']:.4f}" if isinstance(val, dict) else f"{val:.4f}")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
    if card.get("quality"):
        lines += [""] + quality_markdown(card["quality"])
    c = card["check"]
    lines += ["", "## Check (recomputed by tests/test_presets.py)", "",
              f"`{c['metric']}` = {c['value']:.4f} (± {c['stderr']:.3g} s.e.) on the subset "
              f"`{json.dumps({k: v for k, v in c.items() if k not in ('value', 'stderr', 'tolerance', 'headline')})}`; "
              f"tolerance {c['tolerance']} {units}.", ""]
    return "\n".join(lines)


QUALITY_HEADING = "## Sample quality"


def quality_markdown(quality):
    """The lines of a card's "Sample quality" section, from its `quality` entry.

    The entry (written by `bench/quality_floors.py --update-cards`) holds
    `scores` (metric -> {"mean", "sd", "values"} over `seeds`), `n`,
    `samples` (how they were drawn), `reference`, `function`, optionally
    `feature_network`, and the `command` and `date` that produced them.
    """
    seeds = quality["seeds"]
    lines = [QUALITY_HEADING, "",
             f"{quality['n']:,} samples ({quality['samples']}) scored by `{quality['function']}` against "
             f"{quality['reference']}" + (f", in the features of {quality['feature_network']}" if quality.get("feature_network") else "")
             + f"; mean ± sd over {len(seeds)} seed(s) {seeds}.", "",
             "| score | mean ± sd | per seed |", "|---|---|---|"]
    for key, s in quality["scores"].items():
        per_seed = ", ".join(f"{x:.4g}" for x in s["values"])
        lines.append(f"| {key} | {s['mean']:.4g} ± {s['sd']:.2g} | {per_seed} |")
    lines += ["", f"Command ({quality['date']}): `{quality['command']}`"]
    return lines


def set_card_quality(name, quality, root=None):
    """Write `quality` into preset `name`'s card: `quality` in NAME.json, NAME.md written again.

    Only the cards change: the model file, its SHA-256 in the manifest and
    every other field of the card stay as they are (`markdown_card` renders
    the committed cards as they are, plus the new section).

    Args:
        name: a registered preset.
        quality: the entry (see `quality_markdown`).
        root: the presets folder. Defaults to `None`, the package's.
    """
    from keras_genmodels import presets
    from keras_genmodels._files import atomic_write_json, atomic_write_text

    root = os.fspath(presets.presets_root() if root is None else root)
    entry = presets.read_manifest(root)[name]
    card_path = os.path.join(root, entry["card"])
    with open(card_path, encoding="utf-8") as f:
        card = json.load(f)
    card["quality"] = quality
    atomic_write_json(card_path, card)
    if entry.get("card_markdown"):
        atomic_write_text(os.path.join(root, entry["card_markdown"]), markdown_card(card))
    return card


def main(argv=None):
    """The command line of `scripts/train_presets.py`; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="train_presets.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="preset names, or 'all'")
    parser.add_argument("--list", action="store_true", help="print the recipes and exit")
    parser.add_argument("--out", default=None, help="output folder (default: the package's keras_genmodels/presets)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to test the pipeline")
    parser.add_argument("--local-dir", default=None, help="folder of the Fashion-MNIST IDX .gz files")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity: 0, 1 or 2. Defaults to 2")
    parser.add_argument("--from-model", default=None,
                        help="take the model of a `keras-genmodels train --out DIR` run with the "
                             "preset's recipe instead of training (where the family allows it; checked "
                             "against its history.json)")
    args = parser.parse_args(argv)
    all_recipes = recipes()
    if args.list or not args.names:
        for name, r in all_recipes.items():
            print(f"{name}: {r['description']}\n    data={json.dumps(r['data'])}\n"
                  f"    model={json.dumps(r['model'])}\n    train={json.dumps(r['train'])}\n"
                  f"    evaluate={json.dumps(r['evaluate'])}")
            if r.get("select"):
                print(f"    select={json.dumps(r['select'])}")
        return 0
    names = list(all_recipes) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in all_recipes]
    if unknown:
        print(f"train_presets.py: error: unknown preset(s) {unknown}. Available: {', '.join(all_recipes)}",
              file=sys.stderr)
        return 2
    for name in names:
        train_preset(name, out=args.out, smoke=args.smoke, local_dir=args.local_dir, verbose=args.verbose,
                     from_model=args.from_model)
    return 0
