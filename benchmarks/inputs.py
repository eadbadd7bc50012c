"""Benchmark inputs: real county boundaries, synthetic but realistic rasters on the analysis grid.

Everything is generated window by window (2048-cell windows on the 512-cell block
grid), so memory stays at a few hundred MB whatever the scale.  The random
fields are defined on lattices anchored at the grid origin with spacings in
metres, so a window's values do not depend on how the grid is cut, and the 10 m
and 30 m rasters of one region look alike.

Codes
-----
land cover : uint8 1–8 (the legend in config/landcover_legend.csv), everywhere in the grid
erosion    : float32 modulus, t/(km²·a), nodata −9999 (as ``align_erosion`` writes it), everywhere
             but a 6 km strip along the northern edge, outside the erosion raster's footprint
combined   : uint8 ``8 * land cover + grade`` (0–71), the SL 190 grade with T = 200 and 7 in the
             strip, on every cell of the grid (for exactextract / rasterstats)
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio import features
from rasterio.windows import transform as window_transform

from swc_raster.grading import GAP_GRADE, grade_modulus
from swc_raster.grid import AnalysisGrid

ROOT = Path(__file__).resolve().parent.parent
# The shared data folder lies beside the repository (as on the developers' and CI machines).
DATA = Path(os.environ.get("SWC_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = Path(__file__).resolve().parent / "out"
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
LEGEND = [1, 2, 3, 4, 5, 6, 7, 8]
GEN_WINDOW = 2048
#: Bump when the generator changes so cached rasters are rebuilt.
GENERATOR_VERSION = 4
#: Allowable soil loss of every benchmark county, t/(km²·a) (one T, so that a cell's grade does not
#: depend on which county it is counted in and the combined raster is an exact reference).
T_ALLOWABLE = 200.0
#: The erosion raster stops this far below the region's northern edge (data gap north of it).
GAP_STRIP_M = 6000.0


@dataclass(frozen=True)
class Case:
    name: str  # e.g. "shanxi-30m"
    region: str  # shanxi | jincheng
    res: float
    gap_strip_m: float = GAP_STRIP_M  # northern strip outside the erosion raster (0: none)
    log_a0_shift: float = 0.0  # added to ln(modulus): another year, more or less erosion
    noise_seed: int = 0  # another year's pixel-scale noise

    @property
    def dir(self) -> Path:
        return OUT / self.name

    @property
    def landcover(self) -> Path:
        return self.dir / "landcover.tif"

    @property
    def erosion(self) -> Path:
        return self.dir / "erosion.tif"

    @property
    def combined(self) -> Path:
        return self.dir / "combined.tif"

    @property
    def counties_path(self) -> Path:
        return self.dir / "counties.gpkg"

    @property
    def grid_path(self) -> Path:
        return self.dir / "grid.json"


def load_counties(region: str) -> gpd.GeoDataFrame:
    """Counties in the analysis CRS with ``zone`` (1..N), ``county_code`` and ``county_name``."""
    if region == "shanxi":
        g = gpd.read_file(DATA / "shanxi_counties.gpkg", layer="counties")
        g = g.sort_values(["city", "district"]).reset_index(drop=True)
        # the file carries no GB/T 2260 codes: benchmark codes in a stable order
        g["county_code"] = [f"SX{i:03d}" for i in range(1, len(g) + 1)]
        g["county_name"] = g["city"] + g["district"]
    elif region == "jincheng":
        g = gpd.read_file(ROOT / "boundaries/jincheng_counties.gpkg", layer="counties")
    else:
        raise ValueError(region)
    g = g[["county_code", "county_name", "geometry"]].to_crs(ALBERS).sort_values("county_code").reset_index(drop=True)
    g.insert(0, "zone", np.arange(1, len(g) + 1, dtype="int32"))
    return g


# --------------------------------------------------------------------------- random fields


class Field:
    """Sum of value-noise octaves: Gaussian lattice values, smoothstep-interpolated, lattice spacings in metres."""

    def __init__(self, grid: AnalysisGrid, octaves: list[tuple[float, float]], seed: int):
        rng = np.random.default_rng(seed)
        self.grid = grid
        self.octaves = []
        for spacing_m, amp in octaves:
            step = spacing_m / grid.res  # cells per lattice step
            ny = int(math.ceil(grid.height / step)) + 2
            nx = int(math.ceil(grid.width / step)) + 2
            self.octaves.append((step, amp, rng.standard_normal((ny, nx)).astype("float32")))
        self.scale = 1.0 / math.sqrt(sum(a * a for _, a in octaves)) / 0.78  # ~unit variance after smoothing

    @staticmethod
    def _weights(start: int, n: int, step: float) -> tuple[np.ndarray, int]:
        """Interpolation matrix (n cells × lattice nodes) for cells start..start+n-1."""
        pos = (np.arange(start, start + n) + 0.5) / step
        i0 = np.floor(pos).astype(int)
        t = pos - i0
        t = t * t * (3 - 2 * t)
        lo = i0.min()
        m = np.zeros((n, i0.max() - lo + 2), dtype="float32")
        m[np.arange(n), i0 - lo] = 1 - t
        m[np.arange(n), i0 - lo + 1] = t
        return m, lo

    def window(self, win) -> np.ndarray:
        r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
        out = np.zeros((h, w), dtype="float32")
        for step, amp, lattice in self.octaves:
            wr, lr = self._weights(r0, h, step)
            wc, lc = self._weights(c0, w, step)
            sub = lattice[lr : lr + wr.shape[1], lc : lc + wc.shape[1]]
            out += amp * (wr @ sub @ wc.T)
        return out * self.scale


# quantile cut points of a unit normal
def _cuts(shares: list[float]) -> np.ndarray:
    from scipy.stats import norm

    return norm.ppf(np.cumsum(shares)[:-1]).astype("float32")


#: Land-cover shares (cropland, orchard, forest, grassland, built-up, transport, water, other).
LC_SHARES = [0.30, 0.04, 0.22, 0.30, 0.07, 0.02, 0.02, 0.03]
#: Erosion propensity by land cover (added to the terrain field): forest low, cropland/grass high.
LC_EROSION = np.array([0, 0.35, -0.1, -0.8, 0.25, -1.5, -1.0, -2.5, 0.3], dtype="float32")
#: Share of land-cover cells replaced by a random class (speckle), and the pixel-scale erosion noise.
LC_SALT, PIXEL_NOISE = 0.05, 0.4
#: ln(modulus) = LOG_A0 + LOG_A1 · score: with T = 200, ≈ 60 % of the land 微度 and ≈ 3 % 中度 or worse.
LOG_A0, LOG_A1 = math.log(150.0), 1.5


def footprint(grid: AnalysisGrid, case: Case) -> shapely.Polygon:
    """The erosion raster's coverage: the grid without its northern ``case.gap_strip_m``."""
    right, bottom = grid.x0 + grid.width * grid.res, grid.y0 - grid.height * grid.res
    return shapely.box(grid.x0, bottom, right, grid.y0 - case.gap_strip_m)


def _params(case: Case) -> list:
    return [case.region, case.res, case.gap_strip_m, case.log_a0_shift, case.noise_seed]


def generate(case: Case, log=print) -> dict:
    """Write landcover.tif and erosion.tif for ``case`` (cached: reused when present and current)."""
    case.dir.mkdir(parents=True, exist_ok=True)
    stamp = case.dir / "inputs.json"
    if stamp.exists() and case.landcover.exists() and case.erosion.exists():
        meta = json.loads(stamp.read_text())
        if meta.get("version") == GENERATOR_VERSION and meta.get("params") == _params(case):
            log(f"[{case.name}] reusing cached inputs in {case.dir}")
            return meta
    counties = load_counties(case.region)
    grid = AnalysisGrid.covering(tuple(counties.total_bounds), ALBERS, case.res)
    counties.to_file(case.counties_path, layer="counties")
    grid.to_json(case.grid_path)
    log(
        f"[{case.name}] generating {grid.width} x {grid.height} = {grid.width * grid.height / 1e6:.1f} Mpx "
        f"({len(counties)} counties) ..."
    )
    t0 = time.perf_counter()
    seed = 20240 + (0 if case.region == "jincheng" else 1)
    lc_field = Field(grid, [(6000, 1.0), (1500, 0.7), (300, 0.45)], seed)
    terrain = Field(grid, [(8000, 1.0), (2000, 0.8), (450, 0.5), (120, 0.25)], seed + 1)
    holes = Field(grid, [(3000, 1.0), (700, 0.5)], seed + 2)
    lc_cuts = _cuts(LC_SHARES)
    gap_y = grid.y0 - case.gap_strip_m
    opts = {"num_threads": 2}
    with (
        rasterio.open(case.landcover, "w", **grid.profile("uint8", 0), **opts) as lc_dst,
        rasterio.open(case.erosion, "w", **grid.profile("float32", -9999.0), **opts) as er_dst,
    ):
        for i, win in enumerate(grid.windows(GEN_WINDOW)):
            rng = np.random.default_rng([seed, case.noise_seed, i])  # pixel-scale noise, as in real classified products
            lc = (np.searchsorted(lc_cuts, lc_field.window(win)) + 1).astype("uint8")
            salt = rng.random(lc.shape, dtype="float32") < LC_SALT
            lc[salt] = rng.choice(np.arange(1, 9, dtype="uint8"), int(salt.sum()), p=LC_SHARES)
            score = (
                0.85 * terrain.window(win)
                + LC_EROSION[lc]
                + PIXEL_NOISE * rng.standard_normal(lc.shape, dtype="float32")
            )
            erosion = np.exp(LOG_A0 + case.log_a0_shift + LOG_A1 * score).astype("float32")
            erosion[holes.window(win) > 2.4] = -9999.0  # erosion nodata blobs (~1 %)
            rows = grid.y0 - (int(win.row_off) + np.arange(int(win.height)) + 0.5) * grid.res
            erosion[rows > gap_y] = -9999.0  # outside the erosion raster (aligned: nodata)
            lc_dst.write(lc, 1, window=win)
            er_dst.write(erosion, 1, window=win)
    meta = {
        "version": GENERATOR_VERSION,
        "params": _params(case),
        "case": case.name,
        "width": grid.width,
        "height": grid.height,
        "mpx": grid.width * grid.height / 1e6,
        "counties": len(counties),
        "seconds": time.perf_counter() - t0,
        "landcover_mb": case.landcover.stat().st_size / 2**20,
        "erosion_mb": case.erosion.stat().st_size / 2**20,
    }
    stamp.write_text(json.dumps(meta, indent=1))
    case.combined.unlink(missing_ok=True)
    log(
        f"[{case.name}] generated in {meta['seconds']:.0f} s "
        f"(land cover {meta['landcover_mb']:.0f} MB, erosion {meta['erosion_mb']:.0f} MB)"
    )
    return meta


def build_combined(case: Case, window: int = 2048) -> None:
    """``combined = 8 * land cover + grade`` on every cell, tiled DEFLATE like the inputs.

    The grade is ``grade_modulus`` with T_ALLOWABLE, 7 outside the footprint, on
    every cell, so that exactextract can weigh each boundary cell by its coverage.
    """
    grid = AnalysisGrid.from_json(case.grid_path)
    cover = footprint(grid, case)
    tmp = case.combined.with_suffix(".tmp.tif")
    with (
        rasterio.open(case.landcover) as lc_src,
        rasterio.open(case.erosion) as er_src,
        rasterio.open(tmp, "w", **grid.profile("uint8", 255), num_threads=2) as dst,
    ):
        for win in grid.windows(window):
            lc = lc_src.read(1, window=win)
            a = er_src.read(1, window=win).astype("float64")
            a[a == -9999.0] = np.nan
            grade = grade_modulus(a, T_ALLOWABLE)
            covered = features.geometry_mask(
                [cover], out_shape=grade.shape, transform=window_transform(win, grid.transform), invert=True
            )
            grade[~covered] = GAP_GRADE
            dst.write(lc * np.uint8(8) + grade, 1, window=win)
    tmp.replace(case.combined)
