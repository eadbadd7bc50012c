"""Grids of the demo generator and the random fields drawn on them (deterministic, seeded per stream)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from affine import Affine

from swc_raster import terrain
from swc_raster.demo.constants import EROSION_CRS, GRID_BUFFER_M, LANDCOVER_CRS, MACRO_RES_M


@dataclass(frozen=True)
class Grid:
    """A north-up grid in the erosion CRS (metres)."""

    transform: Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def res(self) -> float:
        return float(self.transform.a)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (per column) and y (per row), m."""
        xs = self.transform.c + (np.arange(self.width) + 0.5) * self.transform.a
        ys = self.transform.f + (np.arange(self.height) + 0.5) * self.transform.e
        return xs, ys


def grid_over(bounds: Sequence[float], res: float) -> Grid:
    minx, miny, maxx, maxy = bounds
    width = int(math.ceil(round((maxx - minx) / res, 6)))
    height = int(math.ceil(round((maxy - miny) / res, 6)))
    return Grid(Affine(res, 0.0, minx, 0.0, -res, maxy), width, height)


def landscape_extent(region_bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """Region bounds + buffer, snapped outward to the macro cell (a multiple of the base cell)."""
    minx, miny, maxx, maxy = region_bounds
    step = MACRO_RES_M
    return (
        math.floor((minx - GRID_BUFFER_M) / step) * step,
        math.floor((miny - GRID_BUFFER_M) / step) * step,
        math.ceil((maxx + GRID_BUFFER_M) / step) * step,
        math.ceil((maxy + GRID_BUFFER_M) / step) * step,
    )


@functools.lru_cache(maxsize=4)
def transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_xy(lonlat: np.ndarray) -> np.ndarray:
    tr = transformer(LANDCOVER_CRS, EROSION_CRS)
    a = np.asarray(lonlat, dtype=np.float64).reshape(-1, lonlat.shape[-1])
    x, y = tr.transform(a[:, 0], a[:, 1])
    out = a.copy()
    out[:, 0], out[:, 1] = x, y
    return out


def resample(field: np.ndarray, src: Grid, dst: Grid) -> np.ndarray:
    return terrain.bilinear_resample(field, src.transform, dst.transform, dst.shape)


def rng_stream(seed: int, stream: int) -> np.random.Generator:
    """An independent, reproducible random stream per purpose."""
    return np.random.default_rng([seed, stream])


def coarser(grid: Grid, factor: int) -> Grid:
    t = grid.transform
    return Grid(
        Affine(t.a * factor, 0.0, t.c, 0.0, t.e * factor, t.f),
        -(-grid.width // factor),
        -(-grid.height // factor),
    )


def noise_field(grid: Grid, seed: int, stream: int, beta: float, corr_m: float) -> np.ndarray:
    """Standardised spectral noise on ``grid`` with a correlation length in metres.

    Smooth fields (correlation length ≥ 16 cells) are synthesised on a coarser
    grid and sampled bilinearly: same look, a fraction of the cost.
    """
    factor = int(np.clip(corr_m // (8.0 * grid.res), 1, 10))
    gen = coarser(grid, factor) if factor > 1 else grid
    f = terrain.spectral_field(gen.shape, rng_stream(seed, stream), beta=beta, corr_length_px=corr_m / gen.res)
    return f if gen is grid else terrain.standardise(resample(f, gen, grid))


def blur(field: np.ndarray, grid: Grid, sigma_m: float) -> np.ndarray:
    """Gaussian blur with a standard deviation in metres, via a block-averaged coarser grid."""
    from scipy.ndimage import gaussian_filter

    factor = int(max(1, sigma_m // (3.0 * grid.res)))
    if factor == 1:
        return gaussian_filter(field, sigma=sigma_m / grid.res, mode="nearest").astype(np.float32)
    h, w = field.shape
    ph, pw = -(-h // factor) * factor, -(-w // factor) * factor
    padded = np.pad(np.asarray(field, dtype=np.float32), ((0, ph - h), (0, pw - w)), mode="edge")
    blocks = padded.reshape(ph // factor, factor, pw // factor, factor).mean(axis=(1, 3))
    coarse = coarser(grid, factor)
    smooth = gaussian_filter(blocks, sigma=sigma_m / coarse.res, mode="nearest")
    return resample(smooth, coarse, grid)
