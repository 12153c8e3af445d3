"""How good are the samples? Distances between generated and real samples.

On features (one row of d numbers per sample, `distances`, NumPy only):

- `frechet_distance` (FD; FID with Inception features): the Fréchet
  (2-Wasserstein) distance of the Gaussians fitted to the two sets,

      FD = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}),

  in float64, with tr((Σ_a Σ_b)^{1/2}) = Σ sqrt(λ(Σ_a^{1/2} Σ_b Σ_a^{1/2}))
  from symmetric eigendecompositions (Heusel et al. 2017, arXiv 1706.08500).
  `gaussian_frechet_distance` takes the means and covariances.
- `kernel_distance` (KD; KID with Inception features): the unbiased MMD²
  with k(x, y) = (xᵀy / d + 1)³, mean ± std over random subsets
  (Bińkowski et al. 2018, arXiv 1801.01401),

      MMD²_u = Σ_{i≠j} [k(a_i, a_j) + k(b_i, b_j)] / (m(m−1)) − 2 Σ_{i,j} k(a_i, b_j) / m².

- `precision_recall`: with each set's manifold the union of balls reaching
  each sample's k-th nearest neighbour, precision = fraction of generated
  samples in the real manifold (fidelity), recall = fraction of real samples
  in the generated manifold (coverage) (Kynkäänniemi et al. 2019,
  arXiv 1904.06991).
- `wasserstein_distance_1d`: W1 = ∫ |F_u − F_v| dx of two empirical
  distributions on the line, exact.

On 28 x 28 grey-level images (`images`, `monitor`):

- `image_features`: the penultimate layer (128 wide) of the library's
  feature network, the preset `feature_network_fashion_mnist`
  (`keras_genmodels.features.FeatureNetwork`, a small classifier trained on
  the Fashion-MNIST training split; loaded once per process);
- `image_quality(images, reference="fashion_mnist:test", n=10000)`: FD, KD
  (mean ± std), precision and recall of generated images against a named
  split (its features cached per process) or an array of images, with the
  sample sizes and the features used;
- `SampleMonitor`: a callback that logs these scores on a small sample every
  few epochs and writes grids of samples (PNG, TensorBoard), for any model
  with `sample(n, seed=...)`.

These are not FID and KID: InceptionV3's weights cannot be downloaded here,
so the features are the library's own network's, and the scores compare
models with each other, not with papers that use InceptionV3
(docs/quality.md).

For the 2D Ising model (`ising`): `ising_distances` gives W1 of the energy
and magnetisation per spin (D'Angelo & Böttcher 2020, Phys. Rev. Research 2,
023266), the fraction of samples with m > 0, and e, <|m|>, c, chi of both sets
with error bars and relative errors.

Caveat: FD, KD and precision/recall are only as meaningful as the features.
The features set the scale (FD and KD change with any rescaling of them) and
decide which differences are seen at all; compare numbers only when computed
with the same features, the same sample sizes and, for KD, the same subsets.
"""

from keras_genmodels._lazy import lazy_attributes
from keras_genmodels.metrics import distances
from keras_genmodels.metrics.distances import (
    KernelDistance,
    PrecisionRecall,
    frechet_distance,
    gaussian_frechet_distance,
    kernel_distance,
    precision_recall,
    wasserstein_distance_1d,
)

# `ising` imports `keras_genmodels.physics` (and with it Keras), `images` loads the
# feature network, `monitor` imports Keras: on first use.
__getattr__, __dir__ = lazy_attributes(__name__, {
    "ising_distances": "ising",
    "image_features": "images",
    "image_quality": "images",
    "SampleMonitor": "monitor",
})

__all__ = [
    "KernelDistance",
    "PrecisionRecall",
    "SampleMonitor",
    "distances",
    "frechet_distance",
    "gaussian_frechet_distance",
    "image_features",
    "image_quality",
    "images",
    "ising",
    "ising_distances",
    "kernel_distance",
    "monitor",
    "precision_recall",
    "wasserstein_distance_1d",
]
