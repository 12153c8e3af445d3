"""Training under tf.distribute: MirroredStrategy over two logical CPU devices
gives what one device gives on the same global batches, and two
MultiWorkerMirroredStrategy workers on 127.0.0.1 end with identical weights.

TensorFlow's logical devices and a worker's TF_CONFIG must be set before
TensorFlow initialises, so those runs are fresh processes
(tests/distribute_worker.py and the command line).
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_genmodels import distribute
from keras_genmodels.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored") / "result.json"
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "tests", "distribute_worker.py"), "mirrored", str(out)],
        capture_output=True, text=True, timeout=900, cwd=REPO, env=_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


# ------------------------------------------------------------- MirroredStrategy
@pytest.mark.parametrize("spe", [1, 4])
def test_vae_two_replicas_match_one_device(mirrored, spe):
    """Same weights, same reported losses: the loss is summed over the global
    batch (61 examples in batches of 16, the last one split 7 / 6), not one
    replica's mean, and the all-reduced gradient is the global batch's."""
    assert mirrored["replicas"] == 2
    one, two = mirrored[f"vae_one_spe{spe}"], mirrored[f"vae_two_spe{spe}"]
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        np.testing.assert_allclose(one["history"][key], two["history"][key], rtol=1e-5)
        np.testing.assert_allclose(one["evaluate"][key], two["evaluate"][key], rtol=1e-5)
    # What Keras cannot run on several replicas is switched off, with a warning
    # (keras-team/keras#19246; XLA over several devices).
    assert one["compiled"] == [spe, spe > 1]
    assert two["compiled"] == [1, False]
    assert (spe > 1) == any("steps_per_execution" in w for w in two["warnings"])
    assert (spe > 1) == any("jit_compile" in w for w in two["warnings"])


def test_vae_stochastic_training_under_two_replicas_learns(mirrored):
    loss = mirrored["vae_two_stochastic"]["history"]["loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]


def test_replicas_draw_distinct_noise_and_replica_zero_draws_the_single_device_noise(mirrored):
    (single,) = np.asarray(mirrored["noise_one"])
    first, second = np.asarray(mirrored["noise_two"])
    np.testing.assert_array_equal(first, single)
    assert np.abs(first - second).min() > 0  # no shared ε between replicas


@pytest.mark.parametrize("case", ["cd1", "pcd2_centering_decay"])
def test_bernoulli_rbm_two_replicas_match_one_device(mirrored, case):
    """Gibbs sampling made deterministic (saturated sigmoids): the weights, the
    data statistics, the centring offsets and the persistent chains (5 chains
    split 2 / 3 between the replicas, reassembled after each step) are those
    of one device, and so are the metrics of evaluation. (The training
    metrics are subsample estimates: each replica monitors its own first tenth
    of the batch; the pseudo-likelihood flips random units.)"""
    one, two = mirrored[f"rbm_{case}_one"], mirrored[f"rbm_{case}_two"]
    assert list(one["weights"]) == list(two["weights"])
    for name in one["weights"]:
        np.testing.assert_allclose(one["weights"][name], two["weights"][name], rtol=1e-6,
                                   err_msg=name)
    for key in ("free_energy", "reconstruction_error"):
        np.testing.assert_allclose(one["evaluate"][key], two["evaluate"][key], rtol=1e-6)
        np.testing.assert_allclose(
            one["history"][f"val_{key}"], two["history"][f"val_{key}"], rtol=1e-6
        )
    trajectory = one["history"]["val_free_energy"]
    assert len(set(trajectory)) == len(trajectory)  # the model did move


def test_tempered_rbm_two_replicas_match_one_device(mirrored):
    """Parallel tempering with 5 chains per temperature split 2 / 3: weights, data
    statistics, tempered chains and exchange statistics are those of one device."""
    one, two = mirrored["tempered_rbm_one"], mirrored["tempered_rbm_two"]
    assert list(one["weights"]) == list(two["weights"])
    for name in one["weights"]:
        np.testing.assert_allclose(one["weights"][name], two["weights"][name], rtol=1e-6,
                                   atol=1e-6, err_msg=name)
    assert any("tempered_chains" in name for name in one["weights"])


def test_ebm_two_replicas_match_one_device(mirrored):
    """The energy-based model with deterministic chains: the replicas take disjoint buffer slots from one
    permutation, write every replica's samples back, and sum their losses over the global batch (the last
    batch of 13 splits 7 / 6), so weights, replay buffer and metrics are those of one device."""
    one, two = mirrored["ebm_one"], mirrored["ebm_two"]
    assert any("replay_buffer" in name for name in one["weights"])
    for name in one["weights"]:
        np.testing.assert_allclose(one["weights"][name], two["weights"][name], rtol=1e-5, atol=1e-6, err_msg=name)
    for key in ("loss", "energy_data", "energy_model"):
        np.testing.assert_allclose(one["history"][key], two["history"][key], rtol=1e-5, atol=1e-6)


def test_gan_two_replicas_match_one_device(mirrored):
    """WGAN-GP with nothing random (see distribute_worker._train_gan): two critic updates and one generator
    update per step, each loss summed over the global batch, give one device's weights and metrics."""
    one, two = mirrored["gan_one"], mirrored["gan_two"]
    assert one["weights"].keys() == two["weights"].keys()
    for name in one["weights"]:
        np.testing.assert_allclose(one["weights"][name], two["weights"][name], rtol=1e-5, atol=1e-6, err_msg=name)
    for key in ("d_loss", "g_loss", "wasserstein", "gradient_penalty"):
        np.testing.assert_allclose(one["history"][key], two["history"][key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert one["history"]["gradient_penalty"][0] > 0


def test_diffusion_two_replicas_learn_as_one_device(mirrored):
    """Each replica draws its own t and ε, so the runs differ draw by draw; both learn the one-point data's
    ε (the loss falls from ~1 to ~0.23), with the loss summed over the global batch; the EMA network
    follows the live one, and both sample around the point."""
    one, two = mirrored["diffusion_one"], mirrored["diffusion_two"]
    for run in (one, two):
        loss = run["history"]["loss"]
        assert loss[0] > 0.5 and np.mean(loss[-5:]) < 0.5 * loss[0], loss
        assert run["ema_gap"] < 0.05
        samples = np.asarray(run["samples"]).reshape(64, 4)
        point = np.array([0.5, -0.5, 0.25, -0.75])
        assert np.corrcoef(samples.mean(axis=0), point)[0, 1] > 0.95  # not converged: shrunk towards 0
        np.testing.assert_allclose(samples.mean(axis=0), point, atol=0.3)
    assert abs(np.mean(one["history"]["loss"][-5:]) - np.mean(two["history"]["loss"][-5:])) < 0.1
    assert one["history"]["loss"] != two["history"]["loss"]  # the replicas' draws differ from one device's


def test_gaussian_rbm_two_replicas_keep_global_data_statistics(mirrored):
    one, two = mirrored["gaussian_rbm_one"], mirrored["gaussian_rbm_two"]
    for name in ("data_mean", "data_second_moment", "data_count"):
        np.testing.assert_allclose(one["weights"][name], two["weights"][name], rtol=1e-6)
    assert np.asarray(two["weights"]["persistent_hidden"]).shape == (6, 4)
    for values in two["history"].values():
        assert np.all(np.isfinite(values))


# ------------------------------------------------------ MultiWorkerMirroredStrategy
def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _run_workers(argv, n=2, timeout=900):
    """Run `keras-genmodels argv` as n MultiWorkerMirroredStrategy workers."""
    workers = [f"127.0.0.1:{p}" for p in _free_ports(n)]
    procs = []
    for index in range(n):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "keras_genmodels", *argv, "--strategy", "multiworker"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
            env=_env(TF_CONFIG=json.dumps(tf_config)),
        ))
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=timeout)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-3000:]
    return outputs


def _weights(path):
    from keras_genmodels.saving import load_model

    return [w.numpy() for w in load_model(path).weights]


@pytest.mark.slow
def test_vae_multiworker_workers_end_with_identical_weights(tmp_path, fashion_mnist_dir):
    out = tmp_path / "vae"
    _run_workers([
        "train", "vae", "--architecture", "mlp", "--latent-dim", "4", "--hidden-units", "64",
        "--epochs", "2", "--limit", "400", "--batch-size", "100", "--verbose", "2",
        "--local-dir", str(fashion_mnist_dir), "--out", str(out),
    ])
    chief, other = out / "model.keras", out / "worker-1" / "model.keras"
    for a, b in zip(_weights(chief), _weights(other)):
        np.testing.assert_array_equal(a, b)
    first = json.loads((out / "history.json").read_text())
    second = json.loads((out / "worker-1" / "history.json").read_text())
    assert first["replicas"] == 2
    assert first["history"] == second["history"]
    loss = first["history"]["loss"]
    assert len(loss) == 2 and np.all(np.isfinite(loss)) and loss[1] < loss[0]


@pytest.mark.slow
def test_pcd_rbm_multiworker_workers_end_with_identical_weights_and_chains(
    tmp_path, fashion_mnist_dir
):
    out = tmp_path / "rbm"
    _run_workers([
        "train", "rbm", "--hidden", "16", "--persistent", "--n-chains", "10", "--k", "2",
        "--epochs", "2", "--limit", "400", "--batch-size", "50", "--validation-size", "100",
        "--verbose", "2", "--local-dir", str(fashion_mnist_dir), "--out", str(out),
    ])
    chief, other = out / "model.keras", out / "worker-1" / "model.keras"
    for a, b in zip(_weights(chief), _weights(other)):
        np.testing.assert_array_equal(a, b)
    record = json.loads((out / "history.json").read_text())
    assert record["replicas"] == 2 and len(record["history"]["free_energy_gap"]) == 2


# ------------------------------------------------------------------ helpers, CLI
def test_helpers_are_identities_outside_a_strategy():
    assert distribute.num_replicas() == 1
    assert distribute.replica_id() == 0
    assert distribute.replica_slice(10) == (0, 10)
    x = keras.ops.ones((3, 2))
    assert distribute.gather_replica_slices(x, 3) is x
    assert float(distribute.global_batch_size(7)) == 7.0
    kwargs = {"steps_per_execution": 32, "jit_compile": True}
    assert distribute.supported_compile_arguments(kwargs) == kwargs


def test_replica_seed_generator_draws_what_a_seed_generator_draws_on_one_device():
    a = keras.random.normal((5,), seed=distribute.ReplicaSeedGenerator(4))
    b = keras.random.normal((5,), seed=keras.random.SeedGenerator(4))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_get_strategy_rejects_unknown_names_and_needs_tf_config(monkeypatch):
    with pytest.raises(ValueError, match="strategy"):
        distribute.get_strategy("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.get_strategy("multiworker")
    assert distribute.get_strategy("none").num_replicas_in_sync == 1


@pytest.mark.parametrize("family", ["vae", "rbm"])
def test_cli_rejects_an_unknown_strategy(family, tmp_path, capsys):
    assert main(["train", family, "--strategy", "tpu", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert "--strategy" in capsys.readouterr().err


def test_cli_multiworker_without_tf_config_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert main(["train", "vae", "--strategy", "multiworker", "--epochs", "1",
                 "--out", str(tmp_path)]) == 2
    assert "TF_CONFIG" in capsys.readouterr().err


def test_cli_trains_under_the_mirrored_strategy(tmp_path, fashion_mnist_dir):
    """`--strategy mirrored` end to end (one replica here: this machine has no GPU)."""
    assert main([
        "train", "rbm", "--hidden", "8", "--epochs", "1", "--limit", "200", "--batch-size", "50",
        "--validation-size", "0", "--strategy", "mirrored", "--verbose", "0",
        "--local-dir", str(fashion_mnist_dir), "--out", str(tmp_path),
    ]) == 0
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["replicas"] >= 1 and len(record["history"]["free_energy"]) == 1
    assert (tmp_path / "model.keras").exists() and not (tmp_path / "backup").exists()
