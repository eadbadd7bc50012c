"""How the whole job grows to national size: a dry run of the 2,900-county stand-in plus extrapolation.

    .venv/bin/python benchmarks/national.py      # after whole_job.py has run (it reads its results)

A national 30 m raster pair (≈ 10 Gpx inside the provinces' boxes, ~40 GB as delivered) does not
fit this machine's time box, so this is a plan plus a model, not a measurement:

1. The stand-in: 2,900 Voronoi "counties" over China's box in 31 compact "provinces" (as
   tests/test_scale.py), planned with ``split.by: province_code`` by ``swc_raster.batches.plan``
   at 30 m, and dry-run by Snakemake: jobs and cells per province batch.
2. The model, from the Shanxi whole-job run (benchmarks/out/whole-job/results.json and the
   workflow's Snakemake benchmark files): CPU seconds per million cells of counting (the crosstab
   job minus its start-up; it also checks both rasters' values), CPU per job start-up, CPU per
   million cells of decoding both rasters; on 2 cores, wall ≈ CPU / 2 for the cell-proportional
   part.  The year's validation (validate_year) reads no pixel values since the value checks moved
   into the counting pass: its cost (coverage of each county) is modelled per county.

Prints the cells, jobs and the predicted wall times of decoding and of the workflow, and their
ratio, and writes benchmarks/out/whole-job/national.md.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import numpy as np  # noqa: E402
from inputs import OUT  # noqa: E402

WORK = OUT / "whole-job"
N_COUNTIES, N_PROVINCES = 2900, 31
BBOX = (73.0, 18.0, 135.0, 53.0)


def stand_in(tmp: Path) -> Path:
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(0)
    xmin, ymin, xmax, ymax = BBOX
    points = shapely.points(rng.uniform(xmin, xmax, N_COUNTIES), rng.uniform(ymin, ymax, N_COUNTIES))
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=shapely.box(*BBOX))
    polys = [c.intersection(shapely.box(*BBOX)) for c in cells.geoms]
    seeds = np.c_[rng.uniform(xmin, xmax, N_PROVINCES), rng.uniform(ymin, ymax, N_PROVINCES)]
    centres = np.array([[p.centroid.x, p.centroid.y] for p in polys])
    province = np.argmin(((centres[:, None, :] - seeds[None]) ** 2).sum(-1), axis=1)
    codes = [f"{11 + p:02d}{i:04d}" for i, p in enumerate(province)]
    gdf = gpd.GeoDataFrame(
        {
            "county_code": codes,
            "county_name": [f"县{i}" for i in range(N_COUNTIES)],
            "province_code": [f"{11 + p:02d}0000" for p in province],
        },
        geometry=polys,
        crs="EPSG:4326",
    )
    path = tmp / "china.gpkg"
    gdf.to_file(path, layer="counties")
    return path


def _tsv_cpu(path: Path) -> tuple[float, float]:
    row = list(csv.DictReader(path.open(), delimiter="\t"))[-1]
    return float(row["s"]), float(row["cpu_time"])


def main() -> None:
    from swc_raster.batches import plan
    from swc_raster.config import BoundarySource, Split

    WORK.mkdir(parents=True, exist_ok=True)
    gpkg = stand_in(WORK)
    batches = plan(
        BoundarySource(str(gpkg), "counties", "county_code", "county_name", None),
        Split("province_code", None, 1e12),
        "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m",
        30.0,
    )
    cells = np.array([b.cells for b in batches.values()], dtype="float64")
    mpx = cells.sum() / 1e6
    results = json.loads((WORK / "results.json").read_text())
    case = "same-grid" if "same-grid" in results else next(iter(results))
    bench = WORK / case / "workflow" / "results" / "benchmarks"
    shanxi_mpx = 12652 * 22985 / 1e6  # the Shanxi batch grid of the same-grid case
    _, validate_cpu = _tsv_cpu(bench / "validate_year" / "2023.tsv")
    _, crosstab_cpu = _tsv_cpu(next((bench / "crosstab").rglob("*.tsv")))
    small = [
        _tsv_cpu(p)[1]
        for p in bench.rglob("*.tsv")
        if p.parent.name not in ("validate_year", "crosstab") and p.parent.parent.name != "crosstab"
    ]
    startup = float(np.median(small))
    decode_cpu = results[case]["best"]["decode"]["cpu_seconds"]
    raster_mpx = json.loads((OUT / "delivered" / "inputs.json").read_text())["mpx"]["gk"]  # the rasters decoded
    per_mpx = {
        "count": (crosstab_cpu - 2 * startup) / shanxi_mpx,
        "decode": decode_cpu / raster_mpx,
    }
    shanxi_counties = 117
    validate_per_county = max(validate_cpu - startup, 0.0) / shanxi_counties
    n_jobs = 2 + len(batches) * 2 + 3  # boundaries, validate; per batch prepare + crosstab; gather, 2 tables
    decode_wall = per_mpx["decode"] * mpx / 2
    validate_cpu_national = validate_per_county * N_COUNTIES
    workflow_wall = per_mpx["count"] * mpx / 2 + validate_cpu_national / 2 + startup * n_jobs / 2
    lines = [
        f"National stand-in: {N_COUNTIES} counties, {len(batches)} province batches, {mpx / 1e3:.1f} Gpx at 30 m "
        f"(largest batch {cells.max() / 1e9:.2f} Gpx); {n_jobs} jobs on the path to the two CSVs.",
        f"Model (Shanxi {case}): count with the value checks {per_mpx['count'] * 1e3:.1f} ms CPU per Mpx, decode "
        f"both rasters {per_mpx['decode'] * 1e3:.1f} ms per Mpx; validation (no pixel values) "
        f"{validate_per_county * 1e3:.0f} ms per county; job start-up {startup:.1f} s.",
        f"Predicted on 2 cores: decode {decode_wall / 60:.0f} min, workflow {workflow_wall / 60:.0f} min "
        f"({workflow_wall / decode_wall:.2f} × decode); counting is {per_mpx['count'] / per_mpx['decode']:.2f} × "
        f"a decode of both rasters, validation {validate_cpu_national / 2 / 60:.1f} min, job start-ups "
        f"{startup * n_jobs / 2 / 60:.1f} min.",
    ]
    text = "\n".join(lines)
    print(text)
    (WORK / "national.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
