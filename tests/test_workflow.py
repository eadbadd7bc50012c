"""The whole workflow on a small real case, checked against independent computations."""

import json
import re
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from exactextract import exact_extract
from pyproj import Geod

from tests._rasters import ROOT, counties, erosion_raster, landcover_raster, write, write_two_counties
from tests._tools import run_snakemake, snakemake_command

pytestmark = pytest.mark.workflow
CODES = ["140502", "140581"]  # 城区 and 高平市
T = {"140502": 200.0, "140581": 1000.0}


def make_case(tmp: Path, **overrides) -> Path:
    """A two-county config with its own boundaries, targets and rasters under ``tmp``."""
    area = write_two_counties(tmp)
    erosion_raster(tmp / "erosion.tif", area)
    landcover_raster(tmp / "landcover.tif", area)
    cfg = {
        "region": {"code": "140500", "name": "两县"},
        "boundaries": {"path": str(tmp / "counties.gpkg"), "layer": "counties"},
        "targets": str(tmp / "targets.csv"),
        "landcover_legend": str(ROOT / "config/landcover_legend.csv"),
        "analysis": {"resolution_m": 30},
        "allowable_loss": {"default_t_km2": 200, "by_county": {"140581": 1000}, "sensitivity_t_km2": [1000, 200]},
        "demo": True,  # every published file must then say so (checked below)
        "years": [
            {
                "year": 2023,
                "landcover": str(tmp / "landcover.tif"),
                "erosion": str(tmp / "erosion.tif"),
                "erosion_unit": "t/km2/a",
            }
        ],
    }
    cfg.update(overrides)
    (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return tmp / "config.yaml"


def run(tmp: Path, config: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_snakemake(tmp, config, *extra)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wf")
    config = make_case(tmp)
    result = run(tmp, config)
    assert result.returncode == 0, result.stderr[-4000:]
    return tmp


def exactextract_rates(tmp: Path) -> dict[str, float]:
    """Independent rates: fractional-coverage mean of an 'eroded' 0/1 raster on the erosion raster's own grid."""
    with rasterio.open(tmp / "erosion.tif") as src:
        a, profile = src.read(1), src.profile
    area = counties(CODES).to_crs(profile["crs"])
    out = {}
    for code in CODES:
        eroded = np.where(a == -9999.0, 0, a >= T[code]).astype("float32")  # nodata counts as not eroded
        path = write(tmp / f"eroded_{code}.tif", eroded, profile["crs"], profile["transform"], None)
        stats = exact_extract(str(path), area[area.county_code == code], ["mean"], output="pandas")
        out[code] = 100.0 * (1.0 - float(stats["mean"].iloc[0]))
    return out


def test_county_rates_match_exactextract_within_005_pp(case):
    rates = pd.read_csv(case / "results/2023/county_rates.csv", dtype={"county_code": str}).set_index("county_code")
    reference = exactextract_rates(case)
    for code in CODES:
        assert 20 < reference[code] < 95  # a meaningful case, not all-or-nothing
        assert rates.loc[code, "rate_pct"] == pytest.approx(reference[code], abs=0.05)
        assert rates.loc[code, "t_allowable_t_km2"] == T[code]


def test_land_area_is_within_half_a_percent_of_the_geodesic_area(case):
    rates = pd.read_csv(case / "results/2023/county_rates.csv", dtype={"county_code": str}).set_index("county_code")
    geod = Geod(ellps="WGS84")
    for _, row in counties(CODES).iterrows():
        geodesic_km2 = abs(geod.geometry_area_perimeter(row.geometry)[0]) / 1e6
        assert rates.loc[row.county_code, "land_area_km2"] == pytest.approx(geodesic_km2, rel=0.005)


def test_region_row_is_the_area_weighted_sum(case):
    rates = pd.read_csv(case / "results/2023/county_rates.csv", dtype={"county_code": str})
    c, r = rates[rates.level == "county"], rates[rates.level == "region"].iloc[0]
    assert r.county_code == "140500" and r.county_name == "两县"
    for col in ["land_area_km2", "erosion_area_km2", "nodata_area_km2", *[f"area_grade{g}_km2" for g in range(1, 7)]]:
        # published to 6 decimals (1 m² in km²): the sum of rounded county values is within 1e-6 per county
        assert r[col] == pytest.approx(c[col].sum(), abs=1e-6 * len(c))
    assert r.rate_pct == pytest.approx(100 * (1 - c.erosion_area_km2.sum() / (c.land_area_km2 - c.gap_area_km2).sum()))
    grades = rates[[f"area_grade{g}_km2" for g in range(1, 7)]].sum(axis=1) + rates.nodata_area_km2 + rates.gap_area_km2
    np.testing.assert_allclose(grades, rates.land_area_km2)
    assert (rates.nodata_area_km2 > 0).all()  # the nodata blobs are reported, not dropped


def test_long_table_and_target_comparison_agree_with_the_rates(case):
    rates = pd.read_csv(case / "results/2023/county_rates.csv", dtype={"county_code": str}).set_index("county_code")
    long = pd.read_csv(case / "results/2023/erosion_by_landcover.csv", dtype={"county_code": str})
    eroded = long[long.grade_code.between(2, 6)].groupby("county_code").area_km2.sum()
    for code in CODES:
        assert eroded[code] == pytest.approx(rates.loc[code, "erosion_area_km2"])
    comp = pd.read_csv(case / "results/2023/target_comparison.csv", dtype={"county_code": str}).set_index("county_code")
    assert comp.loc["140502", "gap_2025_pp"] == pytest.approx(rates.loc["140502", "rate_pct"] - 76.86)
    assert comp.loc["140500", "met_2035"] == (rates.loc["140500", "rate_pct"] >= 90.5)


def test_t_sensitivity_table_reproduces_the_configured_t_and_is_in_the_report(case):
    rates = pd.read_csv(case / "results/2023/county_rates.csv", dtype={"county_code": str}).set_index("county_code")
    sens = pd.read_csv(case / "results/2023/t_sensitivity.csv", dtype={"county_code": str})
    assert sorted(set(sens.t_km2)) == [200.0, 1000.0]
    for code, t in T.items():  # each county at its own T: the rates table's number
        row = sens[(sens.county_code == code) & (sens.t_km2 == t)].iloc[0]
        assert row.rate_pct == pytest.approx(rates.loc[code, "rate_pct"], abs=1e-6)
        assert row.erosion_area_km2 == pytest.approx(rates.loc[code, "erosion_area_km2"], abs=1e-6)
    html = (case / "results/2023/report.html").read_text(encoding="utf-8")
    assert 'id="t-sensitivity-table"' in html and "t_sensitivity_t_km2" in html


def test_grade_raster_is_tiled_on_the_erosion_rasters_own_grid(case):
    """analysis.grid: source (the default): counted and published on the delivered raster's lattice."""
    with rasterio.open(case / "erosion.tif") as source:
        crs, res, (x0, y0) = source.crs, source.res, (source.transform.c, source.transform.f)
    with rasterio.open(case / "results/2023/erosion_grade.tif") as src:
        assert src.profile["tiled"] and src.res == res and src.nodata == 255 and src.crs == crs
        dx, dy = (src.transform.c - x0) / res[0], (y0 - src.transform.f) / res[1]
        assert dx == pytest.approx(round(dx), abs=1e-9) and dy == pytest.approx(round(dy), abs=1e-9)
        values = np.unique(src.read(1))
    assert set(values) <= {0, 1, 2, 3, 4, 5, 6, 7, 255} and {1, 2, 255} <= set(values)


def test_rerun_has_nothing_to_do(case):
    result = run(case, case / "config.yaml", "-n")
    assert result.returncode == 0 and "Nothing to be done" in (result.stdout + result.stderr)


def _job_counts(dry_run_output: str) -> dict[str, int]:
    """Rule → job count from the 'Job stats' table of a dry run."""
    table = dry_run_output.split("Job stats:")[1].split("Reasons:")[0]
    return {
        m[0]: int(m[1])
        for line in table.splitlines()
        if len(m := line.split()) == 2 and m[1].isdigit() and m[0].isidentifier()
    }


def test_adding_a_year_schedules_only_that_year_and_the_summaries(case, tmp_path):
    cfg = yaml.safe_load((case / "config.yaml").read_text(encoding="utf-8"))
    cfg["years"].append({**cfg["years"][0], "year": 2024})
    (tmp_path / "two_years.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    result = run(case, tmp_path / "two_years.yaml", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    per_year = {
        "validate_year": 1,
        "align": 1,
        "grade": 1,
        "crosstab": 1,
        "gather_crosstab": 1,
        "landcover_table": 1,
        "erosion_by_process": 1,
        "mosaic_grade": 1,
        "mosaic_landcover": 1,
        "county_rates": 1,
        "compare_targets": 1,
        "draw_map": 4,
        "workbook": 1,
        "gis_outputs": 1,
        "year_report": 1,
        "t_sensitivity": 1,
    }
    summaries = {"summarise_years": 1, "transitions": 1, "gather_transitions": 1, "batch_zones": 1}
    expected = per_year | summaries | {"all": 1}
    assert _job_counts(out) == expected | {"total": sum(expected.values())}
    scheduled_years = {line.split("year=")[1].split(",")[0] for line in out.splitlines() if "wildcards: year=" in line}
    assert scheduled_years == {"2024"}


def test_split_into_batches_gives_identical_results(case, tmp_path):
    """Two one-county jobs on the shared grid reproduce the single job exactly (same cell centres)."""
    cfg = yaml.safe_load((case / "config.yaml").read_text(encoding="utf-8"))
    cfg["split"] = {"counties_per_batch": 1}
    (tmp_path / "split.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    result = run(tmp_path, tmp_path / "split.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "results/common").iterdir() if p.is_dir()) == ["b001", "b002"]
    single = pd.read_csv(case / "results/2023/county_rates.csv")
    split = pd.read_csv(tmp_path / "results/2023/county_rates.csv")
    pd.testing.assert_frame_equal(single, split)
    pd.testing.assert_frame_equal(
        pd.read_csv(case / "results/2023/t_sensitivity.csv"), pd.read_csv(tmp_path / "results/2023/t_sensitivity.csv")
    )
    # the value checks of the two batches add up to the single job's (each cell is in one county, one batch)
    assert json.loads((case / "results/2023/value_checks.json").read_text(encoding="utf-8")) == json.loads(
        (tmp_path / "results/2023/value_checks.json").read_text(encoding="utf-8")
    )
    with (
        rasterio.open(case / "results/2023/erosion_grade.tif") as a,
        rasterio.open(tmp_path / "results/2023/erosion_grade.tif") as b,
    ):
        assert a.transform == b.transform and a.shape == b.shape
        np.testing.assert_array_equal(a.read(1), b.read(1))


def _break_missing_file(tmp, cfg):
    cfg["years"][0]["erosion"] = str(tmp / "nowhere.tif")
    return ["nowhere.tif", "not found"]


def _break_unit(tmp, cfg):
    del cfg["years"][0]["erosion_unit"]
    return ["unit", "erosion_unit"]


def _break_target_county(tmp, cfg):
    table = pd.read_csv(tmp / "targets.csv", dtype=str)
    table.loc[0, "county_code"] = "140599"
    table.to_csv(tmp / "targets.csv", index=False)
    return ["140599", "140502"]


def _break_crs(tmp, cfg):
    with rasterio.open(tmp / "erosion.tif") as src:
        write(tmp / "no_crs.tif", src.read(1), None, src.transform, -9999.0)
    cfg["years"][0]["erosion"] = str(tmp / "no_crs.tif")
    return ["no_crs.tif", "CRS"]


@pytest.mark.parametrize("breaker", [_break_missing_file, _break_unit, _break_target_county, _break_crs])
def test_bad_input_stops_before_any_computing_with_input_problem_and_fix(tmp_path, breaker):
    config = make_case(tmp_path)
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    fragments = breaker(tmp_path, cfg)
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    result = run(tmp_path, config)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    for fragment in fragments + ["Fix:"]:
        assert fragment in message
    assert not (tmp_path / "results").exists()  # nothing computed, nothing half-written


def test_a_value_problem_found_while_counting_stops_the_year_before_anything_is_published(tmp_path):
    """NaN and negative moduli and an unknown land-cover code inside a county: validate_year reads no values, the
    counting pass finds them, and gather_crosstab refuses the year with every problem, before any result."""
    import shapely

    config = make_case(tmp_path)
    area = counties(CODES)
    with rasterio.open(tmp_path / "erosion.tif") as src:
        a, crs, transform = src.read(1), src.crs.to_wkt(), src.transform
    inside = area.to_crs(crs).geometry.iloc[1].representative_point()
    row, col = rasterio.transform.rowcol(transform, inside.x, inside.y)
    a[row, col : col + 3] = np.nan
    a[row + 1, col : col + 2] = -4.5
    write(tmp_path / "erosion.tif", a, crs, transform, -9999.0)
    with rasterio.open(tmp_path / "landcover.tif") as src:
        lc, lc_crs, lc_transform = src.read(1), src.crs.to_wkt(), src.transform
    p = shapely.Point(*area.to_crs(lc_crs).geometry.iloc[0].representative_point().coords[0])
    r, c = rasterio.transform.rowcol(lc_transform, p.x, p.y)
    lc[r - 5 : r + 5, c - 5 : c + 5] = 99
    write(tmp_path / "landcover.tif", lc, lc_crs, lc_transform, 0)

    result = run(tmp_path, config)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert "3 problems found in the inputs" in message
    assert "3 NaN values outside the declared nodata (-9999)" in message
    assert "2 pixels with negative erosion modulus (minimum -4.5)" in message
    assert "land-cover code not in the legend: 99 (" in message
    assert message.count("Fix: ") >= 3
    assert (tmp_path / "results/2023/validation.json").exists()  # the checks that read no value passed
    year = tmp_path / "results/2023"
    published = sorted(p.name for p in [*year.glob("*"), *year.glob("maps/*")] if p.is_file())
    assert published == ["validation.json"]  # the batch's intermediates are in results/2023/<batch>/


def test_whitespace_in_target_names_is_tolerated(tmp_path):
    config = make_case(tmp_path)
    text = (tmp_path / "targets.csv").read_text(encoding="utf-8").replace("城区", "城 区")
    (tmp_path / "targets.csv").write_text(text, encoding="utf-8")
    assert run(tmp_path, config, "-n").returncode == 0


def test_killed_run_leaves_no_complete_looking_output_and_resumes_to_identical_results(case, tmp_path):
    import os
    import signal
    import time

    config = make_case(tmp_path)  # same seeds: the same inputs as the `case` run
    cmd = snakemake_command(tmp_path, config)
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (tmp_path / "results/2023/validation.json").exists():
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # as hard as a power cut: no clean-up runs
    proc.wait()
    assert (tmp_path / "results/2023/validation.json").exists(), "the run never started"
    for final in ["county_rates.csv", "target_comparison.csv", "erosion_by_landcover.csv", "erosion_grade.tif"]:
        assert not (tmp_path / "results/2023" / final).exists()
    assert run(tmp_path, config, "--unlock").returncode == 0  # what Snakemake tells the user after a kill
    resumed = run(tmp_path, config, "--rerun-incomplete")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    pd.testing.assert_frame_equal(
        pd.read_csv(case / "results/2023/county_rates.csv"), pd.read_csv(tmp_path / "results/2023/county_rates.csv")
    )
    with (
        rasterio.open(case / "results/2023/erosion_grade.tif") as a,
        rasterio.open(tmp_path / "results/2023/erosion_grade.tif") as b,
    ):
        np.testing.assert_array_equal(a.read(1), b.read(1))


def test_snakemake_report_packs_the_registered_outputs(case):
    import zipfile

    result = run(case, case / "config.yaml", "--report", str(case / "report.zip"))
    assert result.returncode == 0, result.stderr[-3000:]
    names = zipfile.ZipFile(case / "report.zip").namelist()
    raw = [n for n in names if "/data/raw/" in n]  # the registered outputs (the archive's own index is outside)
    published = [
        "report.html",
        "rate.png",
        "rate.pdf",
        "target_gap.png",
        "target_gap.pdf",
        "grade.pdf",
        "landcover.pdf",
        "swc_tables.xlsx",
        "erosion_grade.tif",
        "erosion_grade.tif.aux.xml",
        "erosion_grade.qml",
        "landcover.tif",
        "landcover.qml",
        "counties.gpkg",
        "county_rates.csv",
        "target_comparison.csv",
        "erosion_by_landcover.csv",
        "rates_by_year.csv",
        "changes.csv",
        "progress.csv",
        "progress_by_county.png",
        "t_sensitivity.csv",
    ]
    for expected in published:
        assert any(n.endswith("/" + expected) for n in raw), expected
    assert not any(n.endswith("crosstab.nc") or "/aligned/" in n for n in raw)  # intermediates stay out


# --------------------------------------------------------------------------- deliverables as published


def _published_csvs(case: Path) -> list[Path]:
    per_batch = {p for p in case.glob("results/*/*/*.csv")}  # batch temporaries, not published
    return sorted(p for p in case.glob("results/**/*.csv") if p not in per_batch and "benchmarks" not in p.parts)


def test_every_published_csv_opens_in_excel_with_the_demo_marker(case):
    from swc_raster.csv_files import DATA_STATUS_COLUMN, DEMO_STATUS

    csvs = _published_csvs(case)
    assert {p.name for p in csvs} >= {
        "county_rates.csv",
        "target_comparison.csv",
        "erosion_by_landcover.csv",
        "rates_by_year.csv",
        "changes.csv",
        "progress.csv",
    }
    for path in csvs:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM (Excel on Chinese Windows reads GBK)"
        text = raw.decode("utf-8-sig")
        noisy = re.findall(r"-?\d+\.\d{7,}", text)
        assert not noisy, f"{path.name}: float noise {noisy[:3]}"
        table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
        assert (table[DATA_STATUS_COLUMN] == DEMO_STATUS).all(), path.name


def test_published_rasters_are_valid_cogs_with_class_names_and_the_demo_tag(case):
    from tests.test_deliverables import gdal_band_info, validate_cog

    for name, a_class in (("erosion_grade.tif", "微度"), ("landcover.tif", "林地")):
        path = case / "results/2023" / name
        validate_cog(path)
        info = gdal_band_info(path)
        assert a_class in info["categories"], (name, info["categories"][:10])
        assert info["overviews"] >= 1 and info["colours"]
        assert info["crs"] and "unknown" not in info["crs"].lower()
        assert "SWC_DEMO" in info["metadata"], name
        assert not any(str(case) in str(v) for v in info["metadata"].values()), "no internal paths in the metadata"
        assert (path.parent / (path.stem + ".qml")).is_file() and (path.parent / (path.name + ".aux.xml")).is_file()


def test_geopackage_is_styled_and_marked_as_demo(case):
    import sqlite3

    gpkg = case / "results/2023/counties.gpkg"
    with sqlite3.connect(gpkg) as con:
        styled = {row[0] for row in con.execute("SELECT f_table_name FROM layer_styles")}
    assert "counties" in styled
    counties = gpd.read_file(gpkg, layer="counties")
    assert (counties["data_status"] == "演示数据 demo data").all()


def test_map_pdfs_carry_their_text(case):
    from tests._tools import need_tool

    pdftotext = need_tool("pdftotext")
    for kind in ("rate", "target_gap", "grade", "landcover"):
        text = subprocess.run(
            [pdftotext, str(case / f"results/2023/maps/{kind}.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "演示数据" in text and "城区" in text and "高平市" in text, kind
