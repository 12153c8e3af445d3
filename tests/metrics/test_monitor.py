"""`SampleMonitor` on a small VAE, and `keras-genmodels evaluate --quality` on a small saved VAE."""

import glob
import json
import pathlib
import types

import keras
import numpy as np
import pytest

from keras_genmodels import families, runner
from keras_genmodels.cli import main
from keras_genmodels.metrics import SampleMonitor, images
from keras_genmodels.saving import save_model
from keras_genmodels.vae import VAE


@pytest.fixture(scope="module")
def train_images(fashion_mnist_arrays):
    return fashion_mnist_arrays["train"][0][:512]


def _vae(data_shape=(28, 28, 1)):
    keras.utils.set_random_seed(0)
    vae = VAE(architecture="mlp", data_shape=data_shape, latent_dim=2, hidden_units=(32,), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    return vae


def test_monitor_logs_scores_into_the_history_and_writes_grids(train_images, tmp_path, fashion_mnist_dir):
    vae = _vae()
    monitor = SampleMonitor(out_dir=tmp_path / "grids", every=1, n_samples=100, n_grid=16,
                            log_dir=tmp_path / "logs", quality_kwargs={"kd_subsets": 5, "local_dir": str(fashion_mnist_dir)})
    history = vae.fit(train_images, epochs=2, batch_size=128, verbose=0, callbacks=[monitor]).history
    for key in ("sample_fd", "sample_kd", "sample_kd_std", "sample_precision", "sample_recall"):
        assert len(history[key]) == 2 and np.all(np.isfinite(history[key])), key
    assert len(history["loss"]) == 2
    assert [s["epoch"] for s in monitor.scores] == [1, 2]
    assert monitor.scores[0]["n_samples"] == 100 and monitor.scores[0]["reference"] == "fashion_mnist:test"
    assert history["sample_fd"][1] == pytest.approx(monitor.scores[1]["fd"])
    pngs = sorted(p.name for p in (tmp_path / "grids").iterdir())
    assert pngs == ["samples_epoch_0001.png", "samples_epoch_0002.png"]
    assert all(pathlib.Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in monitor.paths)
    events = glob.glob(str(tmp_path / "logs" / "samples" / "events.out.tfevents.*"))
    assert len(events) == 1
    import tensorflow as tf

    values = [(e.step, v) for e in tf.compat.v1.train.summary_iterator(events[0]) for v in e.summary.value]
    tags = {v.tag for _, v in values}
    assert {"samples", "sample_fd", "sample_kd", "sample_precision"} <= tags
    # TensorBoard's formats, written without the tensorboard package: the image plugin's
    # [width, height, PNG] strings, the scalar plugin's float.
    grids = [(step, v) for step, v in values if v.tag == "samples"]
    assert [step for step, _ in grids] == [1, 2]
    grid = grids[-1][1]
    assert grid.metadata.plugin_data.plugin_name == "images"
    width, height, png = tf.make_ndarray(grid.tensor)
    image = tf.io.decode_png(png).numpy()
    assert image.shape == (int(height), int(width), 1) and image.max() > 0
    fd = next(v for step, v in values if v.tag == "sample_fd" and step == 2)
    assert fd.metadata.plugin_data.plugin_name == "scalars"
    assert float(tf.make_ndarray(fd.tensor)) == pytest.approx(monitor.scores[1]["fd"], rel=1e-6)


def test_monitor_every_n_epochs_and_without_scores(tmp_path):
    # 4x4 "configurations": not 28 x 28 images, so grids only.
    vae = _vae(data_shape=(16,))
    x = (np.random.default_rng(0).random((256, 16)) < 0.5).astype("float32")
    with pytest.raises(ValueError, match="SampleMonitor scores 28 x 28 grey-level images .* reference=None"):
        vae.fit(x, epochs=1, verbose=0, callbacks=[SampleMonitor(n_samples=50)])
    monitor = SampleMonitor(out_dir=tmp_path, every=2, n_samples=8, reference=None)
    history = vae.fit(x, epochs=3, batch_size=64, verbose=0, callbacks=[monitor]).history
    assert "sample_fd" not in history and monitor.scores == []
    assert [p.rsplit("/", 1)[-1] for p in monitor.paths] == ["samples_epoch_0002.png"]


def test_monitor_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"`every` must be a positive int\. Received: every=0"):
        SampleMonitor(every=0)
    with pytest.raises(ValueError, match=r"`n_samples` must be >= 20 to score samples\. Received: n_samples=5"):
        SampleMonitor(n_samples=5)
    with pytest.raises(ValueError, match=r"Unknown reference 'fashion_mnist:dev'"):
        SampleMonitor(reference="fashion_mnist:dev")
    with pytest.raises(ValueError, match=r"`reference` must be 28 x 28"):
        SampleMonitor(reference=np.zeros((10, 5)))


# ---------------------------------------------------------------------------
# keras-genmodels evaluate --quality


@pytest.fixture(scope="module")
def saved_vae(tmp_path_factory, train_images):
    vae = _vae()
    vae.fit(train_images, epochs=1, batch_size=128, verbose=0)
    return save_model(vae, tmp_path_factory.mktemp("vae") / "model.keras")


def test_cli_evaluate_quality_prints_and_writes_the_scores(saved_vae, fashion_mnist_dir, tmp_path, capsys):
    out = tmp_path / "m.json"
    code = main([
        "evaluate", saved_vae, "--dataset", "fashion_mnist", "--limit", "100", "--iw-samples", "4",
        "--iw-examples", "4", "--local-dir", str(fashion_mnist_dir), "--json", str(out),
        "--quality", "--quality-samples", "300",
    ])
    assert code == 0
    metrics = json.loads(out.read_text())
    q = metrics["quality"]
    assert q["computed"] is True and q["n_samples"] == q["n_reference"] == 300
    assert q["reference"] == "fashion_mnist:test" and q["features"] == images.DEFAULT_NETWORK
    assert q["fd"] > 0 and 0 <= q["precision"] <= 1 and 0 <= q["recall"] <= 1 and q["clipped_fraction"] == 0
    assert np.isfinite(metrics["elbo"])  # the family's own metrics are still there
    text = capsys.readouterr().out
    assert "Sample quality: FD " in text and "300 samples against 300 images of fashion_mnist:test" in text
    assert "not InceptionV3's" in text


def test_cli_quality_needs_no_flag_without_it(saved_vae, fashion_mnist_dir, tmp_path):
    out = tmp_path / "m.json"
    assert main(["evaluate", saved_vae, "--limit", "20", "--iw-samples", "2", "--iw-examples", "2",
                 "--local-dir", str(fashion_mnist_dir), "--json", str(out)]) == 0
    assert "quality" not in json.loads(out.read_text())


def test_cli_quality_refuses_a_bad_number_of_samples(saved_vae, capsys):
    assert main(["evaluate", saved_vae, "--quality", "--quality-samples", "0"]) == 2
    assert "argument --quality-samples: must be a positive int" in capsys.readouterr().err


def test_quality_of_samples_that_are_not_images_says_what_to_use(capsys):
    """Any family: samples are drawn by its `sample` hook, with its sample flags' defaults."""
    seen = {}

    def sample(model, args):
        seen.update(n=args.n, steps=args.chain_steps, seed=args.seed)
        return runner.Samples(np.ones((args.n, 16)))

    hooks = types.SimpleNamespace(sample=sample, add_sample_arguments=lambda p: p.add_argument(
        "--chain-steps", type=int, default=7))
    family = families.Family(name="spins", summary="spins", cli=hooks)
    args = types.SimpleNamespace(quality_samples=50, seed=3, dataset="fashion_mnist", split="test", local_dir=None)
    q = runner.sample_quality(object(), family, args)
    assert seen == {"n": 50, "steps": 7, "seed": 3}
    assert q["computed"] is False and q["n_samples"] == 50
    assert "ising_distances(samples, reference_samples, temperature)" in q["reason"]
    assert "Sample quality: not computed" in capsys.readouterr().out
