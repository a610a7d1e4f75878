"""``opsplane`` run in this process: the console script's ``main()`` with argv, stdout and stderr.

Starting ``python -m opsplane`` costs ~1 s of interpreter start-up and imports per command;
tests that run many commands to walk a workflow use this instead. It goes through the same
``main()`` (Click's parsing, the error handler, the exit code), so only the process boundary
is skipped; ``tests/cli/test_cli.py`` checks that boundary with real processes.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

from opsplane.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def opsplane(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run ``opsplane ARGS...`` in-process; its exit code and output, as a subprocess gives."""
    argv = ["opsplane", *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    saved_argv, saved_cwd = sys.argv, Path.cwd()
    try:
        sys.argv = argv
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())
