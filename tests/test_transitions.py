"""Grade transitions between two years: matrices checked against hand-made arrays."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from swc_raster import transitions
from swc_raster.errors import CrsError, InputError
from swc_raster.transitions import change_map, transition_matrix

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
RES = 30.0
CELL_KM2 = RES * RES / 1e6  # 0.0009 km²
ORIGIN = (600_000.0, 4_000_000.0)


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


# 6 × 7 grid.  Zones: 1 = county A (left), 2 = county B (right), 0 = outside.
ZONES = np.array(
    [
        [0, 1, 1, 1, 2, 2, 0],
        [1, 1, 1, 1, 2, 2, 2],
        [1, 1, 1, 2, 2, 2, 2],
        [1, 1, 1, 2, 2, 2, 2],
        [0, 1, 1, 2, 2, 2, 0],
        [0, 0, 1, 2, 2, 0, 0],
    ],
    dtype=np.uint16,
)
CODES = {1: "140502", 2: "140521"}

# Earlier year.  255 outside; inside: grades 1–6, one no-data pixel (0), one gap pixel (7).
G_FROM = np.array(
    [
        [255, 1, 2, 3, 1, 1, 255],
        [2, 2, 3, 4, 1, 2, 3],
        [1, 1, 5, 6, 2, 2, 1],
        [1, 0, 2, 2, 7, 3, 1],
        [255, 1, 1, 2, 2, 4, 255],
        [255, 255, 3, 1, 1, 255, 255],
    ],
    dtype=np.uint8,
)
# Later year: some pixels improve, some worsen; one county-B pixel is 255 (outside
# the region in that year's raster — must still be counted, as "unknown").
G_TO = np.array(
    [
        [255, 1, 1, 3, 1, 1, 255],
        [1, 2, 2, 4, 2, 2, 3],
        [1, 1, 3, 5, 1, 2, 1],
        [1, 1, 2, 3, 1, 3, 1],
        [255, 1, 1, 2, 2, 255, 255],
        [255, 255, 3, 1, 1, 255, 255],
    ],
    dtype=np.uint8,
)


def _write(
    path: Path,
    array: np.ndarray,
    *,
    crs: str = ALBERS,
    origin: tuple[float, float] = ORIGIN,
    res: float = RES,
    nodata: float | None = 255,
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": crs,
        "transform": from_origin(*origin, res, res),
    }
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


@pytest.fixture()
def rasters(tmp_path: Path) -> tuple[Path, Path, Path]:
    return (
        _write(tmp_path / "2021_grade.tif", G_FROM),
        _write(tmp_path / "2024_grade.tif", G_TO),
        _write(tmp_path / "zones.tif", ZONES, nodata=None),
    )


def _brute_force(zones: np.ndarray, g_from: np.ndarray, g_to: np.ndarray, codes: dict[int, str]) -> Counter:
    """Independent count: one Python loop over every pixel."""
    counts: Counter = Counter()
    for z, f, t in zip(zones.ravel().tolist(), g_from.ravel().tolist(), g_to.ravel().tolist()):
        if z:
            counts[(codes[z], f, t)] += 1
    return counts


@pytest.mark.parametrize("window_size", [1, 4, 1024])
def test_matrix_matches_pixel_count(rasters, window_size):
    f, t, z = rasters
    table = transition_matrix(f, t, z, CODES, window_size=window_size)
    expected = _brute_force(ZONES, G_FROM, G_TO, CODES)
    got = {(r.county_code, r.from_grade, r.to_grade): r.cells for r in table.itertuples()}
    assert got == dict(expected)
    assert np.allclose(table["area_km2"], table["cells"] * CELL_KM2)


def test_matrix_hand_values(rasters):
    f, t, z = rasters
    table = transition_matrix(f, t, z, CODES).set_index(["county_code", "from_grade", "to_grade"])
    # County A (zone 1), pixels (row, col) with from 2, to 1: (0,2), (1,0) → 2 cells
    assert table.loc[("140502", 2, 1), "cells"] == 2
    assert table.loc[("140502", 2, 1), "area_km2"] == pytest.approx(2 * 0.0009)
    # from 3 to 2: (1,2) → 1 cell; from 5 to 3: (2,2); from 0 to 1: (3,1) (no data → unknown)
    assert table.loc[("140502", 3, 2), "cells"] == 1
    assert table.loc[("140502", 5, 3), "change"] == "improved"
    assert table.loc[("140502", 0, 1), "change"] == "unknown"
    # County B (zone 2): 1 → 2 at (1,4) worsens; 7 → 1 at (3,4) is unknown; 4 → 255 at (4,5) is unknown
    assert table.loc[("140521", 1, 2), "change"] == "worsened"
    assert table.loc[("140521", 7, 1), "change"] == "unknown"
    assert table.loc[("140521", 4, 255), "cells"] == 1
    assert table.loc[("140521", 4, 255), "change"] == "unknown"
    assert table.loc[("140521", 1, 1), "change"] == "unchanged"


def test_matrix_sums_to_land_area_and_reproduces_both_years(rasters):
    f, t, z = rasters
    table = transition_matrix(f, t, z, CODES, window_size=4)
    for zone, code in CODES.items():
        sub = table[table["county_code"] == code]
        inside = zone == ZONES
        # Σ area = county area on the grid: 16 cells for A, 18 for B (counted by hand from ZONES)
        assert int(inside.sum()) == {1: 16, 2: 18}[zone]
        assert sub["area_km2"].sum() == pytest.approx(inside.sum() * CELL_KM2)
        # marginals: Σ over to_grade = earlier year's area by grade; Σ over from_grade = later year's
        for year_array, key in ((G_FROM, "from_grade"), (G_TO, "to_grade")):
            by_grade = sub.groupby(key)["cells"].sum()
            values, counts = np.unique(year_array[inside], return_counts=True)
            assert by_grade.to_dict() == dict(zip(values.tolist(), counts.tolist()))


def test_zones_array_equals_zones_raster(rasters):
    f, t, z = rasters
    a = transition_matrix(f, t, z, CODES)
    b = transition_matrix(f, t, ZONES.astype(np.int32), CODES, window_size=3)
    pd.testing.assert_frame_equal(a, b)


def test_random_grid_marginals(tmp_path):
    rng = np.random.default_rng(7)
    shape = (53, 61)
    zones = rng.integers(0, 4, size=shape).astype(np.uint16)
    g_from = rng.integers(0, 8, size=shape).astype(np.uint8)
    g_to = rng.integers(0, 8, size=shape).astype(np.uint8)
    g_from[zones == 0] = 255
    g_to[zones == 0] = 255
    codes = {1: "140502", 2: "140521", 3: "140522"}
    f = _write(tmp_path / "f.tif", g_from)
    t = _write(tmp_path / "t.tif", g_to)
    table = transition_matrix(f, t, zones, codes, window_size=16)
    got = {(r.county_code, r.from_grade, r.to_grade): r.cells for r in table.itertuples()}
    assert got == dict(_brute_force(zones, g_from, g_to, codes))
    # change classes by their definition
    both = table["from_grade"].between(1, 6) & table["to_grade"].between(1, 6)
    assert (table.loc[~both, "change"] == "unknown").all()
    assert (table.loc[both & (table["to_grade"] < table["from_grade"]), "change"] == "improved").all()
    assert (table.loc[both & (table["to_grade"] > table["from_grade"]), "change"] == "worsened").all()
    assert (table.loc[both & (table["to_grade"] == table["from_grade"]), "change"] == "unchanged").all()


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"origin": (ORIGIN[0] + 30.0, ORIGIN[1])}, "origin"),
        ({"res": 10.0}, "cell 10"),
        ({"crs": "EPSG:32649"}, "EPSG:32649"),
    ],
)
def test_grid_mismatch_is_refused(tmp_path, kwargs, words):
    for year in ("2021", "2024"):
        (tmp_path / year).mkdir()
    f = _write(tmp_path / "2021" / "erosion_grade.tif", G_FROM)
    t = _write(tmp_path / "2024" / "erosion_grade.tif", G_TO, **kwargs)
    with pytest.raises(InputError) as info:
        transition_matrix(f, t, ZONES, CODES)
    message = str(info.value)
    assert str(f) in message and str(t) in message
    assert words in message
    assert "use the same analysis grid (config analysis.crs/resolution_m) for both years" in message
    assert "or do not ask for this transition" in message
    with pytest.raises(InputError):
        change_map(f, t, tmp_path / "change.tif")
    assert not (tmp_path / "change.tif").exists()


def test_shape_mismatch_is_refused(tmp_path):
    f = _write(tmp_path / "a.tif", G_FROM)
    t = _write(tmp_path / "b.tif", G_TO[:, :6].copy())
    with pytest.raises(InputError, match="same grid"):
        transition_matrix(f, t, ZONES, CODES)


def test_zones_on_other_grid_or_unmapped(tmp_path, rasters):
    f, t, _ = rasters
    z = _write(tmp_path / "zones_shifted.tif", ZONES, origin=(ORIGIN[0], ORIGIN[1] + 30.0), nodata=None)
    with pytest.raises(InputError, match="zones_shifted.tif"):
        transition_matrix(f, t, z, CODES)
    with pytest.raises(InputError, match=r"zone indices \[2\]"):
        transition_matrix(f, t, ZONES, {1: "140502"})
    with pytest.raises(InputError, match="shape"):
        transition_matrix(f, t, ZONES[:5], CODES)


def test_non_grade_values_and_geographic_crs(tmp_path, rasters):
    _, t, _ = rasters
    bad = G_FROM.copy()
    bad[2, 2] = 9
    f = _write(tmp_path / "bad.tif", bad)
    with pytest.raises(InputError, match=r"\[9\]"):
        transition_matrix(f, t, ZONES, CODES)
    g1 = _write(tmp_path / "g1.tif", G_FROM, crs="EPSG:4490", origin=(112.0, 36.0), res=0.0003)
    g2 = _write(tmp_path / "g2.tif", G_TO, crs="EPSG:4490", origin=(112.0, 36.0), res=0.0003)
    with pytest.raises(CrsError, match="projected"):
        transition_matrix(g1, g2, ZONES, CODES)


def test_change_map_codes_and_format(tmp_path, rasters):
    f, t, _ = rasters
    out = change_map(f, t, tmp_path / "out" / "change_2021_2024.tif", window_size=4)
    with rasterio.open(out) as ds:
        got = ds.read(1)
        assert ds.dtypes[0] == "uint8" and ds.nodata == 255
        assert ds.profile["tiled"] and ds.compression.name.lower() == "deflate"
        assert ds.block_shapes[0] == (256, 256)
        assert ds.transform == from_origin(*ORIGIN, RES, RES)
    # by hand, per pixel rule: 1 improved, 2 unchanged, 3 worsened, 0 unknown, 255 both outside
    expected = np.array(
        [
            [255, 2, 1, 2, 2, 2, 255],
            [1, 2, 1, 2, 3, 2, 2],
            [2, 2, 1, 1, 1, 2, 2],
            [2, 0, 2, 3, 0, 2, 2],
            [255, 2, 2, 2, 2, 0, 255],
            [255, 255, 2, 2, 2, 255, 255],
        ],
        dtype=np.uint8,
    )
    np.testing.assert_array_equal(got, expected)
    assert sorted(p.name for p in out.parent.iterdir()) == ["change_2021_2024.tif"]


def test_change_map_failure_leaves_no_partial_output(tmp_path, rasters, monkeypatch):
    f, t, _ = rasters
    out = tmp_path / "change.tif"
    out.write_bytes(b"previous output")
    calls = {"n": 0}
    real = transitions._change_class

    def failing(a, b):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(a, b)

    monkeypatch.setattr(transitions, "_change_class", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        change_map(f, t, out, window_size=4)
    assert out.read_bytes() == b"previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["2021_grade.tif", "2024_grade.tif", "zones.tif", "change.tif"]
    )
