"""Argument checks shared by every model family.

Each check raises a ``ValueError`` whose message names what was expected and
what was received, in the keras core style:
``"Expected a positive int. Received: latent_dim=0"``.
"""

import math
import numbers

import numpy as np


def check_positive_int(name, value):
    """Return `value` if it is an int > 0, else raise `ValueError`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < 1
    ):
        raise ValueError(
            f"`{name}` must be a positive int. Received: {name}={value!r}"
        )
    return int(value)


def check_positive_float(name, value, allow_zero=False):
    """Return `value` as float if it is finite and > 0 (or >= 0)."""
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        what = "a finite float >= 0" if allow_zero else "a finite float > 0"
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return float(value)


def check_bool(name, value):
    """Return `value` as a Python bool if it is a bool (or NumPy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def check_choice(name, value, choices):
    """Return `value` if it is one of `choices`, else raise `ValueError`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}. Received: {name}={value!r}"
        )
    return value


def check_array(
    name,
    x,
    feature_shape=None,
    min_value=None,
    max_value=None,
    binary=False,
    allow_empty=False,
):
    """Validate an array-like eagerly and return it as a NumPy array.

    Args:
        name: name used in error messages.
        x: array-like (NumPy array, list, eager tensor).
        feature_shape: expected shape of one example (everything but the
            batch axis), or `None` to skip the check.
        min_value, max_value: inclusive value range, or `None`.
        binary: if `True`, every value must be 0 or 1.
        allow_empty: whether a batch of zero examples is accepted.
    """
    try:
        arr = np.asarray(x)
    except Exception as e:  # pragma: no cover - exotic inputs
        raise ValueError(
            f"`{name}` must be array-like. Received: {type(x).__name__}"
        ) from e
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise ValueError(
            f"`{name}` must be a numeric array. Received dtype={arr.dtype}"
        )
    if feature_shape is not None:
        expected = tuple(feature_shape)
        if arr.ndim != len(expected) + 1 or tuple(arr.shape[1:]) != expected:
            raise ValueError(
                f"`{name}` must have shape (batch, {', '.join(map(str, expected))}). "
                f"Received: shape={arr.shape}"
            )
    if arr.size == 0:
        if allow_empty:
            return arr
        raise ValueError(f"`{name}` must not be empty. Received: shape={arr.shape}")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"`{name}` must contain only finite values. "
            f"Received {n_bad} NaN/Inf value(s)."
        )
    if binary:
        if not np.all((arr == 0) | (arr == 1)):
            bad = arr[(arr != 0) & (arr != 1)].ravel()[:3]
            raise ValueError(
                f"`{name}` must be binary (every value 0 or 1). "
                f"Received values such as {bad.tolist()}."
            )
    lo = arr.min() if (min_value is not None or max_value is not None) else None
    hi = arr.max() if lo is not None else None
    if min_value is not None and lo < min_value or (
        max_value is not None and hi > max_value
    ):
        raise ValueError(
            f"`{name}` must have values in [{min_value}, {max_value}]. "
            f"Received values in [{lo}, {hi}]."
            + (
                " Pixels in 0..255 must be divided by 255 first."
                if hi is not None and hi > 1 and max_value == 1
                else ""
            )
        )
    return arr
