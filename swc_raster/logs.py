"""Logging for workflow scripts: warnings and progress to the rule's log and to the console."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("swc_raster")


@contextlib.contextmanager
def logged(log_path: str | Path) -> Iterator[logging.Logger]:
    """Send swc_raster's log records and Python warnings to ``log_path`` and stderr.

    An exception is written to the log (with its traceback) and re-raised, so
    Snakemake marks the job failed and deletes its outputs.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.FileHandler(log_path, mode="w", encoding="utf-8"), logging.StreamHandler(sys.stderr)]
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    log.setLevel(logging.INFO)
    logging.captureWarnings(True)
    pywarn = logging.getLogger("py.warnings")
    for h in handlers:
        pywarn.addHandler(h)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            yield log
    except Exception:
        log.exception("failed")
        raise
    finally:
        for h in handlers:
            log.removeHandler(h)
            pywarn.removeHandler(h)
            h.close()
        logging.captureWarnings(False)


def progress(items, total: int, what: str, every_pct: float = 10.0):
    """Yield ``items`` and log ``what: n/total (p %)`` about every ``every_pct`` percent."""
    step = max(1, int(total * every_pct / 100))
    for i, item in enumerate(items, start=1):
        yield item
        if i % step == 0 or i == total:
            log.info("%s: %d/%d parts (%.0f %%)", what, i, total, 100.0 * i / total)
