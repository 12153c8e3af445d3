"""The notebooks: committed with the outputs of one full run, figures inline, and they run on a small setting.

The committed notebooks are checked as they are (fast, nothing executed): every code
cell ran once, top to bottom, without an error; every cell that draws a figure shows
it inline (a `display_data` image/png output); none picks a matplotlib backend, writes
its figures to files or reads them back. The slow test executes each notebook on the
small setting (`KERAS_GENMODELS_SMOKE=1`) and applies the same checks to what it shows.
`python scripts/run_notebooks.py` regenerates the committed outputs.
"""

import ast
import os
import pathlib
import re

import nbformat
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
# The library modules whose public functions with a `path` argument draw a figure.
FIGURE_MODULES = ["keras_genmodels/plotting.py", "keras_genmodels/rbm/plots.py", "keras_genmodels/physics/plots.py"]
PYPLOT_FIGURES = {"subplots", "figure", "subplot", "plot", "imshow", "bar", "scatter", "hist", "errorbar"}
MAX_MEGABYTES = 4.5  # all six notebooks together: figures at modest resolution


def _figure_functions():
    """`{name: index of its path argument}` of the library's plotting functions, read from their source."""
    functions = {}
    for module in FIGURE_MODULES:
        for node in ast.parse((REPO / module).read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                names = [a.arg for a in node.args.args]
                if "path" in names:
                    functions[node.name] = names.index("path")
    return functions


FIGURE_FUNCTIONS = _figure_functions()


def _called_name(call):
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _owner(call):
    f = call.func
    return f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None


def figure_calls(source):
    """`(calls that draw a figure, problems)` of one code cell's source.

    A call draws a figure if it is a library plotting function or a pyplot
    figure-making call; a problem is a backend choice (`matplotlib.use`), a
    figure written to a file (`savefig`, a plotting function given a path) or
    read back from one (`imread`).
    """
    calls, problems = [], []
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, ast.Call):
            continue
        name, owner = _called_name(node), _owner(node)
        if name == "use" and owner == "matplotlib":
            problems.append("matplotlib.use( picks the backend (Jupyter's inline backend must show the figures)")
        elif name in ("savefig", "imread"):
            problems.append(f"{name}( writes a figure to a file or reads one back instead of showing it")
        elif name in FIGURE_FUNCTIONS:
            calls.append(name)
            given = len(node.args) > FIGURE_FUNCTIONS[name] or any(k.arg == "path" for k in node.keywords)
            if given:
                problems.append(f"{name}( is given a path: it writes a PNG and shows nothing")
        elif owner == "plt" and name in PYPLOT_FIGURES:
            calls.append(f"plt.{name}")
    return calls, problems


def figure_problems(nb):
    """What is wrong with the figures and errors of an executed notebook (an empty list: nothing)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        calls, source_problems = figure_calls(cell.source)
        problems += [f"cell {i}: {p}" for p in source_problems]
        outputs = cell.get("outputs", [])
        inline = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
        twice = [o for o in outputs if o.output_type == "execute_result" and "image/png" in o.get("data", {})]
        calls = sorted({c for c in calls if not c.startswith("plt.")}) + (["plt"] if any(
            c.startswith("plt.") for c in calls) else [])
        if len(inline) < len(calls):
            problems.append(f"cell {i}: draws {len(calls)} figure(s) ({', '.join(calls)}) "
                            f"but shows {len(inline)} inline")
        if twice:
            problems.append(f"cell {i}: a figure is the cell's value (end the line with ';': it is shown twice)")
        problems += [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for o in outputs if o.output_type == "error"]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_notebook_ran_top_to_bottom_with_its_figures_inline(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        "every code cell ran once, in order, in one run: python scripts/run_notebooks.py")
    assert any(c.outputs for c in code)
    assert figure_problems(nb) == []
    assert not [i for i, c in enumerate(nb.cells) if "execution" in c.metadata], "timestamps are not committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_text_speaks_of_the_science(path):
    nb = nbformat.read(path, as_version=4)
    words = [(i, m.group()) for i, c in enumerate(nb.cells)
             for m in re.finditer(r"\b(issue|ticket|task)s?\b( ?#?\d+)?", c.source, re.IGNORECASE)]
    assert words == [], "issue-tracker wording in the notebook's text"


def test_committed_notebooks_are_small():
    megabytes = sum(p.stat().st_size for p in NOTEBOOKS) / 1e6
    assert megabytes < MAX_MEGABYTES


def test_the_figure_checks_catch_what_they_should():
    calls, problems = figure_calls('import matplotlib\nmatplotlib.use("Agg")\nplots.plot_filters(m, "f.png")\n'
                                   'fig, ax = plt.subplots()\nfig.savefig("x.png")\nplt.imread("x.png")')
    assert calls == ["plot_filters", "plt.subplots"] and len(problems) == 4
    assert figure_calls("plots.latent_vs_magnetization(latent, temperatures)")[1] == []
    assert figure_calls("plots.latent_vs_magnetization(latent, temperatures, 'a.png')")[1] != []
    assert {"image_grid", "training_curves", "plot_filters", "observables_vs_temperature"} <= set(FIGURE_FUNCTIONS)
    cell = nbformat.v4.new_code_cell("plotting.training_curves(h)", outputs=[
        nbformat.v4.new_output("execute_result", data={"image/png": "", "text/plain": ""}, execution_count=1)])
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert len(figure_problems(nb)) == 2  # shown as the value only: not inline, and twice if inline


# Executes one notebook in a fresh kernel and writes it, with its outputs, to argv[2]. The kernel talks
# over Unix sockets in a folder of its own (a short path: a socket's path has at most 107 characters):
# kernels started at once over TCP can draw the same free port ("ZMQError: Address already in use", a
# race in jupyter_client's port choice), and a loaded machine can take more than nbclient's default
# 60 s to start one.
_EXECUTE = """
import os, sys, tempfile, nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(tempfile.mkdtemp(), "k"))
NotebookClient(nb, km=km, timeout=600, startup_timeout=600, resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
"""


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory, fashion_mnist_dir):
    """Every notebook executed on the small setting, all at once (most of a kernel's time is single-threaded
    start-up and tracing): `{name: (executed notebook or None, stderr)}`."""
    import subprocess
    import sys

    env = dict(os.environ, KERAS_GENMODELS_SMOKE="1")
    env.pop("MPLBACKEND", None)  # the kernel's inline backend shows the figures
    # The kernel imports the package of this checkout, whatever copy is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    root = tmp_path_factory.mktemp("notebooks")
    runs = {}
    for path in NOTEBOOKS:
        cwd = root / path.stem
        cwd.mkdir()
        out = root / f"{path.stem}.executed.ipynb"
        process = subprocess.Popen([sys.executable, "-c", _EXECUTE, str(path), str(out), str(cwd)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        runs[path.name] = (process, out)
    results = {}
    for name, (process, out) in runs.items():
        try:
            _, stderr = process.communicate(timeout=1800)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
            stderr += "\n(timed out after 30 minutes)"
        ok = process.returncode == 0 and out.exists()
        results[name] = (nbformat.read(out, as_version=4) if ok else None, stderr)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes_with_its_figures_inline(path, smoke_runs):
    nb, stderr = smoke_runs[path.name]
    assert nb is not None, stderr[-3000:]
    assert figure_problems(nb) == []
    assert sum(o.output_type == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.outputs) > 0
