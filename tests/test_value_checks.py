"""The value checks made in the counting pass (swc_raster.value_checks), against counts made independently:
cell centres tested against the county polygons with shapely, the rasters read whole with rasterio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely

from swc_raster import value_checks
from swc_raster.grid import AnalysisGrid
from swc_raster.value_checks import ValueFindings, judge
from swc_raster.zonal import crosstab_with_sensitivity
from tests._rasters import counties, erosion_raster, landcover_raster, write

CODES = ["140502", "140581"]
LEGEND = list(range(1, 9))


def _count(lc: Path, ero: Path, part, *, unit="t/km2/a", workers=1, window_size=256) -> ValueFindings:
    """The findings of one batch holding the counties ``part``, on the erosion raster's own lattice."""
    with rasterio.open(ero) as src:
        t, crs = src.transform, src.crs.to_wkt()
    grid = AnalysisGrid.on_lattice(tuple(part.to_crs(crs).total_bounds), crs, t.c, t.f, t.a)
    zones = part.to_crs(crs).reset_index(drop=True).assign(zone=lambda d: np.arange(1, len(d) + 1))
    found = ValueFindings()
    crosstab_with_sensitivity(
        lc,
        ero,
        zones,
        LEGEND,
        grid,
        [0.0] + [200.0] * len(zones),
        window_size=window_size,
        workers=workers,
        erosion_unit=unit,
        findings=found,
    )
    return found


def _centres_inside(path: Path, area) -> np.ndarray:
    """Cells of the raster whose centre lies in one of the counties (shapely, independent of the engine's burn)."""
    with rasterio.open(path) as src:
        rows, cols = np.mgrid[0 : src.height, 0 : src.width]
        x, y = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
        union = shapely.union_all(area.to_crs(src.crs.to_wkt()).geometry.values)
        return shapely.contains_xy(union, np.asarray(x), np.asarray(y)).reshape(src.height, src.width)


def _cells(inside: np.ndarray, n: int, seed: int) -> list[tuple[int, int]]:
    """``n`` distinct cells of the mask, chosen at random."""
    r, c = np.nonzero(inside)
    pick = np.random.default_rng(seed).choice(r.size, n, replace=False)
    return list(zip(r[pick].tolist(), c[pick].tolist()))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Both rasters on one 90 m GK lattice, with known bad values inside each county and outside both."""
    tmp = tmp_path_factory.mktemp("planted")
    area = counties(CODES)
    erosion_raster(tmp / "clean.tif", area, res=90.0)
    with rasterio.open(tmp / "clean.tif") as src:
        a, crs, transform = src.read(1), src.crs.to_wkt(), src.transform
    per_county = [_centres_inside(tmp / "clean.tif", area.iloc[[i]]) for i in range(2)]
    outside = ~(per_county[0] | per_county[1])
    data = a != -9999.0
    first, second = per_county[0] & data, per_county[1] & data
    plan = {  # (value, cells) planted in each county; each list of cells is distinct
        "nan": (np.nan, _cells(first, 3, 1) + _cells(second, 2, 2)),
        "inf": (np.inf, _cells(second, 1, 3)),
        "neg": (None, _cells(first, 2, 4) + _cells(second, 1, 5)),
    }
    taken = set()
    for value, cells in plan.values():
        cells[:] = [rc for rc in cells if rc not in taken]
        taken.update(cells)
        for k, (r, c) in enumerate(cells):
            a[r, c] = value if value is not None else (-5.0, -7.5, -12.5)[k]
    for r, c in _cells(outside, 4, 6):  # values outside every county change no result: not reported
        a[r, c] = np.nan
    write(tmp / "ero.tif", a, crs, transform, -9999.0)
    write(tmp / "ero_undeclared.tif", a, crs, transform, None)  # the -9999 blobs are then undeclared fill values

    lc = np.digitize(a, [100, 200, 400, 800, 1600, 3200, 6400]).astype("uint8") + 1
    unknown = {77: _cells(first, 4, 7) + _cells(second, 3, 8), 200: _cells(second, 2, 9)}
    for code, cells in unknown.items():
        for r, c in cells:
            lc[r, c] = code
    for r, c in _cells(outside, 2, 10):
        lc[r, c] = 99
    write(tmp / "lc.tif", lc, crs, transform, 0)
    inside = per_county[0] | per_county[1]
    return tmp, area, a, lc, inside


def test_planted_values_in_two_batches_add_up_to_the_exact_counts(planted):
    tmp, area, a, lc, inside = planted
    found = _count(tmp / "lc.tif", tmp / "ero.tif", area.iloc[[0]])
    found.update(_count(tmp / "lc.tif", tmp / "ero.tif", area.iloc[[1]]))
    v = a[inside]
    data = v != -9999.0
    assert found.erosion_checked == inside.sum()
    assert found.erosion_nan == 5 == np.isnan(v).sum()
    assert found.erosion_inf == 1
    assert found.erosion_negative == 3 and found.erosion_min_negative == -12.5
    assert found.erosion_valid == (data & np.isfinite(v)).sum()
    assert found.fills == {}  # nodata is declared
    expected_codes = dict(zip(*np.unique(lc[inside], return_counts=True)))
    expected_codes.pop(0, None)  # nodata
    assert found.codes == {int(k): int(n) for k, n in expected_codes.items()}
    assert found.codes[77] == 7 and found.codes[200] == 2 and 99 not in found.codes


def test_undeclared_fill_values_are_counted_by_value_inside_the_counties(planted):
    tmp, area, a, _, inside = planted
    found = _count(tmp / "lc.tif", tmp / "ero_undeclared.tif", area.iloc[[0]])
    found.update(_count(tmp / "lc.tif", tmp / "ero_undeclared.tif", area.iloc[[1]]))
    assert found.fills == {-9999.0: int((a[inside] == -9999.0).sum())}
    assert found.erosion_nan == 5  # NaN is then no nodata either


def test_every_planted_problem_is_named_with_its_count_and_fix(planted):
    tmp, area, *_ = planted
    found = _count(tmp / "lc.tif", tmp / "ero.tif", area)
    problems, warnings = judge(
        found, year=2023, landcover="lc.tif", erosion="ero.tif", erosion_unit="t/km2/a", legend_codes=LEGEND
    )
    text = "\n".join(str(p) for p in problems)
    assert len(problems) == 3 and warnings == []
    assert "[years[2023].erosion (ero.tif)] 5 NaN and 1 infinite values outside the declared nodata (-9999)" in text
    assert "3 pixels with negative erosion modulus (minimum -12.5)" in text
    assert "[years[2023].landcover (lc.tif)] land-cover codes not in the legend: 77 (7 pixels), 200 (2 pixels)" in text
    assert text.count("Fix:") == 3


def test_a_split_run_finds_exactly_what_one_job_finds_sample_included(planted, monkeypatch):
    """Counts and the unit sample (here 5 000 cells, so that workers and batches each keep fewer than they see)."""
    tmp, area, a, _, inside = planted
    monkeypatch.setattr(value_checks, "SAMPLE_SIZE", 5000)
    one = _count(tmp / "lc.tif", tmp / "ero.tif", area, workers=2, window_size=512)
    split = _count(tmp / "lc.tif", tmp / "ero.tif", area.iloc[[1]], window_size=128)
    split.update(_count(tmp / "lc.tif", tmp / "ero.tif", area.iloc[[0]], window_size=256))
    assert one.counts() == split.counts()
    for a_part, b_part in zip(one.sample(), split.sample()):
        np.testing.assert_array_equal(a_part, b_part)
    # the sample is the 5 000 valid, non-negative cells inside the counties with the smallest hash of their
    # global index (splitmix64 of row and column, re-done here in numpy)
    rows, cols = np.nonzero(inside & np.isfinite(a) & (a >= 0))
    key = _splitmix(rows.astype(np.uint64) + np.uint64(1 << 40) + np.uint64(1 << 40)) ^ _splitmix(
        cols.astype(np.uint64) + np.uint64(1 << 40) + np.uint64(0x632BE59BD9B4E019)
    )
    order = np.lexsort((a[rows, cols], key))[:5000]
    keys, values, _ = one.sample()
    np.testing.assert_array_equal(keys, key[order])
    np.testing.assert_array_equal(values, a[rows, cols][order].astype("float64"))


def _splitmix(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def test_findings_survive_the_file_between_crosstab_and_gather(planted, tmp_path):
    tmp, area, *_ = planted
    found = _count(tmp / "lc.tif", tmp / "ero_undeclared.tif", area)
    found.save(tmp_path / "value_checks.npz")
    back = ValueFindings.load(tmp_path / "value_checks.npz")
    assert back.counts() == found.counts()
    np.testing.assert_array_equal(back.sample()[1], found.sample()[1])


@pytest.fixture(scope="module")
def t_ha(tmp_path_factory):
    """A low-erosion region's modulus in t/(ha·a) (median 2.5): what a t/km² declaration misreads by 100×."""
    tmp = tmp_path_factory.mktemp("unit")
    area = counties(CODES)
    erosion_raster(tmp / "ero.tif", area, res=90.0, scale=0.01)
    landcover_raster(tmp / "lc.tif", area)
    return tmp, area


def test_a_unit_mislabel_is_refused_from_the_counting_pass(t_ha):
    tmp, area = t_ha
    found = _count(tmp / "lc.tif", tmp / "ero.tif", area, unit="t/km2/a")
    args = dict(year=2023, landcover="lc.tif", erosion="ero.tif", erosion_unit="t/km2/a", legend_codes=LEGEND)
    problems, warnings = judge(found, **args)
    assert len(problems) == 1 and warnings == []
    assert problems[0].input == "years[2023].erosion (ero.tif)"
    assert "declared t/km2/a" in problems[0].problem and "read as t/ha/a" in problems[0].problem
    assert "`years[2023].erosion_unit` to t/ha/a" in problems[0].fix
    # validation.unit_check: warn turns it into a warning with the same words
    problems, warnings = judge(found, **args, unit_check="warn")
    assert problems == [] and len(warnings) == 1 and "declared t/km2/a" in warnings[0]
    # declared right, the same values pass
    right = _count(tmp / "lc.tif", tmp / "ero.tif", area, unit="t/ha/a")
    assert judge(right, **{**args, "erosion_unit": "t/ha/a"}) == ([], [])
