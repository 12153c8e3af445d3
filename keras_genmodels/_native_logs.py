"""TensorFlow's native start-up and compile lines, kept off the command line's stderr.

TensorFlow's C++ side writes INFO lines to file descriptor 2 as it loads and
compiles ("oneDNN custom operations are on", "Compiled cluster using XLA!",
and absl's "WARNING: All log messages before absl::InitializeLog() ...")
before `TF_CPP_MIN_LOG_LEVEL` can apply to them. `filtered_stderr()` routes
descriptor 2 through a pipe whose reader forwards every line except those
(absl INFO lines, `I` + date, and that one absl warning): errors, warnings
and Python's own messages pass unchanged and in order.
`KERAS_GENMODELS_TF_LOGS=1` shows everything.
"""

import contextlib
import os
import re
import sys
import threading

# absl's INFO lines ("I1203 09:41:33.824400    3788 file.cc:269] ...", or with
# "I0000 00:00:<seconds>" before absl is initialised) and its one warning
# about logging before initialisation.
NOISE = re.compile(
    rb"^(I\d{4} [\d:.]+ +\d+ \S+:\d+\] |"
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)"
)


@contextlib.contextmanager
def filtered_stderr(noise=NOISE):
    """While the block runs, drop the lines of file descriptor 2 that match `noise`."""
    if os.environ.get("KERAS_GENMODELS_TF_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                if not noise.match(line):
                    os.write(saved, line)

    reader = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    reader.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the reader sees its end
        reader.join(timeout=10)
        os.close(saved)
