"""The scale of the sample scores: floors, perturbed data, a baseline and every shipped preset.

    python bench/quality_floors.py                          # all parts, N = 10,000, seeds 0-4
    python bench/quality_floors.py --part reference         # floor, noise, blur, Bernoulli
    python bench/quality_floors.py --part presets ising --update-cards
    python bench/quality_floors.py --markdown-only           # the table again, from the results

A score means little alone. Images, scored by `metrics.image_quality`
against the first N images of the Fashion-MNIST test split (FD, KD ± its
subset sd, precision, recall in the features of `feature_network_fashion_mnist`):

- "train vs test": N images of the training split (a random subset per
  seed) against the test split: the floor, what a perfect model would score;
- "test + noise σ" and "test, blur ×p": the test images themselves with
  Gaussian noise (clipped to [0, 1]; a noise draw per seed) or p passes of
  a 3 x 3 box blur (deterministic: seed 0 only). FD and KD must rise
  monotonically with σ and with p (the script says so, and exits with
  status 1 if not);
- "Bernoulli base rate": independent pixels, x_i ~ Bernoulli(mean of
  pixel i over the training split), a model that knows no shapes;
- every shipped Fashion-MNIST preset: `sample(N, seed=s)` of each VAE
  (E[x|h], the decoder's means), and of the RBM `sample(N, seed=s,
  steps=--rbm-steps)`, the visible means E[v|h] after that many block Gibbs
  sweeps from the base rate; of the energy-based model `sample(N, seed=s,
  start="buffer", steps=--ebm-steps)`, chains from its replay buffer (the
  chains of training), 28 x 28 centre of the 32 x 32 images in [0, 1];
  of each GAN `sample(N, seed=s)`, G(z) mapped from [−1, 1] to [0, 1].
  `--presets` picks some of them.

Ising presets (L = 4), scored by `metrics.ising_distances` against N fresh
Monte Carlo configurations (`physics.sample_ising`, seed 1000 + s) at the
preset's temperature (a temperature-conditional preset, whose card has no
single temperature, is left out: its card holds its own physics report): W1 of e and m per spin, the fraction with m > 0, and
the relative errors of e, <|m|>, c, chi. Model samples are drawn by
`physics.analysis.model_samples` (RBM: --ising-gibbs-steps block Gibbs
sweeps; VAE: Bernoulli(E[x|h])), with seed s; "Monte Carlo" rows compare two
independent Monte Carlo sets (seed 2000 + s against 1000 + s): the floor.

Randomness: every row except the blur is run for each seed of --seeds, and
the table gives mean ± sd over the seeds (sd with ddof = 1); the KD subsets
use seed s too. Results are merged into --results (JSON, so that parts can
run separately) and the tables are written into the --markdown files
(between their marked lines: every row in docs/quality.md, the floor, the
baseline and the presets in docs/presets.md). --update-cards writes
each preset's figures into its card (`quality` in NAME.json, a section of
NAME.md); the .keras files are never touched.
"""

import argparse
import datetime
import itertools
import json
import os
import pathlib
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
IMAGE_KEYS = ("fd", "kd_mean", "kd_std", "precision", "recall")
ISING_KEYS = ("energy_w1", "magnetization_w1", "positive_magnetization_fraction", "energy_relative_error",
              "abs_magnetization_relative_error", "heat_capacity_relative_error",
              "susceptibility_relative_error")
NOISE = (0.05, 0.1, 0.2, 0.4)
BLUR = (1, 2, 4)
FASHION_PRESETS = ("vae_fashion_mnist_keras_io", "vae_fashion_mnist_mlp", "rbm_fashion_mnist_500", "ebm_fashion_mnist",
                   "wgan_gp_fashion_mnist", "dcgan_fashion_mnist")


def command_line(argv):
    return "python bench/quality_floors.py" + "".join(f" {a}" for a in argv)


def blurred(x, passes):
    """`passes` passes of a 3 x 3 box blur over (n, 28, 28, 1) images, edges replicated."""
    for _ in range(passes):
        p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
        x = sum(p[:, i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9.0
    return x.astype(np.float32)


def noisy(x, sigma, seed):
    rng = np.random.default_rng(seed)
    return np.clip(x + sigma * rng.standard_normal(x.shape, dtype=np.float32), 0.0, 1.0)


def summarize(values):
    """{"mean", "sd", "values"} of per-seed floats (sd with ddof = 1; 0 for one seed)."""
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
            "values": [float(x) for x in arr]}


def image_rows(args, names):
    """{row name: {"kind", "what", "seeds", metric: summary}} of the image part(s) asked for."""
    import keras_genmodels
    from keras_genmodels import datasets
    from keras_genmodels.metrics import image_quality

    n = args.n
    train = datasets.load_unit_images("fashion_mnist", "train", local_dir=args.local_dir)
    test = datasets.load_unit_images("fashion_mnist", "test", limit=n, local_dir=args.local_dir)
    rows = {}

    def score(name, kind, what, draw, seeds):
        start = time.perf_counter()
        per_seed = []
        for s in seeds:
            q = image_quality(draw(s), "fashion_mnist:test", n=n, seed=s, local_dir=args.local_dir)
            per_seed.append(q)
        row = {"kind": kind, "what": what, "seeds": list(seeds), "n": per_seed[0]["n_samples"],
               "seconds": time.perf_counter() - start}
        row.update({k: summarize([q[k] for q in per_seed]) for k in IMAGE_KEYS})
        rows[name] = row
        print(format_image_row(name, row), flush=True)

    if "reference" in names:
        score("train vs test (floor)", "floor", f"{n:,} training images (a random subset per seed)",
              lambda s: train[np.random.default_rng(s).choice(len(train), n, replace=False)], args.seeds)
        for sigma in NOISE:
            score(f"test + noise σ={sigma}", "noise", f"the test images + N(0, {sigma}²) noise, clipped",
                  lambda s, sigma=sigma: noisy(test, sigma, s), args.seeds)
        for p in BLUR:
            score(f"test, blur ×{p}", "blur", f"the test images, {p} pass(es) of a 3 x 3 box blur",
                  lambda s, p=p: blurred(test, p), args.seeds[:1])
        p = train.mean(axis=0)
        score("Bernoulli base rate", "baseline", "independent pixels ~ Bernoulli(training mean)",
              lambda s: (np.random.default_rng(s).random((n,) + p.shape) < p).astype(np.float32), args.seeds)
    if "presets" in names:
        for name in args.presets:
            model = keras_genmodels.load_pretrained(name)
            if hasattr(model, "sample_chain"):  # an energy-based model (images padded to 32 x 32, in [-1, 1])
                from keras_genmodels.ebm import data as ebm_data

                what = (f"`sample(N, seed=s, start='buffer', steps={args.ebm_steps})`: Langevin chains from the "
                        "replay buffer")

                def draw(s, model=model):
                    return ebm_data.to_unit_images(model.sample(n, seed=s, start="buffer", steps=args.ebm_steps))
            elif hasattr(model, "discriminator"):  # a GAN (images in [-1, 1])
                from keras_genmodels.gan import data as gan_data

                what = "`sample(N, seed=s)`: G(z), z ~ N(0, I), mapped to [0, 1]"

                def draw(s, model=model):
                    return gan_data.to_unit_images(model.sample(n, seed=s))
            elif hasattr(model, "gibbs"):
                what = f"`sample(N, seed=s, steps={args.rbm_steps})`: E[v|h] after {args.rbm_steps} Gibbs sweeps"

                def draw(s, model=model):
                    return np.asarray(model.sample(n, seed=s, steps=args.rbm_steps)).reshape(n, 28, 28, 1)
            else:
                what = "`sample(N, seed=s)`: E[x|h], h ~ N(0, I)"

                def draw(s, model=model):
                    return np.clip(np.asarray(model.sample(n, seed=s)), 0.0, 1.0).reshape(n, 28, 28, 1)
            score(name, "preset", what, draw, args.seeds)
    return rows


def ising_rows(args):
    """{row name: ...} of every shipped Ising preset and of Monte Carlo against itself, per temperature."""
    import keras_genmodels
    from keras_genmodels.metrics import ising_distances
    from keras_genmodels.physics import analysis, sample_ising

    rows = {}
    names = sorted(p for p in keras_genmodels.list_presets() if "_ising_" in p)
    temperatures = {}
    for name in names:
        data = keras_genmodels.presets.preset_card(name)["data"]
        if "temperature" not in data:  # temperature-conditional: its card has its own physics report
            continue
        temperatures.setdefault((int(data["L"]), float(data["temperature"])), []).append(name)
    for (L, T), members in sorted(temperatures.items(), key=lambda kv: kv[0][1]):
        start = time.perf_counter()
        refs = {s: sample_ising(L, T, args.n, seed=1000 + s).spins for s in args.seeds}
        models = [(f"Monte Carlo, T={T:.3f}", None)] + [(m, keras_genmodels.load_pretrained(m)) for m in members]
        for row_name, model in models:
            per_seed = []
            for s in args.seeds:
                if model is None:
                    samples, encoding = sample_ising(L, T, args.n, seed=2000 + s).spins, "spin"
                else:
                    samples = analysis.model_samples(model, args.n, L=L, seed=s, gibbs_steps=args.ising_gibbs_steps)
                    encoding = "binary"
                d = ising_distances(samples, refs[s], T, encoding=encoding, reference_encoding="spin")
                per_seed.append({k: float(d[k][0]) if isinstance(d[k], tuple) else float(d[k]) for k in ISING_KEYS})
            what = ("independent Monte Carlo sets" if model is None else
                    (f"{args.ising_gibbs_steps} Gibbs sweeps" if hasattr(model, "gibbs") else "Bernoulli(E[x|h])"))
            row = {"kind": "ising", "L": L, "temperature": T, "what": what, "seeds": list(args.seeds), "n": args.n,
                   "seconds": time.perf_counter() - start}
            row.update({k: summarize([q[k] for q in per_seed]) for k in ISING_KEYS})
            rows[row_name] = row
            print(format_ising_row(row_name, row), flush=True)
    return rows


# ---------------------------------------------------------------------------
# Tables


def pm(summary, digits):
    if summary["sd"] == 0 and len(summary["values"]) == 1:
        return f"{summary['mean']:.{digits}f}"
    return f"{summary['mean']:.{digits}f} ± {summary['sd']:.{digits}f}"


def format_image_row(name, row):
    kd_in_seed = f" (subset sd {row['kd_std']['mean']:.4f})"
    return (f"{name}: FD {pm(row['fd'], 2)}, KD {pm(row['kd_mean'], 4)}{kd_in_seed}, precision "
            f"{pm(row['precision'], 3)}, recall {pm(row['recall'], 3)}  [{len(row['seeds'])} seed(s), "
            f"{row['seconds']:.0f} s]")


def format_ising_row(name, row):
    return (f"{name} (T={row['temperature']:.3f}): W1(e) {pm(row['energy_w1'], 4)}, W1(m) "
            f"{pm(row['magnetization_w1'], 4)}, m>0 {pm(row['positive_magnetization_fraction'], 3)}, "
            f"r(c) {pm(row['heat_capacity_relative_error'], 3)}, r(chi) {pm(row['susceptibility_relative_error'], 3)}")


def monotone(rows):
    """Lines saying whether FD and KD rise with the noise level and the blur passes."""
    lines, ok = [], True
    for kind, levels in (("noise", [f"test + noise σ={s}" for s in NOISE]), ("blur", [f"test, blur ×{p}" for p in BLUR])):
        if not all(name in rows for name in levels):
            continue
        for key in ("fd", "kd_mean"):
            values = [rows[name][key]["mean"] for name in levels]
            rising = all(a < b for a, b in itertools.pairwise(values))
            ok &= rising
            lines.append(f"{key} with {kind}: " + " < ".join(f"{v:.4g}" for v in values)
                         + (": rises monotonically" if rising else ": NOT MONOTONE"))
    return lines, ok


def markdown(results, kinds=None):
    """The tables of `results` (the --results JSON) as Markdown: the rows of `kinds` (default: all)."""
    rows = {k: r for k, r in results["rows"].items() if kinds is None or r["kind"] in kinds}
    images = {k: r for k, r in rows.items() if r["kind"] != "ising"}
    ising = {k: r for k, r in rows.items() if r["kind"] == "ising"}
    out = []
    if images:
        out += ["| images (N = {:,}) against the test split | FD | KD (subset sd) | precision | recall | seeds |"
                .format(next(iter(images.values()))["n"]), "|---|---|---|---|---|---|"]
        for name, r in images.items():
            label = f"`{name}`" if r["kind"] == "preset" else name
            what = r["what"].replace("|", "\\|")
            out.append(f"| {label}: {what} | {pm(r['fd'], 2)} | {pm(r['kd_mean'], 4)} "
                       f"({r['kd_std']['mean']:.4f}) | {pm(r['precision'], 3)} | {pm(r['recall'], 3)} | "
                       f"{len(r['seeds'])} |")
        out.append("")
    if ising:
        out += ["| Ising, L = 4 (N = {:,}) against Monte Carlo | T | W1(e) | W1(m) | m > 0 | r(e) | r(⟨\\|m\\|⟩) | "
                "r(c) | r(χ) | seeds |".format(next(iter(ising.values()))["n"]), "|---" * 10 + "|"]
        for name, r in ising.items():
            label = name.split(",")[0] if name.startswith("Monte Carlo") else f"`{name}`"
            what = r["what"].replace("|", "\\|")
            out.append(f"| {label}: {what} | {r['temperature']:.3f} | {pm(r['energy_w1'], 4)} | "
                       f"{pm(r['magnetization_w1'], 4)} | {pm(r['positive_magnetization_fraction'], 3)} | "
                       f"{pm(r['energy_relative_error'], 3)} | {pm(r['abs_magnetization_relative_error'], 3)} | "
                       f"{pm(r['heat_capacity_relative_error'], 3)} | {pm(r['susceptibility_relative_error'], 3)} | "
                       f"{len(r['seeds'])} |")
        out.append("")
    out += ["Commands (" + ", ".join(sorted(set(results["dates"].values()))) + "):", ""]
    out += [f"- `{c}`" for c in results["commands"]]
    return "\n".join(out) + "\n"


# Where the tables go: the lines between "<!-- TAG: begin ... -->" and "<!-- TAG: end -->".
TABLES = {
    "quality_floors": None,  # every row (docs/quality.md)
    "preset_quality": ("floor", "baseline", "preset", "ising"),  # no perturbed data (docs/presets.md)
}


def write_tables(path, results):
    """Put the tables of `results` between the marked lines of `path`; a file without them gets every row."""
    text = path.read_text() if path.exists() else ""
    found = False
    for tag, kinds in TABLES.items():
        begin, end = f"<!-- {tag}: begin (written by bench/quality_floors.py) -->", f"<!-- {tag}: end -->"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            text = head + begin + "\n\n" + markdown(results, kinds) + "\n" + end + rest.split(end, 1)[1]
            found = True
    path.write_text(text if found else markdown(results))


# ---------------------------------------------------------------------------
# Cards


def quality_entry(name, row, command, date):
    """A card's "quality" entry: the row's figures and how they were made."""
    keys = ISING_KEYS if row["kind"] == "ising" else IMAGE_KEYS
    entry = {"scores": {k: row[k] for k in keys}, "n": row["n"], "seeds": row["seeds"], "samples": row["what"],
             "command": command, "date": date}
    if row["kind"] == "ising":
        entry["reference"] = f"{row['n']} fresh Monte Carlo configurations at T = {row['temperature']} (seed 1000 + s)"
        entry["function"] = "keras_genmodels.metrics.ising_distances"
    else:
        from keras_genmodels.metrics import images

        entry["reference"] = f"fashion_mnist:test (first {row['n']} images)"
        entry["function"] = "keras_genmodels.metrics.image_quality"
        entry["feature_network"] = images.DEFAULT_NETWORK + " (not InceptionV3's: not comparable with FID/KID of papers)"
    return entry


def update_cards(results, root):
    """Write `quality` into the card (.json) and its Markdown (.md) of each preset in `results`."""
    from keras_genmodels import preset_training, presets

    shipped = presets.read_manifest(root)
    for name, row in results["rows"].items():
        if name in shipped:
            entry = quality_entry(name, row, results["row_commands"][name], results["dates"][name])
            preset_training.set_card_quality(name, entry, root=root)
            print(f"card of {name}: quality written", flush=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", choices=("reference", "presets", "ising", "all"), default=["all"])
    parser.add_argument("--n", type=int, default=10000, help="samples (and reference images) per score")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--rbm-steps", type=int, default=1000, help="Gibbs sweeps of the Fashion-MNIST RBM")
    parser.add_argument("--ebm-steps", type=int, default=60, help="Langevin steps of the energy-based model")
    parser.add_argument("--presets", nargs="+", choices=FASHION_PRESETS, default=list(FASHION_PRESETS),
                        help="the Fashion-MNIST presets of --part presets")
    parser.add_argument("--ising-gibbs-steps", type=int, default=1000, help="Gibbs sweeps of the Ising RBMs")
    parser.add_argument("--local-dir", default=None, help="folder of the Fashion-MNIST IDX .gz files")
    parser.add_argument("--results", default=str(REPO / "bench" / "results" / "quality_floors.json"))
    parser.add_argument("--markdown", nargs="+", default=[str(REPO / "docs" / "quality.md"),
                                                         str(REPO / "docs" / "presets.md")],
                        help="files for the tables: between their marked lines, else the whole file")
    parser.add_argument("--markdown-only", action="store_true", help="only write the table of --results")
    parser.add_argument("--update-cards", action="store_true", help="write the presets' figures into their cards")
    parser.add_argument("--cards", default=str(REPO / "keras_genmodels" / "presets"), help="presets folder")
    args = parser.parse_args(argv)

    results_path = pathlib.Path(args.results)
    results = (json.loads(results_path.read_text()) if results_path.exists()
               else {"rows": {}, "commands": [], "row_commands": {}, "dates": {}})
    ok = True
    if not args.markdown_only:
        print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
        parts = ("reference", "presets", "ising") if "all" in args.part else tuple(args.part)
        rows = image_rows(args, parts) if {"reference", "presets"} & set(parts) else {}
        if "ising" in parts:
            rows.update(ising_rows(args))
        command = command_line(argv)
        date = datetime.date.today().isoformat()
        for name, row in rows.items():
            results["rows"][name] = row
            results["row_commands"][name] = command
            results["dates"][name] = date
        results["commands"] = [c for c in results["commands"] if c != command] + [command]
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=1) + "\n")
        print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    lines, ok = monotone(results["rows"])
    print("\n".join(lines))
    for path in args.markdown:
        write_tables(pathlib.Path(path), results)
    print(f"wrote {', '.join(args.markdown)} and {results_path}")
    if args.update_cards:
        update_cards(results, args.cards)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
