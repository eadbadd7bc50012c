"""Write outputs so that a failure never leaves a file that looks complete."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success.

    On any exception the temporary file is removed and ``path`` is left as it
    was (absent, or the previous complete version).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_outputs(*paths: str | os.PathLike) -> Iterator[list[Path]]:
    """Yield temporary paths beside ``paths``; rename them into place only if the block succeeds.

    Several outputs at once (a map's PNG and PDF) on top of :func:`atomic_path`:
    each temporary file is in its target's folder (so the rename is atomic) and keeps the
    target's suffix (writers pick the format from it).  On any exception every temporary
    file (and a GDAL ``.aux.xml`` sidecar) is removed and the targets are left as they were.
    """
    with contextlib.ExitStack() as stack:
        temps = [stack.enter_context(atomic_path(p)) for p in paths]
        for tmp in temps:  # a stale temporary from a killed run must not be appended to
            tmp.unlink(missing_ok=True)
        try:
            yield temps
            unwritten = [str(p) for p, tmp in zip(paths, temps) if not tmp.exists()]
            if unwritten:
                raise RuntimeError(f"internal error: {', '.join(unwritten)} not written")
        finally:
            for tmp in temps:
                tmp.with_name(tmp.name + ".aux.xml").unlink(missing_ok=True)
