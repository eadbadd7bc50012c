"""System tools that some tests need (a browser, LibreOffice, poppler, SLURM).

A user without the tool sees the test skipped; in CI (``CI`` set, where ``.ci/run``
installs every package listed in ``.ci/apt-packages``) a missing tool fails the test, so a
green CI always means the test really ran.
"""

from __future__ import annotations

import os
import shutil

import pytest


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
