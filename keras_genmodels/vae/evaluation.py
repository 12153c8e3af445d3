"""Held-out evaluation of a VAE in nats.

- `elbo`: the evidence lower bound
      ELBO(x) = E_Q[log p(x|h)] − KL(Q(h|x) || p(h)),
  with the expectation estimated from `num_samples` draws and the KL in closed form.
- `importance_weighted_bound`: the bound of Burda et al. (2015),
      log p(x) ≥ L_K(x) = E[ log (1/K) Σ_k p(x, h_k) / Q(h_k|x) ],  h_k ~ Q(h|x),
  which tightens as K grows (L_1 = ELBO); K = 5000 is the literature's
  estimate of the negative log-likelihood, NLL ≈ −L_5000.
"""

import math

import numpy as np
from keras import ops

from keras_genmodels import _validation as v
from keras_genmodels.vae import losses


def _check_model(model):
    from keras_genmodels.vae.model import VAE

    if not isinstance(model, VAE):
        raise ValueError(f"`model` must be a VAE. Received: {type(model).__name__}")


def _batches(data, batch_size, model):
    """Yield float32 NumPy batches of x from an array or a `tf.data.Dataset`."""
    if hasattr(data, "as_numpy_iterator"):
        for item in data.as_numpy_iterator():
            x = item[0] if isinstance(item, tuple) else item
            yield np.asarray(x, dtype="float32")
        return
    # Shape, dtype, emptiness and finiteness here; the value range in `encode`.
    x = v.check_array("data", data, feature_shape=model.data_shape, allow_empty=True)
    if x.shape[0] == 0:
        raise ValueError(f"`data` must hold at least one example. Received: shape={x.shape}")
    for start in range(0, x.shape[0], batch_size):
        yield x[start : start + batch_size].astype("float32")


def _progress(verbose, target, unit):
    """A `keras.utils.Progbar` (or None when `verbose` is 0) counting `unit`s up to `target`."""
    verbose = v.check_choice("verbose", verbose, (0, 1, 2))
    if not verbose:
        return None
    import keras

    return keras.utils.Progbar(target, verbose=verbose, unit_name=unit)


def _count(data):
    """The number of examples of an array (`None` for a dataset, or anything `_batches` refuses)."""
    shape = getattr(data, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) > 0 else None


def _summary(values):
    values = np.concatenate(values)
    summed = values.astype("float64")  # a float32 mean of ~250-nat values is off by a few 1e-5
    return {
        "mean": float(summed.mean()),
        "stderr": float(summed.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan"),
        "n": int(len(values)),
        "per_example": values,
    }


def elbo(model, data, num_samples=1, batch_size=500, verbose=0):
    """ELBO in nats per example, with its standard error over examples.

    Args:
        model: a `VAE`.
        data: array of shape `(n,) + model.data_shape`, or a `tf.data.Dataset`
            yielding such batches (or `(x, y)` pairs).
        num_samples: draws of h per example for E_Q[log p(x|h)]. Defaults to `1`.
        batch_size: examples per batch for arrays. Defaults to `500`.
        verbose: 0 (silent), 1 (a progress bar over the examples) or 2.
            Defaults to `0`.

    Returns:
        dict with `mean`, `stderr`, `n`, `per_example` (NumPy), plus the means
        of `reconstruction_loss` and `kl_loss`.
    """
    _check_model(model)
    num_samples = v.check_positive_int("num_samples", num_samples)
    batch_size = v.check_positive_int("batch_size", batch_size)
    progress = _progress(verbose, _count(data), "example")
    values, recs, kls = [], [], []
    for x in _batches(data, batch_size, model):
        z_mean, z_log_var = model.encode(x)
        kl = losses.kl_standard_normal(z_mean, z_log_var)
        rec = 0.0
        for _ in range(num_samples):
            h = model.sampling([z_mean, z_log_var])
            rec = rec - model.log_likelihood(x, model.decoder(h, training=False))
        rec = rec / num_samples
        recs.append(ops.convert_to_numpy(rec))
        kls.append(ops.convert_to_numpy(kl))
        values.append(ops.convert_to_numpy(-(rec + kl)))
        if progress is not None:
            progress.add(x.shape[0])
    out = _summary(values)
    out["reconstruction_loss"] = float(np.concatenate(recs).mean())
    out["kl_loss"] = float(np.concatenate(kls).mean())
    return out


def importance_weighted_bound(model, data, num_samples=5000, batch_size=100, max_decodes=8192, verbose=0):
    """The importance-weighted bound L_K on log p(x), in nats per example.

        log w_k = log p(x|h_k) + log p(h_k) − log Q(h_k|x),   h_k ~ Q(h|x)
        L_K     = logsumexp_k(log w_k) − log K

    The K draws are processed in chunks so that at most `max_decodes`
    decoder evaluations are in memory at once; the running log-sum-exp keeps
    the result exact for any K.

    Args:
        model: a `VAE`.
        data: array or `tf.data.Dataset`, as for `elbo`.
        num_samples: K, importance samples per example. Defaults to `5000`.
        batch_size: examples per batch for arrays. Defaults to `100`.
        max_decodes: decoder evaluations per chunk. Defaults to `8192`.
        verbose: 0 (silent), 1 (a progress bar over the K draws of every
            example) or 2. Defaults to `0`.

    Returns:
        dict with `mean` (L_K averaged over examples; −mean estimates the NLL),
        `stderr`, `n`, `per_example`.
    """
    _check_model(model)
    num_samples = v.check_positive_int("num_samples", num_samples)
    batch_size = v.check_positive_int("batch_size", batch_size)
    max_decodes = v.check_positive_int("max_decodes", max_decodes)
    n = _count(data)
    progress = _progress(verbose, None if n is None else n * num_samples, "draw")
    values = []
    for x in _batches(data, batch_size, model):
        b = x.shape[0]
        # The densities in float32, whatever the model computes in (mixed_bfloat16's layers return bfloat16).
        z_mean, z_log_var = (ops.cast(t, "float32") for t in model.encode(x))
        chunk = max(1, min(num_samples, max_decodes // b))
        x_rep = None
        running = None  # running logsumexp over the draws so far, (b,)
        done = 0
        while done < num_samples:
            k = min(chunk, num_samples - done)
            if x_rep is None or ops.shape(x_rep)[0] != b * k:
                x_rep = ops.repeat(ops.convert_to_tensor(x), k, axis=0)  # (b*k, ...)
            mean_rep = ops.repeat(z_mean, k, axis=0)  # (b*k, d), example-major
            log_var_rep = ops.repeat(z_log_var, k, axis=0)
            h = ops.cast(model.sampling([mean_rep, log_var_rep]), "float32")
            log_px_h = model.log_likelihood(x_rep, model.decoder(h, training=False))
            log_w = (
                log_px_h
                + losses.standard_normal_log_density(h)
                - losses.diagonal_gaussian_log_density(h, mean_rep, log_var_rep)
            )
            chunk_lse = ops.logsumexp(ops.reshape(log_w, (b, k)), axis=1)
            running = chunk_lse if running is None else ops.logaddexp(running, chunk_lse)
            done += k
            if progress is not None:
                progress.add(b * k)
        values.append(ops.convert_to_numpy(running) - math.log(num_samples))
    return _summary(values)
