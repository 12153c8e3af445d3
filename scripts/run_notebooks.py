#!/usr/bin/env python
"""Execute the notebooks in full, top to bottom, and write them back with their outputs.

    python scripts/run_notebooks.py                               # every notebook in notebooks/
    python scripts/run_notebooks.py notebooks/vae_lecture.ipynb   # the ones named
    python scripts/run_notebooks.py --smoke                       # KERAS_GENMODELS_SMOKE=1, writes nothing

Each notebook runs in a fresh Jupyter kernel (`python3` unless `--kernel`),
in a temporary working directory (files a notebook writes, such as a saved
model, stay out of the checkout), with the package of this checkout first on
`PYTHONPATH`, with the full setting (`KERAS_GENMODELS_SMOKE` removed) and with
no `MPLBACKEND` (so that the kernel's inline backend shows the figures). What
native code writes to the kernel's stderr (TensorFlow's and absl's start-up
lines) goes to this script's console, not into the notebooks; Python's output
and warnings stay in them. A
notebook whose execution raised, or that holds an error output, is not
written. The notebook's own metadata is kept as it was (nbclient's kernel
details and per-cell timestamps are not recorded), so that a rerun changes
only the outputs. Prints the time each notebook took (wall clock, and the
CPU time of its kernel, which a machine shared with other work inflates less)
and the size written; exits with 1 if any notebook failed.
"""

import argparse
import copy
import os
import pathlib
import re
import resource
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", type=pathlib.Path,
                   help="notebooks to run (default: every notebooks/*.ipynb)")
    p.add_argument("--timeout", type=int, default=7200, help="seconds one cell may take")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name")
    p.add_argument("--smoke", action="store_true",
                   help="run the small setting (KERAS_GENMODELS_SMOKE=1) as a check; write nothing")
    return p.parse_args(argv)


def _environment(smoke):
    """The kernel inherits this process's environment: set it for the run."""
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(REPO) + (os.pathsep + path if path else "")
    os.environ.pop("MPLBACKEND", None)  # ipykernel then picks its inline backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if smoke:
        os.environ["KERAS_GENMODELS_SMOKE"] = "1"
    else:
        os.environ.pop("KERAS_GENMODELS_SMOKE", None)


def error_outputs(nb):
    """`(cell index, "Name: value")` of every error output of a notebook."""
    return [(i, f"{out.get('ename')}: {out.get('evalue')}")
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.output_type == "error"]


def _children_cpu_seconds():
    """User + system CPU time of this process's finished children (the kernels, once shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path, timeout, kernel, write):
    """Execute one notebook; write it back in place if it ran without error. Returns True on success."""
    import nbformat
    from nbclient import NotebookClient, exceptions

    failures = (exceptions.CellExecutionError, exceptions.CellTimeoutError, exceptions.DeadKernelError)

    nb = nbformat.read(path, as_version=4)
    metadata = copy.deepcopy(nb.metadata)
    start, cpu_start = time.perf_counter(), _children_cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="notebook-") as cwd:
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=False,
                                extra_arguments=["--IPKernelApp.capture_fd_output=False"],
                                resources={"metadata": {"path": cwd}})
        try:
            client.execute()
        except failures as error:
            seconds = time.perf_counter() - start
            text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # no terminal colours
            first_line = text.splitlines()[-1] if text else repr(error)
            print(f"{path.name}: FAILED after {seconds:.0f} s ({first_line}); not written", flush=True)
            return False
    seconds = time.perf_counter() - start
    timing = f"{seconds:.0f} s ({seconds / 60:.1f} min), kernel CPU {_children_cpu_seconds() - cpu_start:.0f} s"
    errors = error_outputs(nb)
    if errors:
        print(f"{path.name}: error outputs in cells {[i for i, _ in errors]} ({errors[0][1]}); not written",
              flush=True)
        return False
    nb.metadata = metadata
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                 for out in cell.get("outputs", []))
    if not write:
        print(f"{path.name}: {timing}, {images} figures; not written (--smoke)", flush=True)
        return True
    nbformat.validate(nb)
    tmp = path.with_name(path.name + ".tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    size = path.stat().st_size
    print(f"{path.name}: {timing}, {images} figures, written ({size / 1e6:.2f} MB)", flush=True)
    return True


def main(argv=None):
    args = _parse(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"No such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    _environment(args.smoke)
    print(f"{'Smoke' if args.smoke else 'Full'} run of {len(paths)} notebook(s) with the package in {REPO}",
          flush=True)
    failed = [p.name for p in paths if not run(p, args.timeout, args.kernel, write=not args.smoke)]
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
