"""README.md and docs/*.md run as printed: every Python block and every cheap shell command.

For each Markdown file, in the order of the file:

- ```python (or ```py) blocks run one after another in ONE fresh interpreter
  (`sys.executable`, `tests/docs_smoke/run_blocks.py`), in one namespace, so
  that later blocks use the names of earlier ones; each block is compiled on
  its own, so a failure names the file and the line of the block. After a
  failed block the file's later Python blocks are not run (they would fail on
  its names). A block whose first line is `# not run: <reason>` is skipped
  (illustrative code); one whose first line is `# run in a new process:
  <reason>` runs alone in an interpreter of its own (code that must come
  first in a program).
- ```bash, ```sh, ```shell and ```console blocks (in the last, the lines
  after `$ `): every command line (`\\` continuations joined, `a && b` split)
  runs with `bash -c`, unless `SKIPPED` says why it cannot run here or is not
  cheap. `.venv/bin/X` runs as the `X` of this interpreter's environment, and
  `python` is `sys.executable`: the tests may run in another environment
  than the README's `.venv`. To keep the time down (each process that imports
  TensorFlow costs ~7 s of CPU), a command repeated in a later line or file
  runs once, and of the `keras-genmodels` commands of one kind in a file
  (`train vae`, `evaluate MODEL`, ...) the first runs in full and the later
  variants only have their arguments parsed (`collect_docs`).

Everything runs in a temporary folder laid out like the repository for what
the snippets read: `saved_models/` copied (the snippets write there too, and
must not overwrite the committed files), `scripts/`, `bench/`, `docs/`,
`keras_genmodels/` and `keras_genmodels_cli.py` linked. Fashion-MNIST comes
from Debian's `/usr/share/datasets/fashion-mnist` through the library's own
lookup (the test is skipped without it); `TFDS_DATA_DIR`, unless the suite
sets one, and `KERAS_GENMODELS_DATA_DIR` (the Ising cache) point at the
test's own temporary folders.

Sizes: every process gets `KERAS_GENMODELS_DOCS_SMOKE=1` and
`tests/docs_smoke` on `PYTHONPATH`, whose `sitecustomize.py` caps epochs,
examples, importance samples, AIS temperatures, Gibbs sweeps and Ising
configurations, and turns XLA off for the RBMs' `fit`, at start-up (its
docstring has the table), so that the snippets' 30-epoch trainings run in
seconds. The README need not show any of this.
"""

import concurrent.futures
import dataclasses
import json
import os
import pathlib
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SMOKE_DIR = REPO / "tests" / "docs_smoke"
DOCS = ["README.md"] + sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))
DEBIAN_FASHION_MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
LINKED = ("scripts", "bench", "docs", "keras_genmodels", "keras_genmodels_cli.py")
COPIED = ("saved_models",)
SHELLS = ("bash", "sh", "shell", "console")
NOT_RUN = "# not run:"
NEW_PROCESS = "# run in a new process:"
PARALLEL = 2  # files run at once: most of a snippet process is single-threaded start-up
TIMEOUT = 600  # seconds for one block or command: a hang fails instead of stalling the suite

# Shell commands that are not run, matched (re.match) against the command with its comment
# stripped and `.venv/bin/` removed, and why. Everything else runs.
SKIPPED = (
    (r"bash scripts/setup\.sh\b", "installs system and Python packages (apt-get, pip); CI runs it first"),
    (r"(python3? -m )?pip3? install\b", "installs packages"),
    (r"python3? -m pytest\b", "the test suite, which is running this test"),
    (r"docker\b", "starts a TF Serving container: no server runs in the tests"),
    (r"curl\b", "asks a TF Serving server, which the tests do not start"),
    (r"(export )?TF_CONFIG=|.*--strategy multiworker\b", "a multi-worker run needs the hosts of its TF_CONFIG"),
    (r"python3? bench/", "a benchmark: minutes"),
    (r"python3? -m keras_genmodels\.physics\.studies\b", "a physics study: minutes"),
    (r"python3? scripts/train_presets\.py(?!.*\s--(smoke|list)\b)",
     "trains presets for minutes (its --smoke and --list lines run)"),
)
# Run only where the tool is installed.
OPTIONAL_TOOLS = {"saved_model_cli": "saved_model_cli (TensorFlow's) is not installed"}


@dataclasses.dataclass
class Step:
    """One Python block or one shell command of a Markdown file."""

    kind: str  # "python" or "shell"
    line: int  # first line of the block's code, or of the command, in the file (1-based)
    code: str
    skip: str = None  # why it is not run
    new_process: bool = False
    full_run_at: str = None  # a variant of the command that runs in full there: only parse this one


def shell_words(command):
    """The command's words, its comment dropped (None if it does not parse)."""
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return None


def normalized(command):
    """The command as the skip table sees it: words joined by spaces, `.venv/bin/` removed."""
    words = shell_words(command)
    text = " ".join(words) if words is not None else command.strip()
    return re.sub(r"(^|\s)\.venv/bin/", r"\1", text)


def skip_reason(command):
    """Why `command` is not run here (`SKIPPED`, `OPTIONAL_TOOLS`), or None."""
    text = normalized(command)
    for pattern, reason in SKIPPED:
        if re.match(pattern, text):
            return reason
    tool = text.split(" ", 1)[0]
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    if tool in OPTIONAL_TOOLS and shutil.which(tool, path=path) is None:
        return OPTIONAL_TOOLS[tool]
    return None


def shell_commands(lines, first_line, console=False):
    """[(line, command)] of a shell block: continuations joined, `&&` split, comments dropped."""
    commands, pending, start = [], "", None
    for number, raw in enumerate(lines, first_line):
        text = raw.strip()
        if not pending:
            if console:
                if not text.startswith("$ "):
                    continue  # output
                text = text[2:].strip()
            if not text or text.startswith("#"):
                continue
            start = number
        if text.endswith("\\"):
            pending += text[:-1].rstrip() + " "
            continue
        command, pending = pending + text, ""
        commands.extend((start, part.strip()) for part in command.split("&&") if part.strip())
    return commands


def collect_steps(text):
    """The Python blocks and shell commands of a Markdown text, in order."""
    steps, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = re.match(r"^(\s*)(`{3,})\s*([\w+-]*)", lines[i])
        if not fence:
            i += 1
            continue
        indent, ticks, info = fence.group(1), fence.group(2), fence.group(3).lower()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(ticks):
            end += 1
        body = [line.removeprefix(indent) for line in lines[i + 1:end]]
        if info in ("python", "py"):
            code = "\n".join(body) + "\n"
            first = next((b.strip() for b in body if b.strip()), "")
            step = Step("python", i + 2, code)
            if first.startswith(NOT_RUN):
                step.skip = first[len(NOT_RUN):].strip() or "marked not run"
            step.new_process = first.startswith(NEW_PROCESS)
            steps.append(step)
        elif info in SHELLS:
            for number, command in shell_commands(body, i + 2, console=info == "console"):
                steps.append(Step("shell", number, command, skip_reason(command)))
        i = end + 1
    return steps


class Interpreter:
    """A `run_blocks.py` process: Python blocks in one namespace, answers on a pipe."""

    def __init__(self, workdir, env, log):
        read, write = os.pipe()
        self.answers = os.fdopen(read)
        self.process = subprocess.Popen(
            [sys.executable, str(SMOKE_DIR / "run_blocks.py"), str(write)],
            cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=(write,), text=True,
        )
        os.close(write)

    def run(self, path, step):
        """(None or the error of the block, CPU seconds)."""
        self.process.stdin.write(json.dumps({"path": path, "line": step.line, "code": step.code}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.answers], [], [], TIMEOUT)
        if not ready:
            self.close()
            return f"no answer within {TIMEOUT} s", float("nan")
        answer = self.answers.readline()
        if not answer:
            return f"the interpreter ended (exit status {self.process.wait()})", float("nan")
        answer = json.loads(answer)
        return (None if answer["ok"] else answer["error"]), answer["cpu_seconds"]

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.answers.close()


def tail(path, offset, limit=4000):
    with open(path, errors="replace") as f:
        f.seek(offset)
        text = f.read()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def run_command(command, workdir, env, log):
    """(None or the error of `bash -c command`, CPU seconds of it and its children)."""
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    timer = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timed_out = not timer.is_alive()
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    if timed_out:
        return f"still running after {TIMEOUT} s", float("nan")
    error = None if process.returncode == 0 else f"exit status {process.returncode}"
    return error, usage.ru_utime + usage.ru_stime


def run_doc(doc, steps, workdir, env):
    """Run the steps of one file; returns (failures, report lines)."""
    log_path = workdir / "output.log"
    failures, report, interpreter, python_failed = [], [], None, None
    with open(log_path, "w") as log:
        try:
            for step in steps:
                where = f"{doc}:{step.line}"
                what = "python block" if step.kind == "python" else f"$ {normalized(step.code)}"
                if step.skip is None and step.kind == "python" and python_failed:
                    step.skip = f"an earlier Python block failed ({python_failed})"
                if step.skip is not None:
                    report.append(f"skipped {where} {what}: {step.skip}")
                    continue
                log.flush()
                offset, start = os.fstat(log.fileno()).st_size, time.perf_counter()
                log.write(f"\n===== {where} {what}\n")
                log.flush()
                if step.kind == "python":
                    if step.new_process:
                        alone = Interpreter(workdir, env, log)
                        error, cpu = alone.run(doc, step)
                        alone.close()
                    else:
                        interpreter = interpreter or Interpreter(workdir, env, log)
                        error, cpu = interpreter.run(doc, step)
                    if error is not None:
                        python_failed = where
                else:
                    command = re.sub(r"(^|\s)\.venv/bin/", r"\1", step.code)
                    step_env = env if step.full_run_at is None else {**env, "KERAS_GENMODELS_DOCS_PARSE_ONLY": "1"}
                    error, cpu = run_command(command, workdir, step_env, log)
                log.flush()
                seconds = time.perf_counter() - start
                done = "ran" if step.full_run_at is None else f"parsed (runs in full at {step.full_run_at})"
                report.append(f"{done} {where} {what} ({seconds:.1f} s, {cpu:.1f} s CPU)" + (": FAILED" if error else ""))
                if error is not None:
                    failures.append(f"{where} {what} failed: {error}\n--- output:\n{tail(log_path, offset)}")
        finally:
            if interpreter is not None:
                interpreter.close()
    return failures, report


def collect_docs(docs):
    """{doc: steps} of `docs`, with what runs in full and what is only parsed (`run_doc`).

    A command met before, in the same file or an earlier one, runs only where first met.
    A `keras-genmodels` command runs in full the first time its kind (`train vae`,
    `train rbm`, `evaluate MODEL`, `sample MODEL`, `export MODEL`: the first two words
    after the command) appears in a file; later variants in that file (other flags) are
    only parsed, so that a flag that no longer exists still fails, at a fraction of a
    second instead of the ~10 s of a process that imports TensorFlow.
    """
    steps, first = {}, {}
    for doc in docs:
        steps[doc], kinds = collect_steps((REPO / doc).read_text()), {}
        for step in steps[doc]:
            if step.kind != "shell" or step.skip is not None:
                continue
            key = normalized(step.code)
            if key in first:
                step.skip = f"the same command is checked at {first[key]}"
                continue
            first[key] = f"{doc}:{step.line}"
            words = key.split(" ")
            if words[0] == "keras-genmodels" and len(words) >= 3 and not words[1].startswith("-"):
                kind = tuple(words[1:3])
                step.full_run_at = kinds.get(kind)
                kinds.setdefault(kind, f"{doc}:{step.line}")
    return steps


def snippet_env(root):
    """The environment of every snippet process."""
    bin_dir = root / "bin"  # `python` is this interpreter, in whatever environment it is
    bin_dir.mkdir()
    for name in ("python", "python3"):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
        wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(bin_dir), os.path.dirname(sys.executable), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SMOKE_DIR), str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["KERAS_GENMODELS_DOCS_SMOKE"] = "1"
    env["KERAS_GENMODELS_DATA_DIR"] = str(root / "data")  # the Ising cache; Fashion-MNIST from Debian's
    env.setdefault("TFDS_DATA_DIR", str(root / "tensorflow_datasets"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def workdir_for(root, doc):
    """A folder laid out like the repository for what the snippets read and write."""
    workdir = root / doc.replace("/", "_").removesuffix(".md")
    workdir.mkdir()
    for name in LINKED:
        (workdir / name).symlink_to(REPO / name)
    for name in COPIED:
        shutil.copytree(REPO / name, workdir / name)
    return workdir


def run_order(doc, steps):
    """README.md first: it prepares the TFDS copy of Fashion-MNIST (~15 s), which the other
    files that read it wait for; meanwhile the files that need no TFDS, the busiest first."""
    text = (REPO / doc).read_text()
    uses_tfds = "datasets.load(" in text or "train vae" in text
    return doc != "README.md", uses_tfds, -sum(step.skip is None for step in steps)


@pytest.fixture(scope="module")
def doc_results(request, tmp_path_factory):
    """{doc: (failures, report)} of the selected files, run PARALLEL files at a time."""
    if not (DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the snippets read Fashion-MNIST from {DEBIAN_FASHION_MNIST} (Debian's "
                    "dataset-fashion-mnist), which is absent")
    selected = [
        item.callspec.params["doc"] for item in request.session.items
        if getattr(item, "originalname", None) == "test_doc_runs_as_printed"
    ]
    steps = collect_docs([doc for doc in DOCS if doc in selected])
    root = tmp_path_factory.mktemp("docs")
    env = snippet_env(root)
    order = sorted((d for d in steps if steps[d]), key=lambda d: run_order(d, steps[d]))
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        futures = {doc: pool.submit(run_doc, doc, steps[doc], workdir_for(root, doc), env) for doc in order}
        results = {doc: future.result() for doc, future in futures.items()}
    print(f"{len(order)} files in {time.perf_counter() - start:.0f} s")
    return results


@pytest.mark.parametrize("doc", DOCS)
def test_doc_runs_as_printed(doc, doc_results):
    if doc not in doc_results:
        pytest.skip(f"{doc} has no Python or shell block")
    failures, report = doc_results[doc]
    print("\n".join(report))
    assert not failures, "\n\n".join(failures)


def test_collect_steps():
    text = "\n".join([
        "Text.",
        "```bash",
        "# a comment",
        "bash scripts/setup.sh && .venv/bin/keras-genmodels train vae \\",
        "    --epochs 2   # two",
        "docker run tensorflow/serving",
        "```",
        "```python",
        "x = 1",
        "```",
        "```python",
        "# not run: a sketch",
        "class Sketch: ...",
        "```",
        "```console",
        "$ keras-genmodels --version",
        "keras-genmodels 0.2.0",
        "```",
        "```text",
        "not code",
        "```",
    ])
    steps = collect_steps(text)
    assert [(s.kind, s.line, s.code, s.skip) for s in steps] == [
        ("shell", 4, "bash scripts/setup.sh", SKIPPED[0][1]),
        ("shell", 4, ".venv/bin/keras-genmodels train vae --epochs 2   # two", None),
        ("shell", 6, "docker run tensorflow/serving", SKIPPED[3][1]),
        ("python", 9, "x = 1\n", None),
        ("python", 12, "# not run: a sketch\nclass Sketch: ...\n", "a sketch"),
        ("shell", 16, "keras-genmodels --version", None),
    ]
    assert skip_reason("python scripts/train_presets.py rbm_ising_l4_tc --out x --smoke") is None
    assert skip_reason("python scripts/train_presets.py NAME") is not None
    assert skip_reason("keras-genmodels train vae --strategy multiworker") is not None
