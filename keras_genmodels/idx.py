"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzipped).

The format (LeCun et al.): a 4-byte magic number ``0x00 0x00 <type> <ndim>``,
then ``ndim`` big-endian uint32 dimension sizes, then the data in C order.
"""

import gzip
import math
import os
import zlib

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

# DEFLATE expands at most ~1032-fold, so a gzip file of n bytes holds at most
# this many times n bytes: a header claiming more is refused before reading.
_MAX_GZIP_RATIO = 1032
_CHUNK = 1 << 20


def parse_idx(data, source="<bytes>"):
    """Parse the bytes of an IDX file into a NumPy array.

    Args:
        data: the whole (decompressed) file as `bytes`.
        source: a name for error messages.

    Returns:
        A NumPy array with the file's shape, in native byte order.

    Raises:
        ValueError: `data` is not a complete IDX file. Nothing larger than
            `data` itself is allocated, whatever sizes the header claims.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(
            "Expected the bytes of an IDX file (bytes, bytearray or memoryview). "
            f"Received: {type(data).__name__}"
        )
    data = bytes(data)
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
    # Python ints: a lying header (e.g. 255 dimensions of 2^32 - 1) cannot
    # overflow into a size that happens to match.
    expected = math.prod(shape) * dtype.itemsize
    received = len(data) - header
    if received != expected:
        raise ValueError(
            f"Expected {expected} data bytes for an IDX array of shape {shape} and "
            f"dtype {dtype.name}. Received {received} bytes from {source} "
            f"({'truncated' if received < expected else 'trailing data'})."
        )
    try:
        arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    except ValueError as e:  # e.g. shape (0, 2^32 - 1, 2^32 - 1): too big for NumPy
        raise ValueError(
            f"Expected an IDX array shape that NumPy can hold. Received shape {shape} "
            f"from {source} ({e})."
        ) from None
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path):
    """Read an IDX file (``.gz`` or uncompressed) into a NumPy array.

    A gzipped file is decompressed in chunks, and only as far as its header
    says: a file whose header claims more data than it can hold (or that
    decompresses to more than the header says) is refused without
    allocating what the header claims.

    Args:
        path: path of the file.

    Returns:
        A NumPy array with the shape stored in the file's header.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: `path` is not a path, is a folder, or the file is not a
            complete IDX file (truncated, corrupt, trailing data).
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise ValueError(
            f"`path` must be the path of an IDX file (a str or os.PathLike). Received: path={path!r}"
        )
    path = os.fsdecode(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an IDX file. No file at {path!r}.")
    if os.path.isdir(path):
        raise ValueError(f"Expected an IDX file. Received a folder: {path!r}.")
    with open(path, "rb") as f:
        magic = f.read(2)
        f.seek(0)
        if magic != b"\x1f\x8b":
            return parse_idx(f.read(), source=repr(path))
        size = os.fstat(f.fileno()).st_size
        try:
            raw = _read_gzip(f, size, path)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(
                f"Expected a complete gzip-compressed IDX file. Received {path!r}, "
                f"which cannot be decompressed ({e})."
            ) from e
    return parse_idx(raw, source=repr(path))


def _read_gzip(f, compressed_size, path):
    """The decompressed bytes of the gzip stream `f`, read no further than its
    IDX header says (plus one byte, to notice trailing data)."""
    with gzip.GzipFile(fileobj=f, mode="rb") as gz:
        head = gz.read(4)
        if len(head) < 4 or head[3] == 0:
            return head  # parse_idx says what is wrong
        head += gz.read(4 * head[3])
        if len(head) < 4 + 4 * head[3] or head[2] not in _IDX_DTYPES:
            return head
        dims = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(head[3])]
        expected = math.prod(dims) * _IDX_DTYPES[head[2]].itemsize
        if expected > _MAX_GZIP_RATIO * compressed_size + _CHUNK:
            raise ValueError(
                f"Expected an IDX file whose header matches its size. Received {path!r}, "
                f"a gzip file of {compressed_size} bytes whose header claims "
                f"{expected} data bytes (shape {tuple(dims)}), more than it can hold "
                "(truncated or corrupt)."
            )
        chunks, total = [head], 0
        while total <= expected:
            block = gz.read(min(_CHUNK, expected + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
        return b"".join(chunks)
