"""Argument checks shared by every model family.

Each check raises a ``ValueError`` whose message names what was expected and
what was received, in the keras core style:
``"Expected a positive int. Received: latent_dim=0"``.
"""

import math
import numbers

import numpy as np


def check_positive_int(name, value, max_value=None):
    """Return `value` if it is an int > 0 (and <= `max_value`), else raise `ValueError`.

    `max_value` bounds sizes that would otherwise ask for absurd amounts of
    memory (e.g. `n_hidden=10**12`) before anything is allocated.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < 1
        or (max_value is not None and value > max_value)
    ):
        what = "a positive int" + (f" <= {max_value}" if max_value is not None else "")
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return int(value)


# Keras keeps a seed in an int64 state; the models also use `seed + 1`.
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 2


def check_seed(name, value, allow_none=True, non_negative=False, allow_seed_sequence=False):
    """Return `value` as a Python int (or `None`, or a `SeedSequence`) if it is a valid seed.

    The one seed check of the package. A seed is an int (not a bool) that fits
    Keras's int64 seed state, i.e. lies in [-2**63, 2**63 - 2], or in
    [0, 2**63 - 2] with `non_negative` (NumPy's generators take no negative
    seeds).

    Args:
        name: the argument's name, for the message.
        value: the seed.
        allow_none: whether `None` (a fresh, unseeded stream) is accepted.
            Defaults to `True`.
        non_negative: whether the int must be >= 0. Defaults to `False`.
        allow_seed_sequence: whether a `np.random.SeedSequence` is accepted
            (returned as it is). Defaults to `False`.

    Raises:
        ValueError: naming what was expected and what was received, e.g.
            "`seed` must be None or an int in [0, 2**63 - 2]. Received: seed='x'".
    """
    if allow_seed_sequence and isinstance(value, np.random.SeedSequence):
        return value
    low = 0 if non_negative else SEED_MIN
    ok = (allow_none and value is None) or (
        isinstance(value, numbers.Integral)
        and not isinstance(value, (bool, np.bool_))
        and low <= value <= SEED_MAX
    )
    if not ok:
        forms = (["None"] if allow_none else []) + [
            "an int in [0, 2**63 - 2]" if non_negative else "an int in [-2**63, 2**63 - 2]"
        ]
        if allow_seed_sequence:
            forms.append("a np.random.SeedSequence")
        what = forms[0] if len(forms) == 1 else ", ".join(forms[:-1]) + " or " + forms[-1]
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return None if value is None else int(value)


def check_positive_float(name, value, allow_zero=False):
    """Return `value` as float if it is finite and > 0 (or >= 0)."""
    try:
        ok = (
            isinstance(value, numbers.Real)
            and not isinstance(value, (bool, np.bool_))
            and math.isfinite(value)
            and (value >= 0 if allow_zero else value > 0)
        )
    except OverflowError:  # an int too large for a float, e.g. 10**400
        ok = False
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
    try:
        known = value in choices
    except TypeError:  # an unhashable value tested against a set
        known = False
    if not known:
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
    check_finite=True,
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
        check_finite: whether NaN/Inf values are refused here (`False` when a
            graph assertion checks them later, e.g. in a model's `train_step`).
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
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(
            f"`{name}` must be a real (not complex) numeric array. "
            f"Received dtype={arr.dtype}"
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
    if check_finite and np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
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


# ---------------------------------------------------------------------------
# Command-line flags: argparse `type`s, so that a bad value is refused while
# the arguments are parsed, with argparse's "argument --flag: ..." naming it.


def _flag_type(convert, check, what):
    def parse(text):
        try:
            return check(convert(text))
        except (TypeError, ValueError):
            import argparse

            raise argparse.ArgumentTypeError(f"must be {what}. Received: {text!r}") from None

    parse.__name__ = what  # argparse names the type in some messages
    return parse


positive_int_flag = _flag_type(int, lambda x: check_positive_int("flag", x), "a positive int")
non_negative_int_flag = _flag_type(
    int, lambda x: x if x >= 0 else check_positive_int("flag", x), "an int >= 0"
)
positive_float_flag = _flag_type(float, lambda x: check_positive_float("flag", x), "a finite float > 0")
non_negative_float_flag = _flag_type(
    float, lambda x: check_positive_float("flag", x, allow_zero=True), "a finite float >= 0"
)
seed_flag = _flag_type(int, lambda x: check_seed("flag", x, allow_none=False), "an int in [-2**63, 2**63 - 2]")
