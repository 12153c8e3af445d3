"""Presets: the registry, `load_pretrained`, the cards, the wheel, and the training script.

- `test_committed_preset_*` are parametrised over the committed manifest
  (`keras_genmodels/presets/manifest.json`): each committed file loads with
  `safe_mode=True` and reproduces its card's `check` metric (a seeded metric
  on a stated subset) within the card's tolerance. With no committed preset
  they are skipped.
- The same checks run on presets that `scripts/train_presets.py --smoke`
  trains here into a temporary folder (the registry takes another root), so
  the machinery is tested before any real preset exists.
"""

import importlib.util
import json
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

import keras_genmodels
from keras_genmodels import preset_training, presets
from keras_genmodels.physics import references
from keras_genmodels.vae import presets as vae_presets

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGE_PRESETS = REPO / "keras_genmodels" / "presets"
COMMITTED = sorted(presets.read_manifest(PACKAGE_PRESETS))
# The checks that are a subset estimate of the card's headline metric (the
# others, exact KL, are the headline itself).
SUBSET_CHECKS = ("elbo", "log_likelihood", "kl_estimate", "test_accuracy", "bound_nats", "log_likelihood_bound")
SMOKE_PRESETS = ["rbm_ising_l4_tc", "vae_ising_l4_tc", "vae_fashion_mnist_mlp", "rbm_fashion_mnist_500",
                 "feature_network_fashion_mnist", "ebm_gaussian_mixture"]


def _script():
    spec = importlib.util.spec_from_file_location("train_presets", REPO / "scripts" / "train_presets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The script is a thin command line over the library's preset machinery.
train_presets = pt = preset_training


def _needs_fashion_mnist(card, request):
    if card["check"]["metric"] in ("elbo", "log_likelihood", "log_likelihood_bound", "test_accuracy") or \
            card["check"].get("inputs") == "test_images":
        return str(request.getfixturevalue("fashion_mnist_dir"))
    return None


def _check_reproduces_card(name, root, request):
    """Load `name` from `root` (safe_mode=True) and recompute its card's check."""
    card = presets.preset_card(name, root=root)
    local_dir = _needs_fashion_mnist(card, request)
    model = presets.load_pretrained(name, root=root)
    assert type(model).__name__ == card["class"]
    check = card["check"]
    value, stderr = train_presets.compute_check(model, check, local_dir=local_dir)
    assert abs(value - check["value"]) <= check["tolerance"], (name, value, check)
    if check["metric"] in SUBSET_CHECKS:
        # The subset estimates the card's headline metric (on the full split,
        # or over every Ising state): they agree within a few standard errors.
        headline = card["metrics"][check["headline"]]
        assert abs(value - headline) <= 5 * stderr + 0.05, (name, value, headline, stderr)
    else:
        assert value == pytest.approx(card["metrics"][check["headline"]], abs=check["tolerance"])
    return card, model


# ---------------------------------------------------------------------------
# The committed presets


def test_package_manifest_is_valid():
    manifest = json.loads((PACKAGE_PRESETS / presets.MANIFEST).read_text())
    assert manifest["format_version"] == presets.FORMAT_VERSION
    assert set(manifest["presets"]) == set(COMMITTED)
    assert keras_genmodels.list_presets() == presets.list_presets(root=PACKAGE_PRESETS)


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_preset_files_and_card(name):
    entry = presets.read_manifest(PACKAGE_PRESETS)[name]
    path = PACKAGE_PRESETS / entry["file"]
    assert path.is_file(), f"{path} is missing (a Git LFS pointer?)"
    assert presets.file_sha256(path) == entry["sha256"]
    assert path.stat().st_size < 15_000_000
    card = presets.preset_card(name)
    assert card["smoke"] is False
    command = f"python scripts/train_presets.py {name}"
    if card.get("trained_by"):
        # Trained by the CLI with the preset's recipe, then evaluated and registered by the script.
        assert card["trained_by"].startswith(f"keras-genmodels train {card['family']} ")
        assert card["command"].startswith(f"{card['trained_by']} && {command} --from-model ")
    else:
        assert card["command"] == command
    for key in ("data", "train_seconds", "metrics", "check", "machine"):
        assert key in card
    assert (PACKAGE_PRESETS / entry["card_markdown"]).read_text().startswith(f"# {name}")


def test_committed_presets_are_small_together():
    total = sum((PACKAGE_PRESETS / e["file"]).stat().st_size for e in presets.read_manifest(PACKAGE_PRESETS).values())
    assert total < 45_000_000  # 20 presets, 39.9 MB on 2026-12-04 (the DBN and DBM added 8.2 MB)


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_preset_reproduces_its_card(name, request):
    _check_reproduces_card(name, None, request)


# ---------------------------------------------------------------------------
# The machinery, on presets trained here with --smoke


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory, fashion_mnist_dir):
    root = tmp_path_factory.mktemp("presets")
    for name in SMOKE_PRESETS:
        train_presets.train_preset(name, out=root, smoke=True, local_dir=str(fashion_mnist_dir))
    return root


@pytest.mark.parametrize("name", SMOKE_PRESETS)
def test_smoke_preset_reproduces_its_card(smoke_root, name, request):
    card, model = _check_reproduces_card(name, smoke_root, request)
    assert card["smoke"] is True
    assert card["command"] == f"python scripts/train_presets.py {name} --out {smoke_root} --smoke"
    assert card["train_seconds"] > 0
    md = (smoke_root / f"{name}.md").read_text()
    assert card["command"] in md and "SMOKE" in md


def test_smoke_cards_hold_the_issue_metrics(smoke_root):
    metrics = {name: presets.preset_card(name, root=smoke_root)["metrics"] for name in SMOKE_PRESETS}
    vae = metrics["vae_fashion_mnist_mlp"]
    assert vae["nll"] == -vae["iw_bound"]
    # L_K >= ELBO on the same images, in expectation (K = 8 here, 16 images).
    assert vae["iw_bound"] >= vae["elbo_on_iw_examples"] - 1.0
    rbm = metrics["rbm_fashion_mnist_500"]
    assert rbm["test_log_likelihood"] == pytest.approx(-rbm["test_nll"])
    assert rbm["log_z_ais_lower_3se"] <= rbm["log_z_ais"] <= rbm["log_z_ais_upper_3se"]
    ising_rbm = metrics["rbm_ising_l4_tc"]
    assert ising_rbm["kl_exact"] >= 0 and ising_rbm["reverse_kl_exact"] >= 0
    assert ising_rbm["test_log_likelihood_exact"] <= 0
    # Exact log-likelihood of held-out samples vs their entropy: NLL >= H(p_T) - (sampling noise).
    assert -ising_rbm["test_log_likelihood_exact"] >= ising_rbm["data_entropy_exact"] - 0.2
    for m in (ising_rbm, metrics["vae_ising_l4_tc"]):
        exact = m["observables_exact"]
        assert exact["energy"] == pytest.approx(-1.5656, abs=1e-3)  # 4x4 torus at T_c
        assert set(m["observables_model_samples"]) == set(exact)
    card = presets.preset_card("vae_fashion_mnist_mlp", root=smoke_root)
    assert len(card["selection"]["table"]) == train_presets.SMOKE["select_candidates"]
    assert card["model"] == card["selection"]["chosen"]


def test_distribution_observables_of_p_T_are_the_exact_ones():
    from keras_genmodels.physics import analysis, exact

    for temperature in (1.8, 3.0):
        _, log_p, _ = references.exact_states(4, temperature)
        ours = analysis.observables_of_distribution(log_p + 7.0, 4, temperature)  # unnormalised
        reference = exact.exact_observables(4, temperature)
        for key, value in ours.items():
            assert value == pytest.approx(float(reference[key]), rel=1e-9, abs=1e-12), key


def test_list_presets_and_families(smoke_root):
    listed = presets.list_presets(root=smoke_root)
    assert list(listed) == sorted(SMOKE_PRESETS)
    assert listed["rbm_ising_l4_tc"] == train_presets.recipes()["rbm_ising_l4_tc"]["description"]
    assert sorted(presets.list_presets(family="vae", root=smoke_root)) == ["vae_fashion_mnist_mlp", "vae_ising_l4_tc"]
    assert keras_genmodels.list_presets is presets.list_presets
    assert keras_genmodels.load_pretrained is presets.load_pretrained


def test_unknown_name_lists_the_valid_ones(smoke_root, tmp_path):
    with pytest.raises(ValueError, match="Unknown preset 'nope'.*'rbm_fashion_mnist_500', 'rbm_ising_l4_tc'"):
        presets.load_pretrained("nope", root=smoke_root)
    with pytest.raises(ValueError, match="none are installed"):
        presets.load_pretrained("nope", root=tmp_path)
    assert presets.list_presets(root=tmp_path) == {}


@pytest.fixture
def copied_root(smoke_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(smoke_root, root)
    return root


def test_corrupt_or_missing_file_is_refused(copied_root):
    path = copied_root / "rbm_ising_l4_tc.keras"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match="corrupt, truncated or was replaced"):
        presets.load_pretrained("rbm_ising_l4_tc", root=copied_root)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="is missing"):
        presets.load_pretrained("rbm_ising_l4_tc", root=copied_root)


def test_registry_errors(copied_root):
    manifest_path = copied_root / presets.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["presets"]["rbm_ising_l4_tc"]["class"] = "VAE"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="expected a VAE from the registry. Received a BernoulliRBM"):
        presets.load_pretrained("rbm_ising_l4_tc", root=copied_root)
    del manifest["presets"]["rbm_ising_l4_tc"]["card"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"lacks the field\(s\) \['card'\]"):
        presets.list_presets(root=copied_root)
    manifest_path.write_text(json.dumps({"format_version": 99, "presets": {}}))
    with pytest.raises(ValueError, match="format_version=1"):
        presets.list_presets(root=copied_root)
    manifest_path.write_text("{not json")
    with pytest.raises(ValueError, match="Expected a JSON preset manifest"):
        presets.list_presets(root=copied_root)


def test_register_preset_replaces_an_entry_atomically(copied_root):
    before = presets.read_manifest(copied_root)
    (copied_root / "extra.keras").write_bytes((copied_root / "rbm_ising_l4_tc.keras").read_bytes())
    entry = presets.register_preset(
        copied_root, "rbm_ising_l4_tc", file="extra.keras", class_name="BernoulliRBM",
        family="rbm", description="replaced", card="rbm_ising_l4_tc.json",
    )
    after = presets.read_manifest(copied_root)
    assert after["rbm_ising_l4_tc"] == entry and entry["description"] == "replaced"
    assert {k: v for k, v in after.items() if k != "rbm_ising_l4_tc"} == {
        k: v for k, v in before.items() if k != "rbm_ising_l4_tc"}
    assert [p.name for p in copied_root.iterdir() if p.name.startswith(".tmp")] == []
    with pytest.raises(FileNotFoundError):
        presets.register_preset(copied_root, "x", file="missing.keras", class_name="VAE",
                                family="vae", description="", card="x.json")


def test_script_refuses_smoke_files_in_the_package_and_unknown_names(capsys):
    with pytest.raises(ValueError, match="--smoke writes toy models"):
        train_presets.train_preset("rbm_ising_l4_tc", smoke=True)
    script = _script()  # the command line itself
    assert script.main(["nope"]) == 2
    assert "unknown preset(s) ['nope']" in capsys.readouterr().err
    assert script.main(["--list"]) == 0
    listed = capsys.readouterr().out
    for name in train_presets.recipes():
        assert f"{name}: " in listed


def test_from_model_takes_a_cli_run_with_the_recipe_only(tmp_path):
    from keras_genmodels.saving import save_model
    from keras_genmodels.vae import VAE

    r = train_presets.recipe("vae_fashion_mnist_keras_io")
    args = {"dataset": "fashion_mnist", "epochs": 30, "batch_size": 128, "learning_rate": 0.001,
            "architecture": "conv", "latent_dim": 2, "hidden_units": "512,256", "likelihood": "bernoulli",
            "sigma2": 1.0, "beta": 1.0, "binarize": "none", "limit": None, "seed": 0, "out": "runs/vae"}
    save_model(VAE(architecture="mlp", data_shape=(4,), latent_dim=1, hidden_units=(2,)), tmp_path / "model.keras")
    history = {"history": {"loss": [2.0, 1.0]}, "train_seconds": 12.5, "args": args}
    (tmp_path / "history.json").write_text(json.dumps(history))
    model, seconds, hist, command = vae_presets.from_cli_run(r, str(tmp_path))
    assert type(model).__name__ == "VAE" and seconds == 12.5 and hist == {"loss": [2.0, 1.0]}
    assert command.startswith("keras-genmodels train vae --dataset fashion_mnist --architecture conv")
    assert command.endswith("--epochs 30 --batch-size 128 --learning-rate 0.001 --seed 0 --out runs/vae")
    (tmp_path / "history.json").write_text(json.dumps(dict(history, args=dict(args, epochs=10))))
    with pytest.raises(ValueError, match="Expected a `keras-genmodels train vae` run with the recipe"):
        vae_presets.from_cli_run(r, str(tmp_path))
    for name in ("rbm_ising_l4_tc", "vae_fashion_mnist_mlp"):
        with pytest.raises(ValueError, match="--from-model applies to"):
            train_presets.train_preset(name, out=tmp_path / "out", from_model=str(tmp_path))


def test_recipes_cover_the_issue():
    r = train_presets.recipes()
    assert r["vae_fashion_mnist_keras_io"]["model"] == {"architecture": "conv", "latent_dim": 2, "likelihood": "bernoulli"}
    assert r["vae_fashion_mnist_keras_io"]["train"]["epochs"] == 30
    assert r["rbm_fashion_mnist_500"]["model"]["n_hidden"] == 500
    assert r["rbm_fashion_mnist_500"]["data"]["binarize"] == "fixed"
    temperatures = sorted(r[f"rbm_ising_l4_{k}"]["data"]["temperature"] for k in references.ISING_TEMPERATURES)
    assert temperatures[0] < 2.269185 < temperatures[-1]
    for name, recipe in r.items():
        if recipe["kind"] == "image" and recipe["family"] == "vae":
            assert recipe["evaluate"]["iw_samples"] == 5000


# ---------------------------------------------------------------------------
# The files are in a (non-editable) wheel, and load from it


@pytest.mark.slow
def test_wheel_contains_the_presets_and_loads_them(tmp_path):
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".tmp-*")
    shutil.copytree(REPO / "keras_genmodels", src / "keras_genmodels", ignore=ignore)
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / f, src / f)
    # One more preset in the copy, so that the test means something before any is committed.
    from keras_genmodels.saving import save_model
    from keras_genmodels.vae import VAE

    copy_root = src / "keras_genmodels" / "presets"
    save_model(VAE(architecture="mlp", data_shape=(4,), latent_dim=1, hidden_units=(2,)), copy_root / "zz_tiny.keras")
    (copy_root / "zz_tiny.json").write_text("{}")
    (copy_root / "zz_tiny.md").write_text("# zz_tiny\n")
    presets.register_preset(copy_root, "zz_tiny", file="zz_tiny.keras", class_name="VAE", family="vae",
                            description="tiny", card="zz_tiny.json", card_markdown="zz_tiny.md")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), "-q"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("keras_genmodels-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    expected = {"keras_genmodels/presets.py", "keras_genmodels/export.py", "keras_genmodels/presets/manifest.json"}
    for entry in presets.read_manifest(copy_root).values():
        expected |= {f"keras_genmodels/presets/{entry[k]}" for k in ("file", "card", "card_markdown") if k in entry}
    assert expected <= names
    # The installed copy finds its presets through importlib.resources, away from the checkout.
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import keras_genmodels as k; "
        "from keras_genmodels import presets as p; "
        "names = list(k.list_presets()); "
        "m = k.load_pretrained('zz_tiny'); "
        "print(json.dumps([k.__file__, str(p.presets_root()), names]))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site")], capture_output=True,
                            text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    file, root, names = json.loads(result.stdout.strip().splitlines()[-1])
    assert file.startswith(str(tmp_path / "site"))
    assert root == str(tmp_path / "site" / "keras_genmodels" / "presets")
    assert names == sorted(COMMITTED + ["zz_tiny"])


def test_quality_goes_into_a_copy_of_a_card_and_nothing_else_changes(tmp_path):
    """`set_card_quality` (bench/quality_floors.py --update-cards) writes the card, never the model."""
    name = "vae_ising_l4_tc"
    entry = presets.read_manifest(PACKAGE_PRESETS)[name]
    for key in ("file", "card", "card_markdown"):
        shutil.copy(PACKAGE_PRESETS / entry[key], tmp_path / entry[key])
    presets.register_preset(tmp_path, name, file=entry["file"], class_name=entry["class"], family=entry["family"],
                            description=entry["description"], card=entry["card"],
                            card_markdown=entry["card_markdown"])
    before = json.loads((tmp_path / entry["card"]).read_text())
    # The committed cards are what markdown_card renders (their own quality section included).
    assert preset_training.markdown_card(before) == (tmp_path / entry["card_markdown"]).read_text()
    before.pop("quality", None)
    quality = {"scores": {"energy_w1": {"mean": 0.0123, "sd": 0.004, "values": [0.01, 0.0146]}}, "n": 100,
               "seeds": [0, 1], "samples": "Bernoulli(E[x|h])", "reference": "100 fresh Monte Carlo configurations",
               "function": "keras_genmodels.metrics.ising_distances", "command": "python bench/quality_floors.py",
               "date": "2026-12-03"}
    preset_training.set_card_quality(name, quality, root=tmp_path)
    after = json.loads((tmp_path / entry["card"]).read_text())
    assert after.pop("quality") == quality and after == before
    md = (tmp_path / entry["card_markdown"]).read_text()
    section = md[md.index("## Sample quality"):md.index("## Check")]
    assert "| energy_w1 | 0.0123 ± 0.004 | 0.01, 0.0146 |" in section
    assert "mean ± sd over 2 seed(s) [0, 1]" in section and "`python bench/quality_floors.py`" in section
    assert md.replace(section, "") == preset_training.markdown_card(before)
    assert presets.file_sha256(tmp_path / entry["file"]) == entry["sha256"]
    assert presets.read_manifest(tmp_path)[name]["sha256"] == entry["sha256"]
