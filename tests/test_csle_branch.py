"""The CSLE branch (issue 7): factor rasters → A = R·K·L·S·B·E·T → the same grading.

Analytic cases run through the raster branch (``csle_raster.compute_year``) on small
grids; every expected number is computed here from the published formulas with the
``math`` module, never taken from the functions under test.  Bad inputs are checked
through the input validation (``swc_raster.validate``) and the computation itself.
"""

from __future__ import annotations

import copy
import math
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.features
import yaml
from _factories import LANDCOVER, Scenario, from_origin, make_scenario
from rasterio.warp import transform_bounds
from shapely.geometry import box

from swc_raster import csle_raster
from swc_raster.config import CSLE_EROSION, resolve_csle_erosion, validate_config, year_inputs
from swc_raster.csle_raster import CsleInputs, compute_year, output_paths
from swc_raster.errors import CoverageError, CrsError, InputError, UnitError, ValidationFailed
from swc_raster.validate import check_data, check_header, validate

ROOT = Path(__file__).resolve().parents[1]
GK = "EPSG:4547"
X0, Y0, RES = 400_000.0, 3_930_000.0, 30.0
H, W = 30, 40  # the analytic DEM: 30 rows × 40 columns of 30 m
R_UNIT, K_UNIT = "MJ·mm/(ha·h·a)", "t·ha·h/(ha·MJ·mm)"
TABLE = """code,name_en,kind,E,T,note
1,Cropland,cropland,0.5,0.37,test
2,Orchard,orchard,0.8,1,test
3,Forest,forest,1,1,test
4,Grassland,grassland,1,1,test
5,Built-up,built_up,1,1,test
6,Transport,transport,1,1,test
7,Water,water,1,1,test
8,Other,other,1,1,test
"""


# --------------------------------------------------------------------------- helpers


def write(path: Path, array: np.ndarray, *, crs: str = GK, transform=None, nodata=None) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.asarray(array)
    profile = {
        "driver": "GTiff",
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": str(array.dtype),
        "crs": crs,
        "transform": transform or from_origin(X0, Y0, RES, RES),
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return str(path)


def read(path) -> tuple[np.ndarray, rasterio.Affine]:
    with rasterio.open(path) as src:
        return src.read(1), src.transform


def dem_columns(transform, shape) -> np.ndarray:
    """The analytic DEM's column index of every output cell's column."""
    return np.round((transform.c - X0) / RES).astype(int) + np.arange(shape[1])


def region(col0=10, col1=30, row0=5, row1=25) -> gpd.GeoDataFrame:
    """One county on the analytic DEM's grid (cells col0..col1, row0..row1)."""
    geom = box(X0 + col0 * RES, Y0 - row1 * RES, X0 + col1 * RES, Y0 - row0 * RES)
    return gpd.GeoDataFrame({"county_code": ["140502"], "county_name": ["城区"]}, geometry=[geom], crs=GK)


def plane_dem(theta_deg: float) -> np.ndarray:
    """A plane falling to the east at θ: every flow path starts at the west edge."""
    x = (np.arange(W) + 0.5) * RES
    z = 1500.0 - math.tan(math.radians(theta_deg)) * x
    return np.broadcast_to(z, (H, W)).astype("float32")


def world(tmp: Path, theta: float = 15.0, *, landuse=None, fvc=0.6, table: str = TABLE, **kw) -> CsleInputs:
    """Rasters on the analytic grid: plane DEM, land use (default: all 'other'), cover; R, K constants."""
    lu = np.full((H, W), 8, dtype="uint8") if landuse is None else landuse
    factors = {"r": 400.0, "k": 0.01, "r_unit": R_UNIT, "k_unit": K_UNIT}
    factors.update(kw)
    (tmp / "table.csv").write_text(table, encoding="utf-8")
    return CsleInputs(
        landcover=write(tmp / "landuse.tif", lu, nodata=0),
        dem=write(tmp / "dem.tif", plane_dem(theta), nodata=-9999.0),
        fvc=write(tmp / "fvc.tif", np.full((H, W), fvc, dtype="float32")) if "ndvi" not in kw else None,
        factor_table=str(tmp / "table.csv"),
        **factors,
    )


def run(tmp: Path, inputs: CsleInputs, counties=None, name: str = "out") -> dict[str, Path]:
    paths = output_paths(tmp / name)
    compute_year(
        inputs, region() if counties is None else counties, paths, year=2024, region_code="140500", region_name="全市"
    )
    return paths


def expected_L(lam: np.ndarray, theta: float, cap: float) -> np.ndarray:
    """L of the segment of one cell (30 m) ending ``lam`` metres below the divide (Foster & Wischmeier 1974).

    L = (λ_out^(m+1) − λ_in^(m+1)) / ((λ_out − λ_in) · 22.13^m); past the cap, the last segment of a
    slope of the cap's length.
    """
    m = 0.2 if theta <= 1 else 0.3 if theta <= 3 else 0.4 if theta <= 5 else 0.5
    b = np.minimum(lam, cap)
    a = b - RES
    return (b ** (m + 1) - a ** (m + 1)) / (RES * 22.13**m)


def expected_S(theta: float, method: str) -> float:
    s = math.sin(math.radians(theta))
    if method == "csle":
        return 10.8 * s + 0.03 if theta < 5 else 16.8 * s - 0.50 if theta < 10 else 21.91 * s - 0.96
    return 10.8 * s + 0.03 if math.tan(math.radians(theta)) < 0.09 else 16.8 * s - 0.50


# --------------------------------------------------------------------------- analytic cases


@pytest.mark.parametrize(
    ("theta", "method"),
    [
        (0.5, "csle"),
        (2.0, "csle"),
        (4.0, "csle"),
        (7.0, "csle"),
        (15.0, "csle"),
        (30.0, "csle"),
        (7.0, "rusle"),
        (15.0, "rusle"),
        (30.0, "rusle"),
    ],
)
def test_plane_gives_LS_by_the_formulas(tmp_path, theta, method):
    # λ of the n-th cell below the divide is n·30 m; the cap (1 000 m here) is reached at the 34th.
    inputs = world(tmp_path, theta, s_method=method, lambda_cap_m=1000.0)
    paths = run(tmp_path, inputs)
    ls, t = read(paths["LS"])
    lam = (dem_columns(t, ls.shape) + 1) * RES
    want = expected_L(lam, theta, 1000.0) * expected_S(theta, method)
    np.testing.assert_allclose(ls, np.broadcast_to(want, ls.shape), rtol=2e-4)
    # A = 100 · R·K·LS·B·E·T in t/(km²·a); land use 'other': B = E = T = 1.
    a, _ = read(paths["A"])
    np.testing.assert_allclose(a, 100.0 * 400.0 * 0.01 * ls, rtol=1e-5)


def test_rusle_S_is_below_csle_on_steep_slopes(tmp_path):
    ls = {m: read(run(tmp_path, world(tmp_path, 30.0, s_method=m), name=m)["LS"])[0] for m in ("csle", "rusle")}
    # S(30°): CSLE 21.91·0.5 − 0.96 = 9.995, RUSLE 16.8·0.5 − 0.5 = 7.9 (InVEST SDR)
    np.testing.assert_allclose(ls["rusle"] / ls["csle"], 7.9 / 9.995, rtol=1e-4)


def test_lambda_cap_is_configurable(tmp_path):
    paths = run(tmp_path, world(tmp_path, 15.0, lambda_cap_m=150.0))
    ls, t = read(paths["LS"])
    cols = dem_columns(t, ls.shape)
    # every output cell is ≥ 6 cells below the divide: the last 30 m segment of a 150 m slope everywhere
    assert cols.min() >= 5
    want = (150.0**1.5 - 120.0**1.5) / (30.0 * 22.13**0.5) * (21.91 * math.sin(math.radians(15.0)) - 0.96)
    np.testing.assert_allclose(ls, want, rtol=2e-4)


def test_cutoff_keys_reach_the_LS(tmp_path):
    # a 20° plane breaking to 2° at column 20: the census rule ends the slope at the break
    dem = plane_dem(20.0).astype("float64")
    x = (np.arange(W) + 0.5) * RES
    z = np.where(
        x < 20 * RES,
        1500.0 - math.tan(math.radians(20.0)) * x,
        1500.0 - math.tan(math.radians(20.0)) * 20 * RES - math.tan(math.radians(2.0)) * (x - 20 * RES),
    )
    dem[:] = z
    inputs = world(tmp_path, 20.0, lambda_cap_m=2000.0)
    write(Path(inputs.dem), dem.astype("float32"), nodata=-9999.0)
    census = read(run(tmp_path, inputs, name="census")["LS"])[0]
    none = read(run(tmp_path, CsleInputs(**{**inputs.__dict__, "lambda_cutoff": "none"}), name="none")["LS"])[0]
    # above the break the two agree; below it the census slope starts again, so L·S is lower
    # (rows inside the DEM: on its edge rows flow at the break leaves the DEM by the tangent plane)
    np.testing.assert_allclose(census[:, :5], none[:, :5])
    inner = slice(1, -1) if census.shape[0] == H else slice(None)
    assert (census[inner, -3:] < 0.8 * none[inner, -3:]).all()


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"lambda_cutoff": "usda"}, "lambda_cutoff"),
        ({"cutoff_ratio_steep": 1.5}, "cutoff_ratio_steep"),
        ({"channel_area_m2": -5.0}, "channel_area_m2"),
        ({"lambda_cutoff": "none", "channel_area_m2": 1e5}, "channel_area_m2"),
    ],
)
def test_bad_cutoff_settings_are_refused_by_key(tmp_path, kw, fragment):
    with pytest.raises(InputError, match=fragment):
        run(tmp_path, world(tmp_path, 15.0, **kw))


def stripes() -> np.ndarray:
    """Land-use code (row % 8) + 1: every legend class in bands of rows."""
    return np.repeat((np.arange(H) % 8 + 1)[:, None], W, axis=1).astype("uint8")


def expected_B(code: int, cover_pct: float, method: str = "jiang1996") -> float:
    if code == 1 or code == 8:
        return 1.0
    if code in (5, 6, 7):
        return 0.0
    if method == "cai2000":
        return 0.6508 - 0.3436 * math.log10(cover_pct)
    if code == 3:
        return math.exp(-0.0085 * (cover_pct - 5) ** 1.5)
    return math.exp(-0.0418 * (cover_pct - 5))  # grassland and orchard


@pytest.mark.parametrize(
    "cover",
    [
        {"fvc": 0.6},
        {"fvc": 60.0, "fvc_unit": "percent"},
        {"ndvi": 0.53, "ndvi_soil": 0.05, "ndvi_veg": 0.85},  # (0.53 − 0.05) / 0.8 = 0.6
    ],
    ids=["fraction", "percent", "ndvi"],
)
def test_B_E_T_for_known_cover(tmp_path, cover):
    kw = dict(cover)
    if "ndvi" in kw:
        kw["ndvi"] = write(tmp_path / "ndvi.tif", np.full((H, W), kw["ndvi"], dtype="float32"))
        inputs = world(tmp_path, 15.0, landuse=stripes(), **kw)
    else:
        inputs = world(tmp_path, 15.0, landuse=stripes(), fvc=kw.pop("fvc"), **kw)
    paths = run(tmp_path, inputs)
    b, t = read(paths["B"])
    e, _ = read(paths["E"])
    tt, _ = read(paths["T"])
    rows = np.round((Y0 - t.f) / RES).astype(int) + np.arange(b.shape[0])
    codes = rows % 8 + 1
    want_b = np.array([expected_B(c, 60.0) for c in codes])[:, None]
    np.testing.assert_allclose(b, np.broadcast_to(want_b, b.shape), rtol=1e-4, atol=1e-7)
    want_e = np.where(codes == 1, 0.5, np.where(codes == 2, 0.8, 1.0))[:, None]
    want_t = np.where(codes == 1, 0.37, 1.0)[:, None]
    np.testing.assert_allclose(e, np.broadcast_to(want_e, e.shape), rtol=1e-6)
    np.testing.assert_allclose(tt, np.broadcast_to(want_t, tt.shape), rtol=1e-6)
    ls, _ = read(paths["LS"])
    a, _ = read(paths["A"])
    np.testing.assert_allclose(a, 100.0 * 400.0 * 0.01 * ls * want_b * want_e * want_t, rtol=1e-5, atol=1e-4)


def test_E_raster_of_mapped_measures_overrides_the_table_where_it_has_data(tmp_path):
    e = np.full((H, W), np.nan, dtype="float32")
    e[:, :20] = 0.084  # level terraces mapped in the western half, nothing mapped in the east
    e_path = write(tmp_path / "E.tif", e, nodata=float("nan"))
    paths = run(tmp_path, world(tmp_path, 15.0, landuse=stripes(), e=e_path))
    got, t = read(paths["E"])
    cols = dem_columns(t, got.shape)
    rows = np.round((Y0 - t.f) / RES).astype(int) + np.arange(got.shape[0])
    table_e = np.where(rows % 8 + 1 == 1, 0.5, np.where(rows % 8 + 1 == 2, 0.8, 1.0))[:, None]
    want = np.where(cols[None, :] < 20, 0.084, table_e)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_E_raster_out_of_range_is_refused(tmp_path):
    e_path = write(tmp_path / "E.tif", np.full((H, W), 84.0, dtype="float32"))  # percent, not a factor
    with pytest.raises(InputError, match="E reaches 84"):
        run(tmp_path, world(tmp_path, 15.0, e=e_path))


def test_B_cai2000_option(tmp_path):
    paths = run(tmp_path, world(tmp_path, 15.0, landuse=stripes(), b_method="cai2000"))
    b, t = read(paths["B"])
    codes = (np.round((Y0 - t.f) / RES).astype(int) + np.arange(b.shape[0])) % 8 + 1
    want = np.array([expected_B(c, 60.0, "cai2000") for c in codes])[:, None]
    np.testing.assert_allclose(b, np.broadcast_to(want, b.shape), rtol=1e-4, atol=1e-7)


def test_A_is_linear_in_R_and_K_rasters_or_constants(tmp_path):
    base = read(run(tmp_path, world(tmp_path, 15.0, landuse=stripes()), name="base")["A"])[0]
    r = write(tmp_path / "R.tif", np.full((H, W), 800.0, dtype="float32"))  # 2 × R
    k = write(tmp_path / "K.tif", np.full((H, W), 0.03, dtype="float32"))  # 3 × K
    scaled = read(run(tmp_path, world(tmp_path, 15.0, landuse=stripes(), r=r, k=k), name="scaled")["A"])[0]
    np.testing.assert_allclose(scaled, 6.0 * base, rtol=1e-5)
    same = read(run(tmp_path, world(tmp_path, 15.0, landuse=stripes(), r=r, k=0.03), name="same")["A"])[0]
    np.testing.assert_array_equal(same, scaled)  # a constant and a constant raster are the same K


def test_county_factor_means_are_area_weighted(tmp_path):
    paths = run(tmp_path, world(tmp_path, 15.0, landuse=stripes()))
    means = pd.read_csv(paths["means"], dtype={"county_code": str})
    assert list(means.level) == ["county", "region"]
    assert list(means.columns[:6]) == ["year", "level", "county_code", "county_name", "area_km2", "nodata_area_km2"]
    row = means.iloc[0]
    # the county: cells 10..29 × rows 5..24 by cell centre = 400 cells of 900 m² (GK scale ≈ 1.0005² here)
    assert row.area_km2 == pytest.approx(0.36, rel=2e-3)
    assert row.nodata_area_km2 == pytest.approx(0.0, abs=1e-9)
    assert row.mean_R_MJ_mm_ha_h_a == pytest.approx(400.0)
    assert row.mean_K_t_ha_h_ha_MJ_mm == pytest.approx(0.01)
    codes = np.arange(5, 25) % 8 + 1  # rows 5..24
    b = np.array([expected_B(c, 60.0) for c in codes])
    assert row.mean_B == pytest.approx(b.mean(), rel=1e-4)
    assert row.mean_T == pytest.approx(np.where(codes == 1, 0.37, 1.0).mean(), rel=1e-5)
    lam = np.minimum((np.arange(10, 30) + 1) * RES, 300.0)
    ls = expected_L(lam, 15.0, 300.0) * expected_S(15.0, "csle")
    assert row.mean_LS == pytest.approx(ls.mean(), rel=2e-4)
    e = np.where(codes == 1, 0.5, np.where(codes == 2, 0.8, 1.0))
    a = 100 * 400 * 0.01 * np.outer(b * e * np.where(codes == 1, 0.37, 1.0), ls)
    assert row.mean_A_t_km2_a == pytest.approx(a.mean(), rel=2e-4)
    region_row = means.iloc[1]
    assert (region_row.county_code, region_row.mean_A_t_km2_a) == ("140500", row.mean_A_t_km2_a)


def test_outputs_are_cloud_optimized_geotiffs(tmp_path):
    paths = run(tmp_path, world(tmp_path, 15.0))
    for key in (*csle_raster.FACTORS, "A"):
        with rasterio.open(paths[key]) as src:
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG", key
            assert (src.crs.to_epsg(), src.nodata, src.dtypes[0]) == (4547, -9999.0, "float32")
    with rasterio.open(paths["A"]) as src:
        assert src.tags()["SWC_UNIT"] == "t/km2/a"
    assert not list((tmp_path / "out").glob(".*partial*"))


def test_nodata_in_an_input_is_nodata_in_A(tmp_path):
    lu = stripes()
    lu[10:12, 15:18] = 0  # land-cover nodata
    paths = run(tmp_path, world(tmp_path, 15.0, landuse=lu))
    a, t = read(paths["A"])
    r0, c0 = int(round((Y0 - t.f) / RES)), int(round((t.c - X0) / RES))
    assert np.all(a[10 - r0 : 12 - r0, 15 - c0 : 18 - c0] == -9999.0)
    assert (a == -9999.0).sum() == 6


# --------------------------------------------------------------------------- bad inputs: computation


def test_dem_in_geographic_coordinates_is_refused(tmp_path):
    inputs = world(tmp_path, 15.0)
    lonlat = write(
        tmp_path / "dem_4326.tif", plane_dem(15.0), crs="EPSG:4326", transform=from_origin(112.5, 35.6, 0.0003, 0.0003)
    )
    with pytest.raises(CrsError) as info:
        compute_year(
            CsleInputs(**{**inputs.__dict__, "dem": lonlat}), region().to_crs("EPSG:4326"), output_paths(tmp_path / "o")
        )
    msg = str(info.value)
    assert "csle.dem" in msg and "geographic coordinates" in msg and "gdalwarp -t_srs EPSG:4547" in msg
    assert not (tmp_path / "o").exists()


def test_factor_not_covering_the_region_is_refused(tmp_path):
    half = write(tmp_path / "R_half.tif", np.full((H, W // 2), 400.0, dtype="float32"))  # west half only
    with pytest.raises(CoverageError) as info:
        run(tmp_path, world(tmp_path, 15.0, r=half))
    assert "csle.r" in str(info.value) and "does not cover enough" in str(info.value)


def test_landuse_code_missing_from_table_is_refused(tmp_path):
    table = "\n".join(line for line in TABLE.splitlines() if not line.startswith("8,")) + "\n"
    with pytest.raises(InputError) as info:
        run(tmp_path, world(tmp_path, 15.0, table=table))  # the land use is all code 8
    assert "code(s) 8" in str(info.value) and "factor table" in str(info.value)


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"k": 0.3}, "US customary"),  # a US-unit K (≈ 7.59 × SI)
        ({"k_unit": "ton·acre·h/(100·acre·ft·tonf·in)"}, "0.1317"),
        ({"r_unit": "hundreds of ft·tonf·in/(ac·h·yr)"}, "17.02"),
        ({"r_unit": None}, "not declared"),
        ({"r": 2.0}, "below any annual R"),
        ({"dem_unit": "ft"}, "feet"),
    ],
)
def test_factors_in_wrong_units_are_refused(tmp_path, kw, fragment):
    with pytest.raises(UnitError) as info:
        run(tmp_path, world(tmp_path, 15.0, **kw))
    assert fragment in str(info.value)


def test_units_come_from_the_config_never_by_default(tmp_path):
    entry = {
        "year": 2024,
        "landcover": "lc.tif",
        "csle": {"dem": "dem.tif", "r": 400, "k": 0.01, "k_unit": K_UNIT, "fvc": "fvc.tif"},
    }
    inputs = CsleInputs.from_entry(entry)
    assert (inputs.r_unit, inputs.k_unit, inputs.label) == (None, K_UNIT, "years[2024].csle")
    with pytest.raises(UnitError, match="R is not declared"):
        compute_year(inputs, region(), output_paths(tmp_path / "o"))


def test_unit_check_warn_lets_an_implausible_K_through(tmp_path):
    inputs = world(tmp_path, 15.0, k=0.3)
    with pytest.warns(UserWarning, match="US customary"):
        compute_year(inputs, region(), output_paths(tmp_path / "o"), unit_check="warn")


def test_unit_spellings():
    assert csle_raster.normalise_k_unit("t·h/(MJ·mm)") == K_UNIT
    assert csle_raster.normalise_k_unit("t ha h ha-1 MJ-1 mm-1") == K_UNIT
    assert csle_raster.normalise_r_unit("MJ mm ha^-1 h^-1 yr^-1") == R_UNIT
    assert csle_raster.normalise_fvc_unit("%") == "percent"
    with pytest.raises(UnitError, match="unknown unit of R"):
        csle_raster.normalise_r_unit("mm")


# --------------------------------------------------------------------------- bad inputs: validation


def csle_scenario(tmp: Path, **block) -> Scenario:
    """The validation scenario (two counties near Jincheng) with year 2023 computed by the CSLE branch.

    Factor rasters in EPSG:4547 at 60 m cover the region (lon 112.50–112.60, lat 35.50–35.60)
    with a 1.2 km margin; the land cover is the scenario's (EPSG:4326).
    """
    s = make_scenario(tmp)
    left, bottom, right, top = transform_bounds("EPSG:4326", GK, 112.49, 35.49, 112.61, 35.61)
    res = 60.0
    transform = from_origin(math.floor(left / res) * res, math.ceil(top / res) * res, res, res)
    h, w = int(math.ceil((top - bottom) / res)) + 1, int(math.ceil((right - left) / res)) + 1
    yy, xx = np.mgrid[0:h, 0:w]
    dem = (900.0 + 120.0 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 2.0 * xx).astype("float32")
    files = {
        "dem": s.write_raster("data/csle/dem.tif", dem, crs=GK, transform=transform, nodata=-9999.0),
        "r": s.write_raster("data/csle/R.tif", np.full((h, w), 420.0, "float32"), crs=GK, transform=transform),
        "k": s.write_raster(
            "data/csle/K.tif", (0.006 + 0.002 * np.cos(xx / 7.0)).astype("float32"), crs=GK, transform=transform
        ),
        "fvc": s.write_raster(
            "data/csle/fvc.tif", (0.5 + 0.3 * np.sin(yy / 5.0)).astype("float32"), crs=GK, transform=transform
        ),
    }
    (s.base / "config/csle_factors.csv").write_text(TABLE, encoding="utf-8")
    csle_block = {k: str(p.relative_to(s.base)) for k, p in files.items()}
    csle_block |= {"r_unit": R_UNIT, "k_unit": K_UNIT, "factor_table": "config/csle_factors.csv"}
    csle_block.update(block)
    s.cfg["years"] = [{"year": 2023, "landcover": LANDCOVER, "csle": csle_block}]
    s.grid = (transform, h, w)  # type: ignore[attr-defined]
    return s


def problems_of(s: Scenario, data: bool = False) -> list:
    return check_header(s.cfg, s.base) + (check_data(s.cfg, s.base, 2023) if data else [])


def test_valid_csle_scenario_passes_every_check(tmp_path):
    s = csle_scenario(tmp_path)
    assert problems_of(s, data=True) == []
    assert validate(s.cfg, s.base) == []


def test_validation_dem_in_epsg4326(tmp_path):
    s = csle_scenario(tmp_path)
    s.write_raster(
        "data/csle/dem.tif", np.full((40, 40), 900.0, "float32"), transform=from_origin(112.49, 35.61, 0.003, 0.003)
    )
    (p,) = problems_of(s)
    assert p.input == "years[2023].csle.dem (data/csle/dem.tif)"
    assert "geographic coordinates" in p.problem
    assert "gdalwarp -t_srs EPSG:4547" in p.fix and "csle.dem" in p.fix


def test_validation_factor_not_covering_the_region(tmp_path):
    s = csle_scenario(tmp_path)
    transform, h, w = s.grid
    s.write_raster("data/csle/K.tif", np.full((h, w // 2), 0.007, "float32"), crs=GK, transform=transform)
    problems = problems_of(s, data=True)
    assert len(problems) == 1
    assert problems[0].input == "years[2023].csle.k (data/csle/K.tif)"
    assert "does not cover enough" in problems[0].problem and "A cannot be computed" in problems[0].problem


def test_validation_landuse_code_missing_from_the_table(tmp_path):
    s = csle_scenario(tmp_path)
    (s.base / "config/csle_factors.csv").write_text(
        "\n".join(line for line in TABLE.splitlines() if not line.startswith(("6,", "7,"))) + "\n", encoding="utf-8"
    )
    (p,) = problems_of(s)
    assert p.input == "years[2023].csle.factor_table (config/csle_factors.csv)"
    assert "codes 6, 7 of the legend" in p.problem and "missing from the CSLE factor table" in p.problem


@pytest.mark.parametrize(
    ("mutate", "fragment", "where"),
    [
        (
            lambda s: s.write_raster(
                "data/csle/K.tif", np.full(s.grid[1:], 0.32, "float32"), crs=GK, transform=s.grid[0]
            ),
            "US customary",
            "csle.k",
        ),
        (
            lambda s: s.write_raster(
                "data/csle/fvc.tif", np.full(s.grid[1:], 62.0, "float32"), crs=GK, transform=s.grid[0]
            ),
            "looks like percent",
            "csle.fvc",
        ),
        (
            lambda s: s.write_raster(
                "data/csle/dem.tif", np.full(s.grid[1:], 90000.0, "float32"), crs=GK, transform=s.grid[0]
            ),
            "not metres",
            "csle.dem",
        ),
        (
            lambda s: s.year["csle"].update(
                e=str(
                    s.write_raster(
                        "data/csle/E.tif", np.full(s.grid[1:], 41.4, "float32"), crs=GK, transform=s.grid[0]
                    ).relative_to(s.base)
                )
            ),
            "E reaches 41.4",
            "csle.e",
        ),
        (lambda s: s.year["csle"].update(k_unit="US customary"), "0.1317", "csle.k_unit"),
        (lambda s: s.year["csle"].pop("r_unit"), "not declared", "csle.r_unit"),
        (lambda s: s.year["csle"].update(k=0.35), "US customary", "csle.k"),
        (lambda s: s.year["csle"].update(dem_unit="feet"), "feet", "csle.dem_unit"),
        (lambda s: s.year["csle"].update(ndvi="data/csle/fvc.tif"), "exactly one vegetation input", "csle"),
        (lambda s: s.year.update(erosion="data/2023/erosion.tif", erosion_unit="t/km2/a"), "both", "csle"),
    ],
    ids=[
        "K raster in US units",
        "cover in percent declared fraction",
        "DEM not in metres",
        "E raster > 1",
        "K unit US",
        "R unit missing",
        "K constant in US units",
        "DEM in feet",
        "fvc and ndvi",
        "erosion and csle",
    ],
)
def test_validation_wrong_units_and_keys(tmp_path, mutate, fragment, where):
    s = csle_scenario(tmp_path)
    mutate(s)
    problems = problems_of(s, data=True)
    assert any(fragment in p.problem or fragment in p.fix for p in problems), problems
    assert any(p.input.startswith(f"years[2023].{where}") for p in problems), problems


def test_unit_check_warn_turns_unit_doubts_into_warnings(tmp_path):
    s = csle_scenario(tmp_path)
    s.write_raster("data/csle/K.tif", np.full(s.grid[1:], 0.32, "float32"), crs=GK, transform=s.grid[0])
    s.cfg["validation"]["unit_check"] = "warn"
    assert any("US customary" in w for w in validate(s.cfg, s.base))


def test_config_schema_year_inputs_and_derived_erosion(tmp_path):
    s = csle_scenario(tmp_path)
    cfg = validate_config(copy.deepcopy(s.cfg))
    block = cfg["years"][0]["csle"]
    assert (block["lambda_cap_m"], block["s_method"], block["fill_depressions"]) == (300, "csle", True)
    (y,) = year_inputs(cfg).values()
    assert (y.is_csle, y.erosion, y.erosion_unit) == (True, CSLE_EROSION.format(year=2023), "t/km2/a")
    resolve_csle_erosion(cfg)
    assert cfg["years"][0]["erosion"] == "results/2023/csle/A_t_km2.tif"
    assert check_header(cfg, s.base) == []  # the derived erosion path is not a conflict


def test_csle_stage_validates_then_computes(tmp_path, monkeypatch):
    """stages.csle_erosion with plain values (as the rule passes them): checks the year, then computes."""
    from swc_raster import stages
    from swc_raster.config import Settings
    from swc_raster.legend import read_legend

    s = csle_scenario(tmp_path)
    monkeypatch.chdir(s.base)
    settings = Settings.from_config(s.cfg)
    b, v = settings.boundaries, settings.validation
    plain = {
        "counties_gpkg": s.base / "boundaries/counties.gpkg",
        "boundaries_settings": {
            "path": b.path,
            "layer": b.layer,
            "code_field": b.code_field,
            "name_field": b.name_field,
            "name_en_field": b.name_en_field,
        },
        "analysis_crs": settings.analysis.crs,
        "validation_rules": {
            "min_coverage_pct": v.min_coverage_pct,
            "unit_check": v.unit_check,
            "overlap_tolerance_pct": v.overlap_tolerance_pct,
        },
        "legend_codes": read_legend(settings.landcover_legend).codes,
        "region_code": settings.region.code,
        "region_name": settings.region.name,
        "demo": False,
    }
    y = settings.year(2023)
    entry = {"year": 2023, "landcover": y.landcover, "csle": dict(y.csle)}
    out = {k: str(p) for k, p in output_paths(s.base / "results/2023/csle").items()}
    summary = stages.csle_erosion(entry, **plain, outputs=out)
    assert summary["cells_with_A"] > 0
    means = pd.read_csv(out["means"], dtype={"county_code": str}, encoding="utf-8-sig")
    assert list(means.county_code) == ["140502", "140525", "140500"]
    assert means.mean_R_MJ_mm_ha_h_a.tolist() == pytest.approx([420.0] * 3)
    # a bad input stops the stage before anything is written
    bad = {**entry, "csle": {**entry["csle"], "k": 0.4}}
    out2 = {k: str(p) for k, p in output_paths(s.base / "results/bad").items()}
    with pytest.raises(ValidationFailed, match="US customary"):
        stages.csle_erosion(bad, **plain, outputs=out2)
    assert not (s.base / "results/bad").exists()


# --------------------------------------------------------------------------- demo factors


def test_demo_factors_are_consistent_with_the_demo_year(tmp_path):
    """write_demo_factors: the demo year's own DEM, R, K, cover and E; A from them reproduces the demo's erosion."""
    from swc_raster import demo

    b = str(ROOT / "boundaries/jincheng_counties.gpkg")
    out = demo.write_demo_factors(b, 2024, str(tmp_path), resolution_m=150.0)
    demo.write_demo_year(b, 2024, str(tmp_path / "landcover.tif"), str(tmp_path / "erosion.tif"), resolution_m=150.0)
    with rasterio.open(tmp_path / "dem.tif") as dem, rasterio.open(tmp_path / "erosion.tif") as er:
        assert (dem.crs.to_epsg(), dem.res, dem.transform, dem.shape) == (4547, (150.0, 150.0), er.transform, er.shape)
        assert dem.tags()["SWC_DEMO"] == demo.DEMO_TAG
    lo, hi = out["ranges"]["dem"]
    assert 0 < lo < 500 and 1700 < hi < 2600  # real relief: Qin valley ≈ 250 m to the Taiyue/Zhongtiao peaks
    assert demo.R_RANGE[0] <= out["ranges"]["R"][0] and out["ranges"]["R"][1] <= demo.R_RANGE[1]
    assert demo.K_RANGE[0] <= out["ranges"]["K"][0] and out["ranges"]["K"][1] <= demo.K_RANGE[1]
    assert demo.R_RANGE[0] >= 663 and demo.R_RANGE[1] <= 2810  # Shanxi's published R (decision 0002)
    assert out["ranges"]["fvc"][0] >= 0.0 and out["ranges"]["fvc"][1] <= 1.0
    inputs = CsleInputs(
        landcover=str(tmp_path / "landcover.tif"),
        dem=str(tmp_path / "dem.tif"),
        r=str(tmp_path / "R.tif"),
        k=str(tmp_path / "K.tif"),
        fvc=str(tmp_path / "fvc.tif"),
        e=str(tmp_path / "E.tif"),
        factor_table=str(ROOT / "config/csle_factors.csv"),
        fill_depressions=False,
    )  # as the demo's erosion: same DEM, same terraces, no filling
    counties = gpd.read_file(b, layer="counties")
    paths = output_paths(tmp_path / "csle")
    compute_year(inputs, counties, paths, year=2024)
    eroded_share = {}
    for name, path in (("csle", paths["A"]), ("demo", tmp_path / "erosion.tif")):
        with rasterio.open(path) as src:
            a = src.read(1)
            zones = rasterio.features.rasterize(
                [(g, i + 1) for i, g in enumerate(counties.to_crs(src.crs).geometry)],
                out_shape=a.shape,
                transform=src.transform,
                dtype="int32",
            )
        eroded = ((a >= 200) & (a != -9999)).astype(float)
        n = np.bincount(zones.ravel(), minlength=7)[1:]
        e = np.bincount(zones.ravel(), weights=eroded.ravel(), minlength=7)[1:]
        eroded_share[name] = np.append(100 * e / n, 100 * e.sum() / n.sum())  # counties, then the region
    diff = eroded_share["csle"] - eroded_share["demo"]
    # what remains: the land cover's round trip through EPSG:4326 and R, K sampled separately
    assert np.abs(diff).max() < 1.0, diff


# --------------------------------------------------------------------------- the workflow


@pytest.mark.workflow
def test_workflow_grades_the_csle_year_like_any_erosion_raster(tmp_path):
    """A CSLE year runs end to end; its rates equal those of a year given the branch's A as `erosion`."""
    s = csle_scenario(tmp_path / "csle")
    cfg = copy.deepcopy(s.cfg)
    (s.base / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--cores", "2"]
    target = "results/2023/county_rates.csv"
    # targets before --configfile, which takes several values
    done = subprocess.run(
        [
            *cmd,
            target,
            "results/2023/csle/county_factor_means.csv",
            "--directory",
            str(s.base),
            "--configfile",
            "config.yaml",
        ],
        capture_output=True,
        text=True,
        cwd=s.base,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for f in (*csle_raster.FACTORS, "A_t_km2"):
        assert (s.base / f"results/2023/csle/{f}.tif").is_file()

    other = make_scenario(tmp_path / "plain")
    shutil.copyfile(s.base / "results/2023/csle/A_t_km2.tif", other.base / "data/2023/A.tif")
    other.cfg["years"][0].update(erosion="data/2023/A.tif", erosion_unit="t/km2/a")
    (other.base / "config.yaml").write_text(yaml.safe_dump(other.cfg, allow_unicode=True), encoding="utf-8")
    done = subprocess.run(
        [*cmd, target, "--directory", str(other.base), "--configfile", "config.yaml"],
        capture_output=True,
        text=True,
        cwd=other.base,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    a = pd.read_csv(s.base / target, dtype={"county_code": str})
    b = pd.read_csv(other.base / target, dtype={"county_code": str})
    pd.testing.assert_frame_equal(a, b)
    assert 0 < a.rate_pct.iloc[-1] < 100
