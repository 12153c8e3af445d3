"""Run Python blocks of a Markdown file one after another in one namespace.

Started by `tests/test_docs.py`, one process per Markdown file: it reads one
JSON object per line on stdin, `{"path": "README.md", "line": 52, "code":
"..."}`, runs the code in the namespace of the blocks before it, and answers
`{"ok": true, "cpu_seconds": ...}` or `{"ok": false, "error": "<traceback>", ...}` on the file
descriptor given as its argument (stdout and stderr stay the snippets').
Each block is compiled on its own, under the Markdown file's name and at its
own lines, so that a traceback names the file and the line of the block.
"""

import json
import linecache
import os
import resource
import sys
import traceback


def _cpu_seconds():
    """CPU time of this process and its finished children (user + system)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def main():
    answers = os.fdopen(int(sys.argv[1]), "w", buffering=1)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    while True:
        message = sys.stdin.readline()
        if not message:
            return
        block = json.loads(message)
        cpu = _cpu_seconds()
        source = "\n" * (block["line"] - 1) + block["code"]
        # The traceback shows the block's own lines under the Markdown file's name.
        linecache.cache[block["path"]] = (len(source), None, source.splitlines(True), block["path"])
        try:
            exec(compile(source, block["path"], "exec"), namespace)
        except BaseException:  # noqa: BLE001  (SystemExit and KeyboardInterrupt too)
            answer = {"ok": False, "error": traceback.format_exc()}
        else:
            answer = {"ok": True}
        answer["cpu_seconds"] = _cpu_seconds() - cpu
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
