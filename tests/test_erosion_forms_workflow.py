"""Wind erosion beside water erosion, and an intensity-grade raster, run through the workflow (issue 15).

The truth is planted: both layers are constant over 2 km blocks of one lattice (the rasters' cells
nest in the blocks), so each county's area of every (water value, wind value) pair is the area of
the county polygon inside those blocks — computed here with shapely in the equal-area CRS.  Water
is graded with each county's T, wind with the SL 190 wind table; a cell is eroded when either
process reaches 轻度; land eroded by both counts once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from rasterio.transform import from_origin

from swc_raster.grading import grade_modulus
from tests._rasters import ALBERS, write, write_two_counties
from tests._tools import run_snakemake

pytestmark = pytest.mark.workflow
CODES = ["140502", "140581"]  # 城区 and 高平市
T_OF = {"140502": 200.0, "140581": 1000.0}
BLOCK = 2000.0
WATER = np.array([100.0, 600.0, 3000.0, -1.0, 150.0, 20000.0, 50.0, 180.0, 700.0, 120.0], dtype="float32")  # −1 nodata
WIND_T_HA = np.array([1.0, 5.0, 90.0, -1.0], dtype="float32")  # t/ha/a: 100 微度, 500 轻度, 9000 极强烈, nodata
WIND_T = (200.0, 2500.0, 5000.0, 8000.0, 15000.0)
CODE_OF_GRADE = {1: 21, 2: 22, 3: 23, 4: 24, 5: 25, 6: 26}  # the graded raster's own codes; 99 = nodata


def _wind_grade(v_t_ha: float) -> int:
    if v_t_ha < 0:
        return 0
    return 1 + sum(v_t_ha * 100.0 >= t for t in WIND_T)


def _water_grade(v: float, t: float) -> int:
    return int(grade_modulus(np.array([np.nan if v < 0 else v]), t)[0])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forms_wf")
    area = write_two_counties(tmp)
    ea = area.to_crs(ALBERS)
    x0, y0, x1, y1 = ea.total_bounds
    x0, y1 = np.floor(x0 / BLOCK) * BLOCK - BLOCK, np.ceil(y1 / BLOCK) * BLOCK + BLOCK
    nx, ny = int(np.ceil((x1 - x0) / BLOCK)) + 1, int(np.ceil((y1 - y0) / BLOCK)) + 1
    i, j = np.indices((ny, nx))
    water_idx = (i * 3 + j * 2) % len(WATER)
    wind_idx = (i + 2 * j) % len(WIND_T_HA)
    # the wind layer covers the north only (a wind-erosion zone), down to the middle of 城区
    north = int((y1 - ea.geometry[ea.county_code == "140502"].iloc[0].centroid.y) // BLOCK)
    # water at 100 m, wind at 200 m, graded water at 100 m: all nest in the 2 km blocks
    write(tmp / "water.tif", np.kron(WATER[water_idx], np.ones((20, 20), "float32")), ALBERS,
          from_origin(x0, y1, 100, 100), -1.0)  # fmt: skip
    write(tmp / "wind.tif", np.kron(WIND_T_HA[wind_idx[:north]], np.ones((10, 10), "float32")), ALBERS,
          from_origin(x0, y1, 200, 200), -1.0)  # fmt: skip
    codes = np.array(
        [CODE_OF_GRADE[_water_grade(v, 200.0)] if v >= 0 else 99 for v in WATER], dtype="uint8"
    )  # the grades with T = 200 for every county, as a monitoring product delivers them
    write(tmp / "grades.tif", np.kron(codes[water_idx], np.ones((20, 20), "uint8")), ALBERS,
          from_origin(x0, y1, 100, 100), 255)  # fmt: skip
    write(tmp / "landcover.tif", np.ones((ny * 20, nx * 20), "uint8"), ALBERS, from_origin(x0, y1, 100, 100), 0)
    legend = "code,name_zh,name_en\n1,林地,forest\n"
    (tmp / "legend.csv").write_text(legend, encoding="utf-8")
    grade_names = {1: "slight", 2: "light", 3: "moderate", 4: "intense", 5: "very_intense", 6: "severe"}
    cfg = {
        "region": {"code": "140500", "name": "两县"},
        "boundaries": {"path": "counties.gpkg", "layer": "counties"},
        "targets": "targets.csv",
        "landcover_legend": "legend.csv",
        "allowable_loss": {"default_t_km2": 200, "by_county": {"140581": 1000}, "sensitivity_t_km2": [500]},
        "years": [
            {
                "year": 2023,
                "landcover": "landcover.tif",
                "erosion": "water.tif",
                "erosion_unit": "t/km2/a",
                "wind_erosion": "wind.tif",
                "wind_erosion_unit": "t/ha/a",
            },
            {
                "year": 2024,
                "landcover": "landcover.tif",
                "erosion": "grades.tif",
                "erosion_grades": {**{grade_names[g]: [c] for g, c in CODE_OF_GRADE.items()}, "nodata": [99]},
            },
        ],
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    # planted truth: area (km²) of each county in each block, with the block's values
    blocks = shapely.box(x0 + j * BLOCK, y1 - (i + 1) * BLOCK, x0 + (j + 1) * BLOCK, y1 - i * BLOCK)
    truth = {}
    for code, geom in zip(ea.county_code, ea.geometry):
        a = shapely.area(shapely.intersection(blocks, geom)) / 1e6
        gw = np.vectorize(lambda v, t=T_OF[code]: _water_grade(v, t))(WATER[water_idx])
        gi = np.where(i < north, np.vectorize(_wind_grade)(WIND_T_HA[wind_idx]), 0)
        g200 = np.vectorize(lambda v: _water_grade(v, 200.0))(WATER[water_idx])
        truth[code] = {
            "area": a, "water": gw, "wind": gi, "graded": g200, "land": geom.area / 1e6, "water_values": WATER[water_idx]
        }  # fmt: skip
    run = run_snakemake(
        tmp,
        tmp / "config.yaml",
        *[f"results/{y}/{f}" for y in (2023, 2024) for f in ("county_rates.csv", "erosion_by_process.csv")],
        "results/2023/t_sensitivity.csv",
        "results/2023/erosion_grade.tif",
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return tmp, truth, run


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"county_code": str}, encoding="utf-8-sig")


def test_water_and_wind_rates_equal_the_planted_union(planted):
    tmp, truth, _ = planted
    rates = _csv(tmp / "results/2023/county_rates.csv").set_index("county_code")
    for code, t in truth.items():
        eroded = t["area"][(t["water"] >= 2) | (t["wind"] >= 2)].sum()
        assert rates.loc[code, "land_area_km2"] == pytest.approx(t["land"], rel=1e-9)
        assert rates.loc[code, "erosion_area_km2"] == pytest.approx(eroded, abs=1e-6)
        assert abs(rates.loc[code, "rate_pct"] - 100 * (1 - eroded / t["land"])) < 0.05
        total_grade = np.maximum(t["water"], t["wind"])
        for g in range(2, 7):
            assert rates.loc[code, f"area_grade{g}_km2"] == pytest.approx(t["area"][total_grade == g].sum(), abs=1e-6)


def test_by_process_table_has_water_wind_total_and_overlap(planted):
    tmp, truth, _ = planted
    table = _csv(tmp / "results/2023/erosion_by_process.csv")
    counties_rows = table[table.level == "county"].set_index(["county_code", "process"])
    for code, t in truth.items():
        a = t["area"]
        water, wind = a[t["water"] >= 2].sum(), a[t["wind"] >= 2].sum()
        both = a[(t["water"] >= 2) & (t["wind"] >= 2)].sum()
        assert both > 1 and water - both > 1 and wind - both > 1  # overlapping and separate eroded land
        assert counties_rows.loc[(code, "water"), "erosion_area_km2"] == pytest.approx(water, abs=1e-6)
        assert counties_rows.loc[(code, "wind"), "erosion_area_km2"] == pytest.approx(wind, abs=1e-6)
        assert counties_rows.loc[(code, "total"), "erosion_area_km2"] == pytest.approx(water + wind - both, abs=1e-6)
        assert counties_rows.loc[(code, "total"), "overlap_area_km2"] == pytest.approx(both, abs=1e-6)
        # wind is assessed only where its layer has data (the north)
        assert counties_rows.loc[(code, "wind"), "assessed_area_km2"] == pytest.approx(
            a[t["wind"] >= 1].sum(), abs=1e-6
        )
        for g in range(2, 7):
            assert counties_rows.loc[(code, "water"), f"area_grade{g}_km2"] == pytest.approx(
                a[t["water"] == g].sum(), abs=1e-6
            )
            assert counties_rows.loc[(code, "wind"), f"area_grade{g}_km2"] == pytest.approx(
                a[t["wind"] == g].sum(), abs=1e-6
            )
    region = table[table.level == "region"].set_index("process")
    assert list(region.index) == ["water", "wind", "total"]
    assert region.loc["total", "erosion_area_km2"] == pytest.approx(
        counties_rows.xs("total", level="process")["erosion_area_km2"].sum(), abs=1e-6
    )


def test_t_sensitivity_with_wind_keeps_wind_erosion(planted):
    """At T = 500 for every county: water graded with 500 (高平市's 600 t/km² blocks become 轻度), wind as before."""
    tmp, truth, _ = planted
    sens = _csv(tmp / "results/2023/t_sensitivity.csv")
    sens = sens[(sens.level == "county") & (sens.t_km2 == 500)].set_index("county_code")
    for code, t in truth.items():
        water_500 = np.vectorize(lambda v: _water_grade(v, 500.0))(t["water_values"])
        eroded = t["area"][(water_500 >= 2) | (t["wind"] >= 2)].sum()
        assert sens.loc[code, "erosion_area_km2"] == pytest.approx(eroded, abs=1e-6)


def test_graded_raster_gives_its_grades_whatever_t(planted):
    tmp, truth, _ = planted
    rates = _csv(tmp / "results/2024/county_rates.csv").set_index("county_code")
    for code, t in truth.items():
        eroded = t["area"][t["graded"] >= 2].sum()  # T = 1000 of 高平市 does not move a graded 轻度 cell
        assert rates.loc[code, "erosion_area_km2"] == pytest.approx(eroded, abs=1e-6)
        assert abs(rates.loc[code, "rate_pct"] - 100 * (1 - eroded / t["land"])) < 0.05
    # 高平市 really differs: with its T = 1000 a modulus raster would give less erosion
    t = truth["140581"]
    assert t["area"][t["water"] >= 2].sum() < t["area"][t["graded"] >= 2].sum() - 1
    table = _csv(tmp / "results/2024/erosion_by_process.csv")
    assert set(table.process) == {"water", "total"}
    assert not (tmp / "results/2024/t_sensitivity.csv").exists()


def test_by_process_shares_are_erosion_over_assessed_land(planted):
    """Each process's share = its erosion over the land it assesses (planted areas); the total's is 100 − rate."""
    tmp, truth, _ = planted
    table = _csv(tmp / "results/2023/erosion_by_process.csv")
    rows = table[table.level == "county"].set_index(["county_code", "process"])
    for code, t in truth.items():
        a, land = t["area"], t["land"]
        water, wind = a[t["water"] >= 2].sum(), a[t["wind"] >= 2].sum()
        total = a[(t["water"] >= 2) | (t["wind"] >= 2)].sum()
        assert rows.loc[(code, "water"), "assessed_area_km2"] == pytest.approx(land, rel=1e-9)  # water covers all
        assert rows.loc[(code, "water"), "erosion_share_pct"] == pytest.approx(100 * water / land, abs=1e-4)
        assert rows.loc[(code, "wind"), "erosion_share_pct"] == pytest.approx(
            100 * wind / a[t["wind"] >= 1].sum(), abs=1e-4
        )
        assert rows.loc[(code, "total"), "erosion_share_pct"] == pytest.approx(100 * total / land, abs=1e-4)
