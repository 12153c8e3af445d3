"""The studies behind docs/physics.md: a smoke run at L = 8."""

import numpy as np
import pytest

from keras_genmodels.physics import studies


def test_studies_at_L8_smoke(tmp_path):
    rows = studies.rbm_temperature_scan(
        8, [3.0], n_hidden=8, fit="cd", epochs=1, n_train=500, n_model_samples=200,
        gibbs_steps=10, batch_size=100, cache_dir=tmp_path,
    )
    row = rows[0]
    for key in ("mc", "rbm", "rbm_from_data"):
        assert set(row[key]) == set(studies.SCAN_OBSERVABLES)
    assert np.isfinite(row["kl_per_spin"]) and row["kl_per_spin_error"] > 0
    scan = studies.hidden_units_scan_sampled(
        8, [2.5, 3.0], (2, 4), n_train=300, n_model_samples=200, gibbs_steps=10,
        epochs=1, batch_size=100, cache_dir=tmp_path,
    )
    assert scan["relative_error"]["energy"].shape == (2, 2)
    assert np.all(np.isfinite(scan["kl_per_spin"])) and np.all(scan["seconds"] > 0)
    with pytest.raises(ValueError, match="fit.*Received: fit='x'"):
        studies.rbm_temperature_scan(8, [3.0], fit="x", n_train=64, cache_dir=tmp_path)
