"""Slope length and L·S by the census method (issue 13): ``swc_raster.slope_length``.

Every expected value is computed here from the geometry of the test surface and the
published formulas (segment L of Foster & Wischmeier 1974, L = (λ/22.13)^m), never from
the code under test; the real-DEM checks use ``pyflwdir`` as the independent library.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from swc_raster import slope_length as sl

DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "invest_sdr_willamette_extract.npz"
)  # beside the checkout


def m_of(theta: float) -> float:
    return 0.2 if theta <= 1 else 0.3 if theta <= 3 else 0.4 if theta <= 5 else 0.5


def segment(a: float, b: float, m: float) -> float:
    """L of the slope segment from a to b metres below the divide (Foster & Wischmeier 1974)."""
    return (b ** (m + 1) - a ** (m + 1)) / ((b - a) * 22.13**m)


def axis_plane(length_m: float, theta: float, res: float, direction: str) -> np.ndarray:
    """A plane of ``length_m`` (rows or columns of ``res``) falling at θ towards ``direction`` (S/N/E/W)."""
    n = round(length_m / res)
    fall = math.tan(math.radians(theta)) * res * np.arange(n)  # drop from the divide, cell by cell
    z = 1000.0 - np.repeat(fall[:, None], 9, axis=1)  # falls to the south
    return {"S": z, "N": z[::-1], "E": z.T.copy(), "W": z.T[:, ::-1].copy()}[direction]


def transform(res: float) -> Affine:
    return Affine(res, 0, 500_000.0, 0, -res, 4_000_000.0)


# --------------------------------------------------------------------------- analytic planes


PLANES = [(90.0, 2.0, 10.0), (150.0, 4.5, 10.0), (210.0, 8.0, 30.0), (300.0, 15.0, 30.0), (240.0, 12.0, 10.0)]


@pytest.mark.parametrize("direction", ["S", "N", "E", "W"])
@pytest.mark.parametrize(("length", "theta", "res"), PLANES)
def test_axis_plane_L_per_cell_and_area_mean(length, theta, res, direction):
    dem = axis_plane(length, theta, res, direction)
    r = sl.ls_factor_from_dem(dem, transform(res), cap_m=1000.0)
    m = m_of(theta)
    n = round(length / res)
    # the k-th cell below the divide is the segment from (k−1)·res to k·res
    expected_line = np.array([segment((k - 1) * res, k * res, m) for k in range(1, n + 1)])
    expected = {
        "S": expected_line[:, None],
        "N": expected_line[::-1, None],
        "E": expected_line[None, :],
        "W": expected_line[None, ::-1],
    }[direction]
    S = (
        21.91 * math.sin(math.radians(theta)) - 0.96
        if theta >= 10
        else (16.8 * math.sin(math.radians(theta)) - 0.5 if theta >= 5 else 10.8 * math.sin(math.radians(theta)) + 0.03)
    )
    L = r.ls / S
    np.testing.assert_allclose(L, np.broadcast_to(expected, L.shape), rtol=0.01)
    assert L.mean() == pytest.approx((length / 22.13) ** m, rel=0.01)
    np.testing.assert_allclose(r.slope_deg, theta, atol=1e-3)


@pytest.mark.parametrize(("length", "theta", "res"), PLANES)
@pytest.mark.parametrize("flip", [False, True])
def test_diagonal_plane_L_per_cell_and_area_mean(length, theta, res, flip):
    # A parallelogram of the plane falling to the south-east (or north-west): every flow line
    # runs diagonally from the upper edge to the lower, n diagonal cells of res·√2 each.
    n = round(length / (res * math.sqrt(2)))
    width = 12
    rows, cols = np.mgrid[0:n, 0 : n + width]
    g = math.tan(math.radians(theta))
    z = 2000.0 - g * (rows + cols) * res / math.sqrt(2)  # gradient along (1, 1)/√2
    inside = (cols - rows >= 0) & (cols - rows < width)
    dem = np.where(inside, z, np.nan)
    if flip:
        dem = dem[::-1, ::-1].copy()
        rows = rows[::-1, ::-1]
        inside = inside[::-1, ::-1]
    r = sl.ls_factor_from_dem(dem, transform(res), cap_m=1000.0)
    m = m_of(theta)
    d = res * math.sqrt(2)
    expected = np.array([segment(k * d, (k + 1) * d, m) for k in range(n)])[rows]
    S = (
        21.91 * math.sin(math.radians(theta)) - 0.96
        if theta >= 10
        else (16.8 * math.sin(math.radians(theta)) - 0.5 if theta >= 5 else 10.8 * math.sin(math.radians(theta)) + 0.03)
    )
    L = r.ls / S
    assert np.isfinite(L[inside]).all() and np.isnan(L[~inside]).all()
    np.testing.assert_allclose(L[inside], expected[inside], rtol=0.01)
    assert L[inside].mean() == pytest.approx((n * d / 22.13) ** m, rel=0.01)


@pytest.mark.parametrize(("length", "theta", "res"), PLANES)
def test_lambda_at_the_outlet_of_a_45_degree_plane_is_the_flow_path(length, theta, res):
    # A square falling towards its south-east corner: the longest flow line is the diagonal.
    n = round(length / (res * math.sqrt(2)))
    rows, cols = np.mgrid[0:n, 0:n]
    dem = 2000.0 - math.tan(math.radians(theta)) * (rows + cols) * res / math.sqrt(2)
    r = sl.ls_factor_from_dem(dem, transform(res), cap_m=5000.0)
    geometric = math.hypot(n * res, n * res)
    assert r.lambda_m[-1, -1] == pytest.approx(geometric, rel=0.03)


def test_cap_makes_longer_slopes_the_last_segment_of_a_cap_long_slope():
    res, theta, cap = 10.0, 12.0, 100.0
    dem = axis_plane(300.0, theta, res, "S")
    r = sl.ls_factor_from_dem(dem, transform(res), cap_m=cap, cutoff=sl.NO_CUTOFF)
    S = 21.91 * math.sin(math.radians(theta)) - 0.96
    np.testing.assert_allclose(r.lambda_m[9:, 0], cap)
    np.testing.assert_allclose(r.ls[9:, 0] / S, segment(cap - res, cap, 0.5), rtol=1e-4)  # S from a float32 slope


# --------------------------------------------------------------------------- every cell


def test_plane_with_holes_and_edges_has_one_slope_and_LS_everywhere():
    res, theta = 30.0, 9.0
    dem = axis_plane(600.0, theta, res, "E")
    dem[5, 5] = dem[6, 5] = dem[2, 0] = dem[-1, -1] = np.nan
    dem[0, 10:14] = np.nan
    r = sl.ls_factor_from_dem(dem, transform(res))
    valid = np.isfinite(dem)
    np.testing.assert_allclose(r.slope_deg[valid], theta, atol=1e-3)
    assert np.isfinite(r.ls[valid]).all() and (r.ls[valid] > 0).all()
    assert np.isnan(r.ls[~valid]).all()


@pytest.mark.skipif(not DATA.is_file(), reason="the shared Willamette extract is not on this machine")
def test_every_valid_cell_of_a_real_dem_gets_LS():
    d = np.load(DATA)
    dem = d["dem"].astype(np.float32)
    valid = d["zones"] > 0
    dem[~valid] = np.nan
    r = sl.ls_factor_from_dem(dem, Affine(*d["transform"]))
    assert np.isfinite(r.ls[valid]).all() and (r.ls[valid] > 0).all()
    assert np.isnan(r.ls[~valid]).all()
    # next to the holes and the edge too: the cells with a missing 3×3 neighbour
    p = np.pad(valid, 1)
    ring = valid & ~np.logical_and.reduce(
        [
            p[1 + dr : 1 + dr + valid.shape[0], 1 + dc : 1 + dc + valid.shape[1]]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
        ]
    )
    assert ring.sum() > 3000 and np.isfinite(r.ls[ring]).all()


# --------------------------------------------------------------------------- flats


def _mesa(n: int = 41, flat: int = 21) -> np.ndarray:
    """A square flat top of ``flat`` cells falling on all four sides."""
    rows, cols = np.mgrid[0:n, 0:n]
    c = (n - 1) / 2
    ring = np.maximum(np.abs(rows - c), np.abs(cols - c)) - (flat - 1) / 2
    return 500.0 - 3.0 * np.maximum(ring, 0.0)


def test_flat_top_drains_to_its_nearest_edge_without_preferred_direction():
    dem = _mesa()
    dirs = sl.flow_directions(dem, 10.0, 10.0)
    top = dem == dem.max()
    counts = np.bincount(dirs[top], minlength=8)[:8]
    shares = counts / top.sum()
    axis = shares[[0, 2, 4, 6]]  # E, S, W, N
    assert axis.min() > 0.2 and axis.max() < 0.3, shares
    # each cell goes towards its nearest edge: north half-plane north, etc. (off the diagonals)
    rows, cols = np.nonzero(top)
    c = (dem.shape[0] - 1) / 2
    north = (c - rows > np.abs(cols - c)) & top[rows, cols]
    assert np.all(dirs[rows[north], cols[north]] == 6)
    # rotating the DEM rotates the directions (E→N etc.) except on the tie diagonals
    rot = sl.flow_directions(np.rot90(dem).copy(), 10.0, 10.0)
    same = (np.rot90(dirs)[np.rot90(top)] + 6) % 8 == rot[np.rot90(top)]
    assert same.mean() > 0.9


def test_flat_bench_on_a_slope_drains_downslope_and_away_from_the_riser():
    # slope falling east, with a flat bench of 15 columns in the middle
    cols = np.arange(60)
    z = 300.0 - 2.0 * cols.astype(float)
    z[20:35] = z[20]
    dem = np.repeat(z[None, :], 31, axis=0)
    dirs = sl.flow_directions(dem, 10.0, 10.0)
    bench = dirs[:, 21:35]
    assert (bench == 0).mean() > 0.95  # east: towards the lower terrain, no stripes to the north-west
    lam = sl.ls_factor_from_dem(dem, transform(10.0), cutoff=sl.NO_CUTOFF, cap_m=1000.0).lambda_m
    # no convergence on the bench: λ is the same in every row away from the top/bottom edge
    np.testing.assert_allclose(lam[5:-5, 40], lam[15, 40])


@pytest.mark.skipif(not DATA.is_file(), reason="the shared Willamette extract is not on this machine")
def test_flats_of_a_real_dem_drain_without_a_dominant_direction():
    import pyflwdir

    d = np.load(DATA)
    dem = d["dem"].astype(np.float32)
    dem[d["zones"] == 0] = -9999.0
    filled, _ = pyflwdir.dem.fill_depressions(dem, nodata=-9999.0, outlets="edge")
    z = np.where(dem == -9999.0, np.nan, filled)
    # flat cells (pyflwdir's filling, checked here with numpy): no lower valid neighbour, all 8 valid
    p = np.pad(z, 1, constant_values=np.nan)
    neigh = [
        p[1 + dr : 1 + dr + z.shape[0], 1 + dc : 1 + dc + z.shape[1]]
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if (dr, dc) != (0, 0)
    ]
    flat = np.isfinite(z) & np.logical_and.reduce([np.isfinite(q) & (q >= z) for q in neigh])
    assert flat.sum() > 1000
    dirs = sl.flow_directions(np.where(np.isfinite(z), dem, np.nan), 30.0, 30.0)
    shares = np.bincount(dirs[flat], minlength=10)[:8] / flat.sum()
    assert shares.max() < 0.3, shares  # the previous routing: 48 % north-west


# --------------------------------------------------------------------------- cutoff


def test_slope_length_ends_where_the_slope_flattens_sharply():
    # 12° for 20 rows, then 3°: the census rule (ratio 0.5 above 5 %) ends the slope at the break
    res = 10.0
    drops = np.r_[np.full(20, math.tan(math.radians(12.0))), np.full(20, math.tan(math.radians(3.0)))] * res
    z = 1000.0 - np.r_[0.0, np.cumsum(drops[:-1])]
    dem = np.repeat(z[:, None], 7, axis=1)
    cut = sl.ls_factor_from_dem(dem, transform(res), cap_m=1000.0)
    nocut = sl.ls_factor_from_dem(dem, transform(res), cap_m=1000.0, cutoff=sl.NO_CUTOFF)
    assert nocut.lambda_m[-1, 3] == pytest.approx(40 * res)
    # Horn slope by row (central differences, one-sided at the ends), computed here
    t = np.degrees(np.arctan(np.abs(np.gradient(z, res))))
    ends = [i for i in range(39) if t[i + 1] < t[i] * (0.7 if t[i] < math.degrees(math.atan(0.05)) else 0.5)]
    assert len(ends) == 1
    assert cut.lambda_m[-1, 3] == pytest.approx((39 - ends[0]) * res)


def test_channel_cells_end_the_hillslope():
    # a V valley draining south: with a channel threshold the valley floor starts no hillslope λ
    res = 10.0
    x = np.abs(np.arange(21) - 10)[None, :] * 1.0
    y = np.arange(30)[::-1][:, None] * 0.2
    dem = 100.0 + 3.0 * x + y
    rule = sl.CutoffRule(ratio_gentle=0.0, ratio_steep=0.0, channel_area_m2=20 * res * res)
    r = sl.ls_factor_from_dem(dem, transform(res), cap_m=10_000.0, cutoff=rule)
    plain = sl.ls_factor_from_dem(dem, transform(res), cap_m=10_000.0, cutoff=sl.NO_CUTOFF)
    # the side slopes are 10 cells long either way
    assert r.lambda_m[15, 1] == pytest.approx(plain.lambda_m[15, 1])
    assert plain.lambda_m[15, 10] > 10 * res
    assert r.lambda_m[15, 10] < plain.lambda_m[15, 10]


def test_cutoff_rule_rejects_bad_values():
    with pytest.raises(ValueError, match="ratio_steep"):
        sl.CutoffRule(ratio_steep=1.5)
    with pytest.raises(ValueError, match="channel_area_m2"):
        sl.CutoffRule(channel_area_m2=0.0)


# --------------------------------------------------------------------------- tiles


@pytest.mark.skipif(not DATA.is_file(), reason="the shared Willamette extract is not on this machine")
@pytest.mark.parametrize("rule", [sl.CENSUS_CUTOFF, sl.CutoffRule(channel_area_m2=2e5)])
def test_tiles_give_exactly_the_whole_dem_result(rule):
    d = np.load(DATA)
    dem = d["dem"].astype(np.float32)
    dem[d["zones"] == 0] = np.nan
    t = Affine(*d["transform"])
    whole = sl.ls_factor_from_dem(dem, t, cutoff=rule)
    for tile in (97, 256):
        tiled = sl.ls_factor_from_dem(dem, t, cutoff=rule, tile_cells=tile)
        assert tiled.tiles > 4
        np.testing.assert_array_equal(tiled.lambda_m, whole.lambda_m)
        np.testing.assert_array_equal(tiled.ls, whole.ls)


def test_reader_and_array_give_the_same_result():
    dem = _mesa(61, 11) + 0.01 * np.arange(61)[None, :]
    t = transform(10.0)

    def read(r0, c0, r1, c1):
        return dem[r0:r1, c0:c1].astype(np.float32)

    a = sl.ls_factor_from_dem(dem, t, tile_cells=16)
    b = sl.ls_factor_from_dem(read, t, shape=dem.shape, tile_cells=16)
    np.testing.assert_array_equal(a.ls, b.ls)


def test_depression_filling_lets_a_pit_drain():
    res = 10.0
    dem = axis_plane(200.0, 6.0, res, "S")
    dem[10, 4] -= 30.0
    nofill = sl.flow_directions(dem, res, res, fill=False)
    fill = sl.flow_directions(dem, res, res, fill=True)
    assert nofill[10, 4] == sl.PIT and fill[10, 4] < 8
