"""Fixtures of the RBM tests: binarised Fashion-MNIST."""

import pytest


@pytest.fixture(scope="session")
def binary_fashion(fashion_mnist_arrays):
    """Binarised (pixel > 127) flattened Fashion-MNIST: 10,000 train and 2,000 test images."""
    x_train = fashion_mnist_arrays["train"][0][:10000].reshape(-1, 784)
    x_test = fashion_mnist_arrays["test"][0][:2000].reshape(-1, 784)
    return (x_train > 0.5).astype("float32"), (x_test > 0.5).astype("float32")
