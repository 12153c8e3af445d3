"""The DBN and DBM presets' machinery: each `--smoke` preset end to end, its card and its check.

The committed presets themselves are checked by tests/test_presets.py (their files, cards and checks).
"""

import pytest

from keras_genmodels import preset_training, presets


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory, fashion_mnist_dir):
    root = tmp_path_factory.mktemp("deep_presets")
    cards = {
        name: preset_training.train_preset(name, out=root, smoke=True, local_dir=str(fashion_mnist_dir))
        for name in ("dbn_fashion_mnist", "dbm_fashion_mnist")
    }
    return root, cards


@pytest.mark.parametrize("name, cls", [("dbn_fashion_mnist", "DeepBeliefNetwork"),
                                       ("dbm_fashion_mnist", "DeepBoltzmannMachine")])
def test_smoke_deep_preset_holds_its_bound_and_reproduces_its_check(smoke_root, name, cls, fashion_mnist_dir):
    root, cards = smoke_root
    card = cards[name]
    m = card["metrics"]
    assert card["class"] == cls and card["family"] == "rbm" and card["smoke"] is True
    assert card["check"]["headline"] == "test_log_likelihood_bound"
    # A bound on log p(v) of binary 784-pixel images: negative, above the uniform model's -784 log 2 for
    # anything trained, finite error bar.
    assert -784 * 0.6931471805599453 < m["test_log_likelihood_bound"] < 0
    assert 0 < m["test_log_likelihood_bound_stderr"] < 50
    assert m["parameters"] == 784 * 500 + 500 * 500 + 784 + 500 + 500 + (500 if cls == "DeepBeliefNetwork" else 0)
    model = presets.load_pretrained(name, root=root)
    assert type(model).__name__ == cls
    value, stderr = preset_training.compute_check(model, card["check"], local_dir=str(fashion_mnist_dir))
    assert abs(value - card["check"]["value"]) <= card["check"]["tolerance"]
    # The check's subset (the first test images, same log Z) estimates the headline.
    assert abs(value - m["test_log_likelihood_bound"]) <= 6 * stderr + 1.0
    assert "test_log_likelihood_bound" in (root / f"{name}.md").read_text()
