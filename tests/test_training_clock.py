"""`training.TrainingClock`: steps counted across epochs and through `steps_per_execution`, the budget."""

import keras
import numpy as np
import pytest

from keras_genmodels import training
from keras_genmodels.vae import VAE


def _fit(clock, epochs=2, steps_per_execution=1):
    model = VAE(architecture="mlp", data_shape=(6,), latent_dim=2, hidden_units=(8,), likelihood="gaussian", seed=0)
    model.compile(keras.optimizers.Adam(1e-3), steps_per_execution=steps_per_execution)
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    model.fit(x, batch_size=8, epochs=epochs, verbose=0, callbacks=[clock])


def test_clock_counts_steps_across_epochs_and_executions():
    clock = training.TrainingClock()
    _fit(clock, epochs=2, steps_per_execution=2)
    assert clock.steps == [2, 4, 6, 8, 10, 12, 14, 16]  # 8 steps an epoch, a batch end every 2
    assert clock.total_steps == 16
    assert len(clock.times) == len(clock.cpu_times) == 8 and np.all(np.diff(clock.times) >= 0)
    assert len(clock.seconds) == 2 and 0 < clock.seconds[0] <= clock.seconds[1]
    assert set(clock.last_logs) >= {"loss"}


def test_clock_budget_stops_fit_after_the_first_step_past_it():
    clock = training.TrainingClock(budget_seconds=1e-9)
    _fit(clock, epochs=3)
    assert clock.total_steps == 1 and len(clock.seconds) == 1


def test_clock_budget_is_checked():
    with pytest.raises(ValueError, match=r"`budget_seconds` must be a finite float > 0. Received: budget_seconds=-1"):
        training.TrainingClock(budget_seconds=-1)
