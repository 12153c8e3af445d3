"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzipped).

The format (LeCun et al.): a 4-byte magic number ``0x00 0x00 <type> <ndim>``,
then ``ndim`` big-endian uint32 dimension sizes, then the data in C order.
"""

import gzip
import os

import numpy as np

# IDX type byte -> NumPy dtype (big-endian where it matters).
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data, source="<bytes>"):
    """Parse the bytes of an IDX file into a NumPy array.

    Args:
        data: the whole (decompressed) file as `bytes`.
        source: a name for error messages.

    Returns:
        A NumPy array with the file's shape, in native byte order.
    """
    if len(data) < 4:
        raise ValueError(
            f"Expected an IDX file with a 4-byte header. Received {len(data)} "
            f"byte(s) from {source}."
        )
    zero1, zero2, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0 or type_code not in _IDX_DTYPES:
        raise ValueError(
            "Expected an IDX magic number 0x0000TTNN with type TT in "
            f"{[hex(t) for t in _IDX_DTYPES]}. Received 0x{data[:4].hex()} from {source}."
        )
    if ndim < 1:
        raise ValueError(
            f"Expected an IDX file with at least 1 dimension. Received ndim=0 from {source}."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"Expected an IDX header of {header} bytes for {ndim} dimension(s). "
            f"Received a file of {len(data)} bytes from {source} (truncated)."
        )
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    received = len(data) - header
    if received != expected:
        raise ValueError(
            f"Expected {expected} data bytes for an IDX array of shape {shape} and "
            f"dtype {dtype.name}. Received {received} bytes from {source} "
            f"({'truncated' if received < expected else 'trailing data'})."
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path):
    """Read an IDX file (``.gz`` or uncompressed) into a NumPy array.

    Args:
        path: path of the file.

    Returns:
        A NumPy array with the shape stored in the file's header.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an IDX file. No file at {path!r}.")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise ValueError(
                f"Expected a complete gzip-compressed IDX file. Received {path!r}, "
                f"which cannot be decompressed ({e})."
            ) from e
    return parse_idx(raw, source=repr(path))
