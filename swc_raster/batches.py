"""Split a large region into independent jobs ("batches" of counties).

Each batch gets its own analysis grid (the same CRS and cell size, snapped to
the same multiples, so batch grids line up exactly) and runs align → grade →
cross-tab on its own; a gather step adds the cross-tabs.  The split is decided
when the workflow is parsed, from the boundary attributes and bounding boxes
only, so a national run is planned in a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyogrio
from pyproj import Transformer

from swc_raster.config import BoundarySource, Split
from swc_raster.errors import ConfigError, InputFileError
from swc_raster.names import normalise_code

SINGLE = "all"


@dataclass(frozen=True)
class Batch:
    """One job's counties and the size of its analysis grid."""

    name: str
    codes: tuple[str, ...]
    cells: int


def _batch_names(values: list[object]) -> list[str]:
    """File-name-safe, unique batch names: the ASCII part of each value, else ``gNNN``."""
    names: list[str] = []
    for i, value in enumerate(values, start=1):
        name = re.sub(r"[^0-9A-Za-z_]+", "_", str(value)).strip("_")
        names.append(name if name and name not in names else f"g{i:03d}")
    return names


def _bbox_in(crs_from, crs_to: str, bounds: np.ndarray) -> np.ndarray:
    """Bounding boxes (4, n) transformed with densified edges (pyproj's transform_bounds)."""
    tr = Transformer.from_crs(crs_from, crs_to, always_xy=True)
    return np.array([tr.transform_bounds(*b, densify_pts=21) for b in bounds.T]).T


def plan(boundaries: BoundarySource, split: Split, analysis_crs: str, resolution_m: float) -> dict[str, Batch]:
    """The batches of these boundaries, each with its counties and estimated grid cells.

    Raises :class:`ConfigError` naming the setting to change when a batch's
    grid exceeds ``split.max_cells_per_job``.
    """
    b, res = boundaries, float(resolution_m)
    label = f"boundaries ({b.path})"
    try:
        info = pyogrio.read_info(b.path, layer=b.layer)
        attrs = pyogrio.read_dataframe(b.path, layer=b.layer, read_geometry=False)
        _, bounds = pyogrio.read_bounds(b.path, layer=b.layer)
    except Exception as exc:
        raise InputFileError(label, f"cannot be read ({exc}).", "check boundaries.path and boundaries.layer.") from exc
    if info["crs"] is None:
        raise InputFileError(label, "has no CRS.", "assign the CRS in QGIS and re-export.")
    if b.code_field not in attrs.columns:
        raise ConfigError(label, f"has no field {b.code_field!r}.", "set boundaries.code_field.")
    codes = attrs[b.code_field].map(normalise_code).to_numpy()
    boxes = _bbox_in(info["crs"], analysis_crs, bounds)
    if split.by:
        if split.by not in attrs.columns:
            raise ConfigError(
                "split.by",
                f"{split.by!r} is not a field of {b.path}; fields: {list(attrs.columns)}.",
                "name a field that groups counties (e.g. a province or city code), or remove split.by.",
            )
        keys = attrs[split.by].astype(str).to_numpy()
        values = list(dict.fromkeys(keys))
        groups = {n: np.flatnonzero(keys == v) for n, v in zip(_batch_names(values), values)}
    elif split.counties_per_batch:
        order = np.argsort(codes, kind="stable")  # GB/T 2260 order keeps neighbours together
        n = int(split.counties_per_batch)
        groups = {f"b{i // n + 1:03d}": order[i : i + n] for i in range(0, len(order), n)}
    else:
        groups = {SINGLE: np.arange(len(codes))}
    batches = {}
    for name, idx in groups.items():
        xmin, ymin = boxes[0, idx].min(), boxes[1, idx].min()
        xmax, ymax = boxes[2, idx].max(), boxes[3, idx].max()
        cells = int(np.ceil((xmax - xmin) / res + 1) * np.ceil((ymax - ymin) / res + 1))
        batches[name] = Batch(name, tuple(sorted(codes[idx])), cells)
    limit = float(split.max_cells_per_job)
    too_big = {n: bt.cells for n, bt in batches.items() if bt.cells > limit}
    if too_big:
        worst = max(too_big, key=too_big.get)
        raise ConfigError(
            "split",
            f"{len(too_big)} job(s) would each process more than split.max_cells_per_job = {limit:.3g} cells "
            f"(largest: batch {worst!r}, {too_big[worst]:.3g} cells at {res:g} m).",
            "split the region into smaller jobs: set split.by to a field that groups counties (e.g. province code), "
            "or split.counties_per_batch to a smaller number; or raise split.max_cells_per_job if your nodes can take it.",
        )
    return batches
