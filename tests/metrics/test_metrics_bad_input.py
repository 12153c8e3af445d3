"""Bad input to the metrics: one table, each row a call, the error and its message.

Every expression spans what was expected and what was received, as in
`tests/test_bad_input.py`.
"""

import numpy as np
import pytest

from keras_genmodels.metrics import (
    frechet_distance,
    gaussian_frechet_distance,
    ising_distances,
    kernel_distance,
    precision_recall,
    wasserstein_distance_1d,
)

NAN, INF = float("nan"), float("inf")
RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 4))
Y = RNG.normal(size=(25, 4))
WIDE = RNG.normal(size=(20, 5))
WITH_NAN = X.copy()
WITH_NAN[3, 1] = NAN
WITH_INF = X.copy()
WITH_INF[0, 0] = INF
SPINS = np.where(RNG.random((10, 4, 4)) < 0.5, -1, 1).astype(np.int8)
SPINS_L6 = np.ones((10, 6, 6), dtype=np.int8)

CASES = {
    # Fréchet distance
    "fd 1-D features": (
        lambda: frechet_distance(X[:, 0], Y[:, 0]),
        r"`features_a` must have shape \(n_samples, n_features\)\. Received: shape=\(20,\)",
    ),
    "fd 3-D features": (
        lambda: frechet_distance(X, Y.reshape(25, 2, 2)),
        r"`features_b` must have shape \(n_samples, n_features\)\. Received: shape=\(25, 2, 2\)",
    ),
    "fd NaN": (
        lambda: frechet_distance(WITH_NAN, Y),
        r"`features_a` must contain only finite values\. Received 1 NaN/Inf",
    ),
    "fd Inf": (
        lambda: frechet_distance(X, WITH_INF),
        r"`features_b` must contain only finite values\. Received 1 NaN/Inf",
    ),
    "fd widths": (
        lambda: frechet_distance(X, WIDE),
        r"same number of features\. Received: features_a\.shape=\(20, 4\), features_b\.shape=\(20, 5\)",
    ),
    "fd one sample": (
        lambda: frechet_distance(X[:1], Y),
        r"`features_a` must hold at least 2 samples\. Received: shape=\(1, 4\)",
    ),
    "fd empty": (
        lambda: frechet_distance(X, np.zeros((0, 4))),
        r"`features_b` must not be empty\. Received: shape=\(0, 4\)",
    ),
    "fd strings": (
        lambda: frechet_distance(X, [["a", "b"]]),
        r"`features_b` must be a numeric array\. Received dtype=<U1",
    ),
    "gaussian fd non-symmetric covariance": (
        lambda: gaussian_frechet_distance([0, 0], [[1, 0.5], [0, 1]], [0, 0], np.eye(2)),
        r"`cov_a` must be symmetric\. Received a matrix with max \|cov - cov\.T\| = 0\.5",
    ),
    "gaussian fd covariance shape": (
        lambda: gaussian_frechet_distance([0, 0], np.eye(2), [0, 0], np.eye(3)),
        r"`cov_b` must have shape \(d, d\) = \(2, 2\) to match `mean_b`\. Received: shape=\(3, 3\)",
    ),
    "gaussian fd dimensions": (
        lambda: gaussian_frechet_distance([0, 0], np.eye(2), [0], np.eye(1)),
        r"same dimension\. Received: mean_a\.shape=\(2,\), mean_b\.shape=\(1,\)",
    ),
    # Kernel distance
    "kd subsets 0": (
        lambda: kernel_distance(X, Y, subsets=0),
        r"`subsets` must be a positive int\. Received: subsets=0",
    ),
    "kd subsets float": (
        lambda: kernel_distance(X, Y, subsets=2.5),
        r"`subsets` must be a positive int\. Received: subsets=2\.5",
    ),
    "kd subset_size bool": (
        lambda: kernel_distance(X, Y, subset_size=True),
        r"`subset_size` must be a positive int\. Received: subset_size=True",
    ),
    "kd subset_size 1": (
        lambda: kernel_distance(X, Y, subset_size=1),
        (
            r"min\(subset_size, n_a, n_b\) must be >= 2\. Received: subset_size=1, "
            r"features_a\.shape=\(20, 4\), features_b\.shape=\(25, 4\)"
        ),
    ),
    "kd one sample": (
        lambda: kernel_distance(X, Y[:1]),
        (
            r"min\(subset_size, n_a, n_b\) must be >= 2\. Received: subset_size=1000, "
            r"features_a\.shape=\(20, 4\), features_b\.shape=\(1, 4\)"
        ),
    ),
    "kd negative seed": (
        lambda: kernel_distance(X, Y, seed=-1),
        r"`seed` must be None or an int in \[0, 2\*\*63 - 2\]\. Received: seed=-1",
    ),
    "kd widths": (
        lambda: kernel_distance(WIDE, Y),
        r"same number of features\. Received: features_a\.shape=\(20, 5\), features_b\.shape=\(25, 4\)",
    ),
    "kd NaN": (
        lambda: kernel_distance(X, WITH_NAN),
        r"`features_b` must contain only finite values\. Received 1 NaN/Inf",
    ),
    # Precision and recall
    "pr k 0": (
        lambda: precision_recall(X, Y, k=0),
        r"`k` must be a positive int\. Received: k=0",
    ),
    "pr batch_size -1": (
        lambda: precision_recall(X, Y, batch_size=-1),
        r"`batch_size` must be a positive int\. Received: batch_size=-1",
    ),
    "pr n <= k": (
        lambda: precision_recall(X, Y[:3], k=3),
        r"`generated_features` must hold at least 4 samples\. Received: shape=\(3, 4\)",
    ),
    "pr widths": (
        lambda: precision_recall(X, WIDE),
        (
            r"same number of features\. Received: real_features\.shape=\(20, 4\), "
            r"generated_features\.shape=\(20, 5\)"
        ),
    ),
    "pr Inf": (
        lambda: precision_recall(WITH_INF, Y),
        r"`real_features` must contain only finite values\. Received 1 NaN/Inf",
    ),
    "pr 1-D": (
        lambda: precision_recall(X, Y[:, 0]),
        r"`generated_features` must have shape \(n_samples, n_features\)\. Received: shape=\(25,\)",
    ),
    # 1-Wasserstein
    "w1 2-D": (
        lambda: wasserstein_distance_1d(X, Y[:, 0]),
        r"`u` must have shape \(n,\)\. Received: shape=\(20, 4\)",
    ),
    "w1 empty": (
        lambda: wasserstein_distance_1d([1.0], []),
        r"`v` must not be empty\. Received: shape=\(0,\)",
    ),
    "w1 NaN": (
        lambda: wasserstein_distance_1d([1.0, NAN], [0.0]),
        r"`u` must contain only finite values\. Received 1 NaN/Inf",
    ),
    # Ising
    "ising not square": (
        lambda: ising_distances(np.ones((10, 4, 5)), SPINS, 2.5),
        r"`samples` must have shape \(batch, L, L\) or \(batch, L\*L\)\. Received: shape=\(10, 4, 5\)",
    ),
    "ising flat not a square": (
        lambda: ising_distances(SPINS, np.ones((10, 15)), 2.5),
        (
            r"`reference_samples` must have shape \(batch, L, L\) or \(batch, L\*L\) with L\*L a square\. "
            r"Received: shape=\(10, 15\)"
        ),
    ),
    "ising 4-D": (
        lambda: ising_distances(SPINS[:, None], SPINS, 2.5),
        r"`samples` must have shape \(batch, L, L\) or \(batch, L\*L\)\. Received: shape=\(10, 1, 4, 4\)",
    ),
    "ising bits as spins": (
        lambda: ising_distances((SPINS + 1) // 2, SPINS, 2.5),
        r"`samples` must contain only the values -1 and 1 \(spin encoding\).*Received values such as \[0",
    ),
    "ising spins as bits": (
        lambda: ising_distances(SPINS, SPINS, 2.5, encoding="binary"),
        r"`samples` must contain only the values 0 and 1 \(binary encoding\).*Received values such as \[-1",
    ),
    "ising unknown encoding": (
        lambda: ising_distances(SPINS, SPINS, 2.5, encoding="bits"),
        r"`encoding` must be one of \['binary', 'spin'\]\. Received: encoding='bits'",
    ),
    "ising unknown reference encoding": (
        lambda: ising_distances(SPINS, SPINS, 2.5, reference_encoding="ising"),
        r"`reference_encoding` must be one of \['binary', 'spin'\]\. Received: reference_encoding='ising'",
    ),
    "ising lattice sizes": (
        lambda: ising_distances(SPINS, SPINS_L6, 2.5),
        r"configurations of one lattice size\. Received: L=4 and L=6",
    ),
    "ising one sample": (
        lambda: ising_distances(SPINS[:1], SPINS, 2.5),
        r"`samples` must hold at least 2 configurations\. Received: shape=\(1, 4, 4\)",
    ),
    "ising NaN": (
        lambda: ising_distances(SPINS, np.where(SPINS > 0, 1.0, NAN), 2.5),
        r"`reference_samples` must contain only finite values\. Received \d+ NaN/Inf",
    ),
    "ising temperature 0": (
        lambda: ising_distances(SPINS, SPINS, 0.0),
        r"`temperature` must be a finite float > 0\. Received: temperature=0\.0",
    ),
    "ising n_blocks 0": (
        lambda: ising_distances(SPINS, SPINS, 2.5, n_blocks=0),
        r"`n_blocks` must be a positive int\. Received: n_blocks=0",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_clearly(case):
    call, message = CASES[case]
    with pytest.raises(ValueError, match=message):
        call()
