"""A national-size configuration plans and dry-runs as independent batch jobs."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from rasterio.transform import from_origin

from tests._rasters import ROOT, write
from tests._tools import run_snakemake
from tests.test_workflow import _job_counts

N_COUNTIES, N_PROVINCES = 2900, 31
BBOX = (73.0, 18.0, 135.0, 53.0)  # China, lon/lat


def national_case(tmp, split):
    """2,900 Voronoi 'counties' grouped into 31 compact 'provinces', with stub rasters."""
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
    gdf.to_file(tmp / "china.gpkg", layer="counties")
    pd.DataFrame(
        {
            "county_code": codes + ["100000"],
            "county_name": list(gdf.county_name) + ["全国"],
            "target_2025": 73.0,
            "target_2035": 75.0,
        }
    ).to_csv(tmp / "targets.csv", index=False)
    t = from_origin(xmin - 1, ymax + 1, 0.5, 0.5)
    write(tmp / "lc.tif", np.ones((74, 128), "uint8"), "EPSG:4326", t, 0)
    write(tmp / "ero.tif", np.full((74, 128), 300.0, "float32"), "EPSG:4326", t, -9999.0)
    cfg = {
        "region": {"code": "100000", "name": "全国"},
        "boundaries": {"path": str(tmp / "china.gpkg"), "layer": "counties"},
        "targets": str(tmp / "targets.csv"),
        "landcover_legend": str(ROOT / "config/landcover_legend.csv"),
        "split": split,
        "years": [
            {"year": 2024, "landcover": str(tmp / "lc.tif"), "erosion": str(tmp / "ero.tif"), "erosion_unit": "t/km2/a"}
        ],
    }
    (tmp / "national.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return tmp / "national.yaml"


def dry_run(tmp, config):
    return run_snakemake(tmp, config, "-n")


@pytest.mark.workflow
def test_national_config_dry_runs_as_one_job_chain_per_province(tmp_path):
    result = dry_run(tmp_path, national_case(tmp_path, {"by": "province_code", "max_cells_per_job": 1e10}))
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = _job_counts(result.stdout + result.stderr)
    per_batch = {k: jobs[k] for k in ("prepare_batch", "align", "grade", "crosstab")}
    assert per_batch == dict.fromkeys(per_batch, N_PROVINCES)
    assert jobs["gather_crosstab"] == jobs["county_rates"] == jobs["validate_year"] == jobs["prepare_boundaries"] == 1
    # Every crosstab job declares its resources.
    assert "resources: tmpdir=" in result.stdout + result.stderr and "runtime=" in result.stdout + result.stderr


@pytest.mark.workflow
def test_a_nation_in_one_job_is_refused_with_the_setting_to_change(tmp_path):
    result = dry_run(tmp_path, national_case(tmp_path, {}))
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "split.max_cells_per_job" in out and "split.by" in out and "Fix:" in out
