"""The command line as a newcomer meets it: help, version, errors, quiet start-up, progress."""

import io
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import keras_genmodels
from keras_genmodels.cli import main

REPO = pathlib.Path(__file__).resolve().parents[1]


def _console(code, timeout=120):
    """Run `code` in a fresh interpreter as the console script does (lazy imports), from the repo."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def test_help_and_bad_flags_answer_without_importing_tensorflow():
    out = _console("""
        import sys, time
        start = time.perf_counter()
        import keras_genmodels_cli
        codes = [keras_genmodels_cli.main(a) for a in (["--help"], ["train", "vae", "--help"],
                 ["train", "rbm", "--epochs", "0"], ["evaluate", "m.keras", "--method", "nope"])]
        print(codes, "tensorflow" in sys.modules, "keras" in sys.modules, f"{time.perf_counter() - start:.2f}")
    """)
    assert out.returncode == 0, out.stderr[-2000:]
    codes, tf, keras, seconds = out.stdout.strip().splitlines()[-1].rsplit(" ", 3)
    assert codes.endswith("[0, 0, 2, 2]") and tf == "False" and keras == "False", out.stdout[-500:]
    assert float(seconds) < 3.0  # importing TensorFlow alone takes ~4 s here
    assert "argument --epochs: must be a positive int. Received: '0'" in out.stderr
    assert "argument --method: invalid choice: 'nope'" in out.stderr


def test_help_shows_every_default_and_the_choices(capsys):
    assert main(["train", "vae", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for part in ("{mnist,fashion_mnist}", "{conv,mlp}", "{none,mirrored,multiworker}", "{constant,cosine}",
                 "{none,fixed,dynamic}", "(default: 30)", "(default: 0.001)", "(default: saved_models/vae)"):
        assert part in text, part
    assert main(["evaluate", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "{auto,exact,ais}" in text and "(default: 5000)" in text and "(default: test)" in text


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"keras-genmodels {keras_genmodels.__version__}"


def test_tensorflow_start_up_lines_are_not_shown_but_errors_are(tmp_path):
    from keras_genmodels.saving import save_model
    from keras_genmodels.vae import VAE

    path = save_model(VAE(architecture="mlp", data_shape=(5,), latent_dim=1, hidden_units=(2,)), tmp_path / "m.keras")
    out = _console(f"""
        import sys, keras_genmodels_cli
        sys.exit(keras_genmodels_cli.main(["sample", {str(path)!r}, "--n", "2", "--out", {str(tmp_path / 's.npy')!r}]))
    """, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Wrote 2 samples" in out.stdout
    assert not re.search(r"^I\d{4} |oneDNN|absl::InitializeLog", out.stderr, re.M), out.stderr[-2000:]
    bad = _console(f"""
        import sys, keras_genmodels_cli
        sys.exit(keras_genmodels_cli.main(["sample", {str(tmp_path / 'missing.keras')!r}]))
    """)
    assert bad.returncode == 2 and "keras-genmodels: error: Expected a `.keras` model file" in bad.stderr


def test_native_log_filter_keeps_everything_but_absl_info_lines():
    from keras_genmodels._native_logs import NOISE

    assert NOISE.match(b"I0000 00:00:1796296213.476358   10106 port.cc:153] oneDNN custom operations are on.")
    assert NOISE.match(b"I1203 09:41:33.824400    3788 device_compiler.h:208] Compiled cluster using XLA!")
    assert NOISE.match(b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    for kept in (b"W0000 00:00:1.5 7 x.cc:1] a warning", b"E1203 09:41:33.82 3788 x.cc:1] an error",
                 b"keras-genmodels: error: ...", b"Traceback (most recent call last):", b"Info: I0000 is not at the start"):
        assert not NOISE.match(kept), kept


# ---------------------------------------------------------------------------
# Progress


def test_progress_bar_counts_mini_batches_and_never_overshoots():
    from keras_genmodels.training import StepProgbar

    bar = StepProgbar()  # steps_per_execution = 32 over an epoch of 469 steps
    bar.set_params({"verbose": 1, "epochs": 1, "steps": 469})
    bar.on_epoch_begin(0)
    for end_step in range(31, 480, 32):  # Keras reports the last step of each group of 32: ..., 479
        bar.on_train_batch_end(end_step, {})
    assert bar.seen == 469 == bar.target
    chunks = StepProgbar(minibatches_per_step=100, total=210)  # an RBM's chunks of 100 mini-batches
    chunks.set_params({"verbose": 1, "epochs": 1, "steps": 3})
    chunks.on_epoch_begin(0)
    chunks.on_train_batch_end(0, {})
    assert chunks.seen == 100
    chunks.on_train_batch_end(2, {})
    assert chunks.seen == 210 == chunks.target


def test_rbm_fit_shows_progress_within_an_epoch(capsys):
    from keras_genmodels.rbm import BernoulliRBM

    x = (np.random.default_rng(0).random((2050, 16)) < 0.5).astype("float32")
    rbm = BernoulliRBM(16, 4, seed=0)
    rbm.compile(steps_per_execution=5)
    rbm.fit(x, batch_size=100, epochs=1, verbose=1)  # 5 chunks of 5 mini-batches, the last one of 1
    out = capsys.readouterr().out
    assert "21/21" in out and "5/21" in out and "1/1" not in out.replace("21/21", "")


def test_evaluation_functions_show_progress(capsys):
    from keras_genmodels.rbm import BernoulliRBM
    from keras_genmodels.vae import VAE, elbo, importance_weighted_bound

    vae = VAE(architecture="mlp", data_shape=(4,), latent_dim=2, hidden_units=(4,), seed=0)
    x = np.random.default_rng(0).random((30, 4)).astype("float32")
    elbo(vae, x, batch_size=10, verbose=1)
    assert "30/30" in capsys.readouterr().out
    importance_weighted_bound(vae, x[:3], num_samples=20, batch_size=2, verbose=1)
    assert "60/60" in capsys.readouterr().out  # 3 examples x 20 draws
    BernoulliRBM(6, 3, seed=0).log_partition_ais(betas=np.linspace(0, 1, 101), n_chains=4, verbose=1)
    assert "100/100" in capsys.readouterr().out  # the 100 temperatures after beta = 0


def test_ais_with_a_progress_bar_gives_the_same_estimate():
    from keras_genmodels.rbm import BernoulliRBM

    rbm = BernoulliRBM(6, 3, seed=0)
    betas = np.linspace(0, 1, 301)
    quiet = rbm.log_partition_ais(betas=betas, n_chains=8, seed=1)
    with_bar = rbm.log_partition_ais(betas=betas, n_chains=8, seed=1, verbose=2)
    np.testing.assert_allclose(quiet.log_weights, with_bar.log_weights, rtol=1e-12)
