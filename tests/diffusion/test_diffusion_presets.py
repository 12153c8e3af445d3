"""The diffusion presets' machinery: a `--smoke` preset end to end, and `--from-model` taking a CLI run.

The committed presets themselves are checked by tests/test_presets.py (their files, cards and checks).
"""

import json

import pytest

from keras_genmodels import preset_training, presets
from keras_genmodels.cli import main
from keras_genmodels.diffusion import presets as diffusion_presets

NAME = "diffusion_binary_fashion_mnist"


@pytest.fixture(scope="module")
def smoke_card(tmp_path_factory, fashion_mnist_dir):
    root = tmp_path_factory.mktemp("diffusion_presets")
    card = preset_training.train_preset(NAME, out=root, smoke=True, local_dir=str(fashion_mnist_dir))
    return root, card


def test_smoke_preset_card_holds_the_bound_and_reproduces_its_check(smoke_card, fashion_mnist_dir):
    root, card = smoke_card
    m = card["metrics"]
    assert card["class"] == "DiffusionModel" and card["family"] == "diffusion" and card["smoke"] is True
    assert m["test_bound_nats"] == pytest.approx(m["test_bound_prior"] + m["test_bound_diffusion"]
                                                 + m["test_bound_decoder"], rel=1e-9)
    assert m["test_bound_bits_per_dim"] == pytest.approx(m["test_bound_nats"] / (784 * 0.6931471805599453))
    assert m["test_bound_timestep_samples"] == diffusion_presets.SMOKE_TIMESTEP_SAMPLES
    assert 0 <= m["quality_precision"] <= 1 and m["quality_fd"] > 0
    model = presets.load_pretrained(NAME, root=root)
    assert model.data == "binary"
    value, stderr = preset_training.compute_check(model, card["check"], local_dir=str(fashion_mnist_dir))
    assert abs(value - card["check"]["value"]) <= card["check"]["tolerance"]
    assert abs(value - m["test_bound_nats"]) <= 5 * stderr + 0.05  # 64 of the same test images
    assert "test_bound_nats" in (root / f"{NAME}.md").read_text()


def test_from_model_takes_a_cli_run_with_the_recipe_and_refuses_another(tmp_path, monkeypatch, fashion_mnist_dir):
    recipe = preset_training.recipe(NAME)
    run = tmp_path / "run"
    command = diffusion_presets.cli_command(recipe, str(run)).split()
    assert command[:3] == ["keras-genmodels", "train", "diffusion"] and "--binarize" in command
    # A tiny run: the recipe's flags with one epoch on 64 images, so that the check refuses it.
    assert main(command[1:] + ["--epochs", "1", "--limit", "64", "--timesteps", "10", "--verbose", "0",
                               "--local-dir", str(fashion_mnist_dir)]) == 0
    with pytest.raises(ValueError, match="Expected a `keras-genmodels train diffusion` run with the recipe"):
        diffusion_presets.from_cli_run(recipe, str(run))
    # The same run, as if it had the recipe's settings: taken, with its command and time.
    history = run / "history.json"
    record = json.loads(history.read_text())
    record["args"].update(epochs=3, limit=None)
    record["settings"]["timesteps"] = 1000
    history.write_text(json.dumps(record))
    model, seconds, hist, trained_by = diffusion_presets.from_cli_run(recipe, str(run))
    assert type(model).__name__ == "DiffusionModel" and seconds > 0 and "loss" in hist
    assert trained_by == diffusion_presets.cli_command(recipe, str(run))
    assert diffusion_presets.accepts_cli_run(recipe) is None
    assert "image" in diffusion_presets.accepts_cli_run(preset_training.recipe("diffusion_ising_l16"))
