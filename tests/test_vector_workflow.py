"""A year delivered as polygons (erosion patches + survey land use) runs through the workflow.

The truth is planted: rectangles of eroded land over two real counties, whose areas inside each
county are computed here with shapely in the equal-area CRS; the workflow's rates must match.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

from tests._rasters import ALBERS, write_two_counties
from tests._tools import run_snakemake

pytestmark = pytest.mark.workflow
CODES = ["140502", "140581"]  # 城区 and 高平市


def _planted(tmp: Path) -> tuple[Path, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    area = write_two_counties(tmp)
    ea = area.to_crs(ALBERS)
    x0, y0, x1, y1 = ea.total_bounds
    # Eroded patches: a grid of 2 km squares with 1 km gaps, grades cycling 2..6; one ring with a hole.
    boxes, grades = [], []
    for i, x in enumerate(range(int(x0), int(x1), 3000)):
        for j, y in enumerate(range(int(y0), int(y1), 3000)):
            boxes.append(shapely.box(x, y, x + 2000, y + 2000))
            grades.append(str(2 + (i + j) % 5))
    ring = shapely.box(x0 + 1000, y0 + 1000, x0 + 1900, y0 + 1900).difference(
        shapely.box(x0 + 1300, y0 + 1300, x0 + 1600, y0 + 1600)
    )
    boxes[0], grades[0] = ring, "3"
    patches = gpd.GeoDataFrame({"grade": grades}, geometry=boxes, crs=ALBERS)
    patches.to_file(tmp / "patches.gpkg", layer="patches")
    # Survey land use: forest (0301) everywhere except a cropland (0101) band in the west.
    mid = x0 + (x1 - x0) / 3
    landuse = gpd.GeoDataFrame(
        {"DLBM": ["0101", "0301"]},
        geometry=[shapely.box(x0 - 1e4, y0 - 1e4, mid, y1 + 1e4), shapely.box(mid, y0 - 1e4, x1 + 1e4, y1 + 1e4)],
        crs=ALBERS,
    )
    landuse.to_file(tmp / "landuse.gpkg", layer="DLTB")
    cfg = {
        "region": {"code": "140500", "name": "两县"},
        "boundaries": {"path": "counties.gpkg", "layer": "counties"},
        "targets": "targets.csv",
        "landcover_legend": "gbt21010_8",
        "years": [
            {
                "year": 2023,
                "erosion_patches": {"path": "patches.gpkg", "layer": "patches", "grade_field": "grade"},
                "landuse_polygons": {"path": "landuse.gpkg", "layer": "DLTB", "code_field": "DLBM"},
            }
        ],
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return tmp / "config.yaml", ea, patches


def test_a_polygon_year_gives_the_planted_rates_and_its_report(tmp_path):
    config, ea, patches = _planted(tmp_path)
    wanted = ["results/2023/county_rates.csv", "results/2023/erosion_by_landcover.csv", "results/2023/report.html"]
    run = run_snakemake(tmp_path, config, *wanted)
    assert run.returncode == 0, run.stderr[-4000:]
    rates = pd.read_csv(
        tmp_path / "results/2023/county_rates.csv", dtype={"county_code": str}, encoding="utf-8-sig"
    ).set_index("county_code")
    eroded_union = shapely.union_all(patches.geometry.values)
    for code, geom in zip(ea.county_code, ea.geometry):
        land_km2 = geom.area / 1e6
        eroded_km2 = shapely.intersection(geom, eroded_union).area / 1e6
        assert rates.loc[code, "land_area_km2"] == pytest.approx(land_km2, rel=1e-9)
        assert rates.loc[code, "erosion_area_km2"] == pytest.approx(eroded_km2, abs=1e-6)
        assert rates.loc[code, "rate_pct"] == pytest.approx(100 * (1 - eroded_km2 / land_km2), abs=1e-4)
    long = pd.read_csv(tmp_path / "results/2023/erosion_by_landcover.csv", encoding="utf-8-sig")
    assert set(long.landcover_name_zh) <= {"耕地", "林地"} and {"耕地", "林地"} <= set(long.landcover_name_zh)
    assert "水土保持一张图" in (tmp_path / "results/2023/report.html").read_text(encoding="utf-8")


def test_a_mixed_year_is_refused_with_the_fix(tmp_path):
    config, _, _ = _planted(tmp_path)
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    cfg["years"][0]["landcover"] = "landcover.tif"
    del cfg["years"][0]["landuse_polygons"]
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    run = run_snakemake(tmp_path, config, "-n")
    assert run.returncode != 0
    assert "mixes a raster and a vector form" in run.stdout + run.stderr
