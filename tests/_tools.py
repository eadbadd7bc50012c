"""System tools that some tests need (a browser, LibreOffice, poppler, SLURM).

A user without the tool sees the test skipped; in CI (``CI`` set, where ``.ci/run``
installs every package listed in ``.ci/apt-packages``) a missing tool fails the test, so a
green CI always means the test really ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def snakemake_command(workdir: Path | str, config: Path | str, *args: str) -> list[str]:
    """``python -m snakemake`` on this repository's Snakefile, 2 cores, the default workflow profile, run in
    ``workdir`` with ``config``; ``args`` (targets, ``-n``, options) come before ``--configfile``, which
    takes several values."""
    return [
        sys.executable, "-m", "snakemake", *args,
        "--snakefile", str(ROOT / "Snakefile"), "--cores", "2",
        "--workflow-profile", str(ROOT / "workflow/profiles/default"),
        "--directory", str(workdir), "--configfile", str(config),
    ]  # fmt: skip


def run_snakemake(workdir: Path | str, config: Path | str, *args: str) -> subprocess.CompletedProcess:
    """Run :func:`snakemake_command` in ``workdir``, output captured."""
    return subprocess.run(snakemake_command(workdir, config, *args), capture_output=True, text=True, cwd=workdir)


def need_tool(*names: str) -> str:
    """The path of the first of ``names`` on PATH; skip (locally) or fail (CI) when none is."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    message = f"needs {' or '.join(names)} (Debian packages: see .ci/apt-packages)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI installs them, so this is a broken CI set-up")
    pytest.skip(message)
