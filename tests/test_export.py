"""TF Serving export: signatures checked in a fresh process, layout, and bad input.

One module fixture exports a VAE (the keras.io conv networks), a trained
BernoulliRBM and a trained GaussianBernoulliRBM, then a single fresh Python
process loads the three SavedModels with `tf.saved_model.load`, calls every
signature, and hands back the outputs and the signatures' specs; the tests
compare them with the Keras models in this process.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest

from keras_genmodels import cli
from keras_genmodels.export import METADATA_FILE, export_model, signature_names
from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM
from keras_genmodels.saving import save_model
from keras_genmodels.vae import VAE

VAE_SIGNATURES = ["decode", "encode", "sample", "serving_default"]
RBM_SIGNATURES = ["free_energy", "hidden_probabilities", "reconstruct", "sample", "serving_default"]

# Runs in a fresh interpreter: load each SavedModel, call every signature on
# the inputs of `inputs.npz`, save the outputs and the signatures' specs.
FRESH_PROCESS = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    root, names = sys.argv[1], sys.argv[2].split(",")
    inputs = dict(np.load(f"{root}/inputs.npz"))
    outputs, specs = {}, {}
    for name in names:
        loaded = tf.saved_model.load(f"{root}/export/{name}/1")
        specs[name] = {}
        for sig_name, fn in loaded.signatures.items():
            _, kwargs = fn.structured_input_signature
            specs[name][sig_name] = {
                "inputs": {k: [s.shape.as_list(), s.dtype.name] for k, s in kwargs.items()},
                "outputs": {k: [s.shape.as_list(), s.dtype.name]
                            for k, s in fn.structured_outputs.items()},
            }
            prefix = f"{name}/{sig_name}/"
            feed = {k[len(prefix):]: tf.constant(v) for k, v in inputs.items() if k.startswith(prefix)}
            for k, v in fn(**feed).items():
                outputs[prefix + k] = v.numpy()
        # A second batch size through the same signature: the batch is dynamic.
        big = inputs[f"{name}/serving_default/" + ("x" if "vae" in name else "v")]
        key = "x" if "vae" in name else "v"
        out = loaded.signatures["serving_default"](**{key: tf.constant(np.concatenate([big, big]))})
        outputs[f"{name}/double_batch"] = list(out.values())[0].numpy()
    np.savez(f"{root}/outputs.npz", **outputs)
    with open(f"{root}/specs.json", "w") as f:
        json.dump(specs, f)
    """
)


def _binary(n, d, seed):
    return (np.random.default_rng(seed).random((n, d)) < 0.3).astype("float32")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Three models, their exports, and what a fresh process read back from them."""
    root = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(0)

    vae = VAE(latent_dim=2, seed=0)  # the keras.io conv VAE
    rbm = BernoulliRBM(30, 7, persistent=True, n_chains=10, seed=0)
    rbm.compile()
    rbm.fit(_binary(60, 30, 1), epochs=1, batch_size=20, verbose=0)
    grbm = GaussianBernoulliRBM(6, 4, seed=0)
    grbm.compile()
    grbm.fit(rng.normal(size=(40, 6)).astype("float32"), epochs=1, batch_size=20, verbose=0)
    models = {"vae": vae, "rbm": rbm, "grbm": grbm}

    x = rng.random((3, 28, 28, 1)).astype("float32")
    h = rng.normal(size=(4, 2)).astype("float32")
    scalars = lambda **kw: {k: np.int32(v) for k, v in kw.items()}  # noqa: E731
    inputs = {"vae": {"serving_default": {"x": x}, "encode": {"x": x}, "decode": {"h": h},
                      "sample": scalars(n=5, seed=7)}}
    for name, d, v in (("rbm", 30, _binary(5, 30, 2)), ("grbm", 6, rng.normal(size=(5, 6)).astype("float32"))):
        inputs[name] = {sig: {"v": v} for sig in RBM_SIGNATURES if sig != "sample"}
        inputs[name]["sample"] = scalars(n=4, steps=3, seed=11)
    flat = {f"{m}/{s}/{k}": val for m, sigs in inputs.items() for s, kv in sigs.items() for k, val in kv.items()}
    np.savez(root / "inputs.npz", **flat)

    paths = {name: export_model(model, root / "export", model_name=name, version=1)
             for name, model in models.items()}
    script = root / "load.py"
    script.write_text(FRESH_PROCESS)
    # The fresh process and `saved_model_cli show --all` (one per family) run side by side.
    loader = subprocess.Popen([sys.executable, str(script), str(root), ",".join(models)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    exe = shutil.which("saved_model_cli")
    shows = {
        name: subprocess.Popen([exe, "show", "--dir", paths[name], "--all"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("vae", "rbm") if exe is not None
    }
    # `saved_model_cli run` feeds the SignatureDef through a TF1 session, as TF Serving does.
    runner = None if exe is None else subprocess.Popen(
        [exe, "run", "--dir", paths["rbm"], "--tag_set", "serve", "--signature_def", "sample",
         "--input_exprs", "n=4;steps=3;seed=11", "--outdir", str(root / "cli_run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = loader.communicate(timeout=300)
    assert loader.returncode == 0, err[-3000:]
    cli_output = {}
    for name, proc in shows.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        cli_output[name] = out
    if runner is not None:
        _, err = runner.communicate(timeout=300)
        assert runner.returncode == 0, err[-3000:]
    outputs = dict(np.load(root / "outputs.npz"))
    specs = json.loads((root / "specs.json").read_text())
    return {"root": root, "models": models, "inputs": inputs, "outputs": outputs,
            "specs": specs, "paths": paths, "saved_model_cli": cli_output}


def test_layout_is_tf_serving_model_base_path(exported):
    for name, path in exported["paths"].items():
        assert path == str(exported["root"] / "export" / name / "1")
        assert os.path.isfile(os.path.join(path, "saved_model.pb"))
        assert os.path.isdir(os.path.join(path, "variables"))
        meta = json.loads(open(os.path.join(path, METADATA_FILE)).read())
        assert meta["class"] == type(exported["models"][name]).__name__
        assert meta["version"] == 1
        # No temporary folder is left beside the version.
        assert os.listdir(os.path.dirname(path)) == ["1"]


def test_signature_names(exported):
    specs = exported["specs"]
    assert sorted(specs["vae"]) == VAE_SIGNATURES == signature_names(exported["models"]["vae"])
    assert sorted(specs["rbm"]) == RBM_SIGNATURES == signature_names(exported["models"]["rbm"])
    assert sorted(specs["grbm"]) == RBM_SIGNATURES


def test_signature_shapes_and_dtypes(exported):
    vae = exported["specs"]["vae"]
    assert vae["serving_default"]["inputs"] == {"x": [[None, 28, 28, 1], "float32"]}
    assert vae["serving_default"]["outputs"] == {"reconstruction": [[None, 28, 28, 1], "float32"]}
    assert vae["encode"]["outputs"] == {"z_mean": [[None, 2], "float32"], "z_log_var": [[None, 2], "float32"]}
    assert vae["decode"]["inputs"] == {"h": [[None, 2], "float32"]}
    assert vae["decode"]["outputs"] == {"x_mean": [[None, 28, 28, 1], "float32"]}
    assert vae["sample"]["inputs"] == {"n": [[], "int32"], "seed": [[], "int32"]}
    assert vae["sample"]["outputs"] == {"samples": [[None, 28, 28, 1], "float32"]}
    rbm = exported["specs"]["rbm"]
    for sig in ("serving_default", "hidden_probabilities", "free_energy", "reconstruct"):
        assert rbm[sig]["inputs"] == {"v": [[None, 30], "float32"]}
    assert rbm["free_energy"]["outputs"] == {"free_energy": [[None], "float32"]}
    assert rbm["hidden_probabilities"]["outputs"] == {"hidden_probabilities": [[None, 7], "float32"]}
    assert rbm["reconstruct"]["outputs"] == {"reconstruction": [[None, 30], "float32"]}
    assert rbm["sample"]["inputs"] == {k: [[], "int32"] for k in ("n", "seed", "steps")}
    assert rbm["sample"]["outputs"] == {"samples": [[None, 30], "float32"], "binary": [[None, 30], "float32"]}


def test_vae_signatures_match_the_keras_model(exported):
    vae, out, inp = exported["models"]["vae"], exported["outputs"], exported["inputs"]["vae"]
    x, h = inp["encode"]["x"], inp["decode"]["h"]
    np.testing.assert_allclose(out["vae/serving_default/reconstruction"], np.asarray(vae(x)), atol=1e-6)
    z_mean, z_log_var = vae.encode(x)
    np.testing.assert_allclose(out["vae/encode/z_mean"], np.asarray(z_mean), atol=1e-6)
    np.testing.assert_allclose(out["vae/encode/z_log_var"], np.asarray(z_log_var), atol=1e-6)
    np.testing.assert_allclose(out["vae/decode/x_mean"], np.asarray(vae.decode(h)), atol=1e-6)
    # The stateless draw uses Keras's seed pair [seed, 0]: the very samples of model.sample.
    samples = out["vae/sample/samples"]
    assert samples.shape == (5, 28, 28, 1)
    np.testing.assert_allclose(samples, np.asarray(vae.sample(5, seed=7)), atol=1e-6)
    assert not np.allclose(samples, np.asarray(vae.sample(5, seed=8)), atol=1e-3)
    np.testing.assert_allclose(out["vae/double_batch"], np.concatenate([np.asarray(vae(x))] * 2), atol=1e-6)


@pytest.mark.parametrize("name", ["rbm", "grbm"])
def test_rbm_signatures_match_the_keras_model(exported, name):
    model, out, inp = exported["models"][name], exported["outputs"], exported["inputs"][name]
    v = inp["free_energy"]["v"]
    np.testing.assert_allclose(out[f"{name}/free_energy/free_energy"], model.free_energy(v), rtol=1e-5, atol=1e-4)
    ph = model.hidden_probabilities(v)
    np.testing.assert_allclose(out[f"{name}/hidden_probabilities/hidden_probabilities"], ph, atol=1e-6)
    np.testing.assert_allclose(out[f"{name}/serving_default/hidden_probabilities"], ph, atol=1e-6)
    np.testing.assert_allclose(out[f"{name}/reconstruct/reconstruction"], model.reconstruct(v), atol=1e-5)
    means = model.sample(4, steps=3, seed=11)
    binary = model.sample(4, steps=3, seed=11, return_means=False)
    np.testing.assert_allclose(out[f"{name}/sample/samples"], means, atol=1e-5)
    np.testing.assert_allclose(out[f"{name}/sample/binary"], binary, atol=1e-5)
    assert not np.allclose(out[f"{name}/sample/samples"], model.sample(4, steps=3, seed=12), atol=1e-3)
    np.testing.assert_allclose(out[f"{name}/double_batch"], np.concatenate([ph, ph]), atol=1e-6)


def test_sample_signature_rejects_bad_scalars(exported):
    import tensorflow as tf

    loaded = tf.saved_model.load(exported["paths"]["vae"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="`n` must be a positive int"):
        loaded.signatures["sample"](n=tf.constant(0), seed=tf.constant(1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="`seed` must be in"):
        loaded.signatures["sample"](n=tf.constant(2), seed=tf.constant(-1))
    loaded = tf.saved_model.load(exported["paths"]["rbm"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="`steps` must be a positive int"):
        loaded.signatures["sample"](n=tf.constant(2), steps=tf.constant(0), seed=tf.constant(1))


def test_saved_model_cli_lists_every_signature(exported):
    if not exported["saved_model_cli"]:
        pytest.skip("saved_model_cli is not on PATH")
    for name, expected in (("vae", VAE_SIGNATURES), ("rbm", RBM_SIGNATURES)):
        text = exported["saved_model_cli"][name]
        listed = re.findall(r"^signature_def\['(\w+)'\]:", text, flags=re.M)
        assert sorted(listed) == sorted(expected + ["__saved_model_init_op"])
        assert text.count("Method name is: tensorflow/serving/predict") == len(expected)
    assert "shape: (-1, 28, 28, 1)" in exported["saved_model_cli"]["vae"]
    assert "shape: (-1, 30)" in exported["saved_model_cli"]["rbm"]


def test_saved_model_cli_run_through_the_signature_def(exported):
    if not exported["saved_model_cli"]:
        pytest.skip("saved_model_cli is not on PATH")
    rbm = exported["models"]["rbm"]
    run = exported["root"] / "cli_run"
    np.testing.assert_allclose(np.load(run / "samples.npy"), rbm.sample(4, steps=3, seed=11), atol=1e-5)
    np.testing.assert_allclose(np.load(run / "binary.npy"), rbm.sample(4, steps=3, seed=11, return_means=False))


# ---------------------------------------------------------------------------
# Files, versions and bad input


@pytest.fixture
def small_vae_file(tmp_path):
    model = VAE(architecture="mlp", data_shape=(6,), latent_dim=2, hidden_units=(4,), seed=0)
    return save_model(model, tmp_path / "small.keras"), model


def _snapshot(folder):
    """{relative path: bytes} of every file under `folder`."""
    snap = {}
    for dirpath, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(dirpath, f)
            snap[os.path.relpath(p, folder)] = open(p, "rb").read()
    return snap


def test_export_from_a_file_names_the_model_after_it(small_vae_file, tmp_path):
    path, _ = small_vae_file
    out = export_model(path, tmp_path / "serving")
    assert out == str(tmp_path / "serving" / "small" / "1")
    meta = json.loads(open(os.path.join(out, METADATA_FILE)).read())
    assert meta["source"] == os.path.abspath(path)
    assert len(meta["source_sha256"]) == 64


def test_default_version_is_one_more_than_the_largest(small_vae_file, tmp_path):
    path, _ = small_vae_file
    assert export_model(path, tmp_path, model_name="m").endswith(os.path.join("m", "1"))
    assert export_model(path, tmp_path, model_name="m", version=5).endswith(os.path.join("m", "5"))
    assert export_model(path, tmp_path, model_name="m").endswith(os.path.join("m", "6"))


def test_existing_version_is_refused_then_overwritten(small_vae_file, tmp_path):
    path, _ = small_vae_file
    first = export_model(path, tmp_path, model_name="m", version=1)
    before = _snapshot(first)
    with pytest.raises(FileExistsError, match="overwrite"):
        export_model(path, tmp_path, model_name="m", version=1)
    assert _snapshot(first) == before
    other = save_model(VAE(architecture="mlp", data_shape=(6,), latent_dim=3, hidden_units=(4,), seed=1),
                       tmp_path / "other.keras")
    export_model(other, tmp_path, model_name="m", version=1, overwrite=True)
    meta = json.loads(open(os.path.join(first, METADATA_FILE)).read())
    assert meta["source"] == os.path.abspath(other)
    assert sorted(os.listdir(tmp_path / "m")) == ["1"]  # the old copy is gone too


def test_an_empty_version_folder_is_used(small_vae_file, tmp_path):
    path, _ = small_vae_file
    os.makedirs(tmp_path / "m" / "3")
    out = export_model(path, tmp_path, model_name="m", version=3)
    assert os.path.isfile(os.path.join(out, "saved_model.pb"))


def test_a_failed_export_keeps_the_existing_version(small_vae_file, tmp_path, monkeypatch):
    from keras_genmodels import export

    path, _ = small_vae_file
    first = export_model(path, tmp_path, model_name="m", version=1)
    before = _snapshot(first)

    def broken(model, endpoints, folder, verbose):
        open(os.path.join(folder, "saved_model.pb"), "wb").write(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "_write_saved_model", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export_model(path, tmp_path, model_name="m", version=1, overwrite=True)
    assert _snapshot(first) == before
    assert sorted(os.listdir(tmp_path / "m")) == ["1"]  # no temporary folder left
    with pytest.raises(RuntimeError):
        export_model(path, tmp_path, model_name="new")
    assert not os.path.exists(tmp_path / "new")  # nor an empty model folder


def test_a_model_that_is_not_ours_is_refused(tmp_path):
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = save_model(plain, tmp_path / "plain.keras")
    with pytest.raises(ValueError, match="Expected a keras_genmodels model"):
        export_model(path, tmp_path / "out")
    with pytest.raises(ValueError, match="Expected a keras_genmodels model"):
        export_model(plain, tmp_path / "out", model_name="plain")
    assert not os.path.exists(tmp_path / "out" / "plain")


def test_corrupt_and_missing_files_are_refused(small_vae_file, tmp_path):
    path, _ = small_vae_file
    first = export_model(path, tmp_path / "out", model_name="small", version=1)
    before = _snapshot(first)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(open(path, "rb").read()[:200])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        export_model(truncated, tmp_path / "out", model_name="small", version=1, overwrite=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_model(tmp_path / "missing.keras", tmp_path / "out")
    assert _snapshot(first) == before


def test_a_file_with_an_unknown_class_is_refused(small_vae_file, tmp_path):
    path, _ = small_vae_file
    bad = tmp_path / "unknown.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["class_name"], config["registered_name"] = "NoSuchModel", "nowhere>NoSuchModel"
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    with pytest.raises(ValueError, match="could not be loaded"):
        export_model(bad, tmp_path / "out")
    assert not os.path.exists(tmp_path / "out" / "unknown")


@pytest.mark.parametrize(
    "kwargs, message",
    [({"model_name": "a/b"}, "model_name"), ({"model_name": ""}, "model_name"),
     ({"version": 0}, "version"), ({"version": "1"}, "version"), ({"overwrite": "yes"}, "overwrite")],
)
def test_bad_arguments(small_vae_file, tmp_path, kwargs, message):
    path, _ = small_vae_file
    with pytest.raises(ValueError, match=message):
        export_model(path, tmp_path, **{"model_name": "m", **kwargs})


def test_cli_export(small_vae_file, tmp_path, capsys):
    path, _ = small_vae_file
    out = str(tmp_path / "serving")
    assert cli.main(["export", path, out, "--version", "2", "--name", "fm"]) == 0
    assert "saved_model_cli show" in capsys.readouterr().out
    target = os.path.join(out, "fm", "2")
    before = _snapshot(target)
    assert cli.main(["export", path, out, "--version", "2", "--name", "fm"]) == 2
    assert "Refusing to overwrite" in capsys.readouterr().err
    assert _snapshot(target) == before
    assert cli.main(["export", path, out, "--version", "2", "--name", "fm", "--overwrite"]) == 0
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    assert cli.main(["export", str(tmp_path / "bad.keras"), out]) == 2
    assert "not a valid zip archive" in capsys.readouterr().err
    assert sorted(os.listdir(os.path.join(out))) == ["fm"]
