"""A Keras callback that measures the physics of a model's samples during `fit`."""

import keras
import numpy as np

from keras_genmodels._validation import check_positive_int
from keras_genmodels.physics import analysis, exact, lattice


class IsingObservables(keras.callbacks.Callback):
    """Logs the Ising observables of samples of the model being trained.

    Every `every` epochs, draws `n_samples` configurations from the model
    (`analysis.model_samples`: block Gibbs chains for an RBM, Bernoulli draws
    from decoded latents for a VAE), and adds to the epoch's logs (so they
    appear in `History.history`)

        ising_energy, ising_abs_magnetization, ising_heat_capacity,
        ising_susceptibility, ising_binder_cumulant,

    each with an `_error` partner (jackknife). With `reference` (e.g.
    `exact.exact_observables(L, T)` or Monte Carlo values), also
    `ising_<name>_deviation` = (model - reference) / reference. For an RBM of
    an enumerable lattice (L <= 4), `ising_kl` = KL(p_T || q) exactly.

    Args:
        temperature: T of the training data (enters c and chi).
        n_samples: int, samples drawn each time. Defaults to `1000`.
        every: int, epochs between measurements. Defaults to `1`.
        gibbs_steps: Gibbs sweeps of RBM chains. Defaults to `200`.
        reference: dict name -> float, or `None`. Defaults to `None`.
        exact_kl: log `ising_kl` when the model is an enumerable RBM.
            Defaults to `True`.
        seed: int; epoch e uses seed + e. Defaults to `0`.
        verbose: print the measurements. Defaults to `0`.

    Example:
    ```python
    rbm.fit(x, epochs=20, callbacks=[IsingObservables(T_C, every=5,
            reference=exact.exact_observables(4, T_C))])
    ```
    """

    def __init__(
        self,
        temperature,
        n_samples=1000,
        every=1,
        gibbs_steps=200,
        reference=None,
        exact_kl=True,
        seed=0,
        verbose=0,
    ):
        super().__init__()
        self.temperature = lattice.check_temperature(temperature)
        self.n_samples = check_positive_int("n_samples", n_samples)
        if self.n_samples < 2:
            raise ValueError(
                f"`n_samples` must be >= 2 to measure fluctuations. Received: n_samples={n_samples}"
            )
        self.every = check_positive_int("every", every)
        self.gibbs_steps = check_positive_int("gibbs_steps", gibbs_steps)
        self.reference = None if reference is None else {k: float(np.asarray(v)) for k, v in reference.items()}
        self.exact_kl = bool(exact_kl)
        self.seed = int(seed)
        self.verbose = verbose
        self.records = []

    def measure(self, epoch=0):
        """The observables of fresh model samples, as a flat dict of floats."""
        est = analysis.sample_observables(
            self.model,
            self.n_samples,
            self.temperature,
            seed=self.seed + epoch,
            gibbs_steps=self.gibbs_steps,
        )
        out = {}
        for name, e in est.items():
            out[f"ising_{name}"] = e.value
            out[f"ising_{name}_error"] = e.error
            if self.reference is not None and name in self.reference and self.reference[name]:
                out[f"ising_{name}_deviation"] = e.value / self.reference[name] - 1.0
        n_visible = getattr(self.model, "n_visible", None)
        if (
            self.exact_kl
            and hasattr(self.model, "free_energy")
            and n_visible is not None
            and n_visible <= exact.MAX_EXACT_L**2
        ):
            out["ising_kl"] = analysis.rbm_exact_kl(self.model, self.temperature)
        return out

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        values = self.measure(epoch)
        self.records.append({"epoch": epoch + 1, **values})
        if logs is not None:
            logs.update(values)
        if self.verbose:
            shown = ", ".join(
                f"{k[6:]}={v:.4g}" for k, v in values.items() if not k.endswith("_error")
            )
            print(f"epoch {epoch + 1}: {shown}")
