"""Check ``swc_raster.zonal.burn_centres`` against GDAL's rasterizer on every boundary tile of the benchmark cases.

    .venv/bin/python benchmarks/check_burn.py            # every case whose inputs benchmarks/run.py generated

Prints, per case, the tiles compared, the cells that differ (must be 0) and the
time per tile of each rasterizer.  Exit code 1 on any difference.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from rasterio import features  # noqa: E402
from rasterio.windows import transform as window_transform  # noqa: E402

from swc_raster.grid import AnalysisGrid  # noqa: E402
from swc_raster.zonal import TILE, burn_centres  # noqa: E402


def check(case_dir: Path, tile: int = TILE) -> int:
    grid = AnalysisGrid.from_json(case_dir / "grid.json")
    geoms = gpd.read_file(case_dir / "counties.gpkg", layer="counties").geometry.values
    tree = shapely.STRtree(geoms)
    jobs = []
    for win in grid.windows(tile):
        t = window_transform(win, grid.transform)
        box = shapely.box(t.c, t.f + win.height * t.e, t.c + win.width * t.a, t.f)
        idx = np.sort(tree.query(box, predicate="intersects"))
        if not len(idx) or (len(idx) == 1 and shapely.contains(geoms[idx[0]], box)):
            continue
        xmin, ymin, xmax, ymax = box.bounds
        clipped = shapely.clip_by_rect(geoms[idx], xmin - grid.res, ymin - grid.res, xmax + grid.res, ymax + grid.res)
        jobs.append((win, t, clipped[~shapely.is_empty(clipped)]))
    t0 = time.perf_counter()
    gdal = [
        features.rasterize(zip(p, range(1, len(p) + 1)), out=np.zeros((w.height, w.width), "uint8"), transform=t)
        for w, t, p in jobs
    ]
    t_gdal = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = []
    for w, t, p in jobs:  # one tile at a time here; the engine burns all mixed tiles of a window in one call
        flat = burn_centres(
            p,
            np.zeros(len(p), int),
            np.arange(1, len(p) + 1),
            np.array([t.c]),
            np.array([t.f]),
            np.array([[w.height, w.width]]),
            (grid.res, grid.res),
        )
        ours.append(None if flat is None else flat.reshape(w.height, w.width))
    t_ours = time.perf_counter() - t0
    bad = sum(int((a != b).sum()) if b is not None else a.size for a, b in zip(gdal, ours))
    # and all tiles of the case in one batched call, as the engine does
    part = np.concatenate([np.full(len(p), j) for j, (_, _, p) in enumerate(jobs)])
    label = np.concatenate([np.arange(1, len(p) + 1) for _, _, p in jobs])
    flat = burn_centres(
        np.concatenate([p for _, _, p in jobs]),
        part,
        label,
        np.array([t.c for _, t, _ in jobs]),
        np.array([t.f for _, t, _ in jobs]),
        np.array([[w.height, w.width] for w, _, _ in jobs]),
        (grid.res, grid.res),
    )
    bad_batched = int((flat != np.concatenate([a.ravel() for a in gdal])).sum()) if flat is not None else -1
    print(
        f"{case_dir.name}: {len(jobs)} boundary tiles of {tile} cells, differing cells {bad} (one by one), "
        f"{bad_batched} (batched); GDAL {t_gdal / len(jobs) * 1e3:.2f} ms/tile, numpy {t_ours / len(jobs) * 1e3:.2f} ms/tile"
    )
    return bad + abs(bad_batched)


if __name__ == "__main__":
    cases = sorted(p.parent for p in (HERE / "out").glob("*/grid.json"))
    if not cases:
        raise SystemExit("no benchmark inputs yet: run benchmarks/run.py first")
    total = sum(check(c, t) for c in cases for t in (TILE, 128))
    sys.exit(1 if total else 0)
