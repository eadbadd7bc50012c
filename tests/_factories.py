"""Tiny, valid swc-raster inputs in a temporary directory, to be broken one way at a time.

:func:`make_scenario` writes a two-county region near Jincheng (lon/lat, EPSG:4326),
a targets table, a land-cover legend and one year (2023) of a 100 × 100 land-cover
raster and erosion raster (0.001° pixels, t/km²/a, median ≈ 400) and returns a
:class:`Scenario` holding the config dict and helpers to rewrite any input.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.errors
from rasterio import Affine
from shapely.geometry import box

# The raster grid: lon 112.50–112.60, lat 35.50–35.60, 0.001° pixels.
LON0, LAT0, RES, SIZE = 112.50, 35.60, 0.001, 100


def from_origin(west: float, north: float, xres: float, yres: float) -> Affine:
    """North-up geotransform (like rasterio.transform.from_origin, without its deprecation warning)."""
    return Affine(xres, 0.0, west, 0.0, -yres, north)


TRANSFORM = from_origin(LON0, LAT0, RES, RES)
# Two counties side by side, inside the raster.
COUNTY_A = ("140502", "城区", box(112.51, 35.51, 112.55, 35.59))
COUNTY_B = ("140525", "泽州县", box(112.55, 35.51, 112.59, 35.59))
REGION = ("140500", "全市")
LEGEND = [
    (1, "耕地", "Cropland"),
    (2, "园地", "Orchard"),
    (3, "林地", "Forest"),
    (4, "草地", "Grassland"),
    (5, "建设用地", "Built-up land"),
    (6, "交通运输用地", "Transport land"),
    (7, "水域及水利设施用地", "Water"),
    (8, "其他土地", "Other land"),
]
EROSION_NODATA = -9999.0
LANDCOVER_NODATA = 255

LANDCOVER = "data/2023/landcover.tif"
EROSION = "data/2023/erosion.tif"
BOUNDARIES = "boundaries/counties.gpkg"
TARGETS = "config/targets.csv"
LEGEND_CSV = "config/landcover_legend.csv"


def erosion_values(seed: int = 0) -> np.ndarray:
    """Plausible t/(km²·a) moduli: log-normal, median ≈ 400, a few nodata pixels."""
    rng = np.random.default_rng(seed)
    v = rng.lognormal(mean=np.log(400.0), sigma=1.0, size=(SIZE, SIZE)).astype("float32")
    v[:3, :3] = EROSION_NODATA
    return v


def landcover_values() -> np.ndarray:
    v = (np.arange(SIZE * SIZE).reshape(SIZE, SIZE) % 8 + 1).astype("uint8")
    v[-2:, -2:] = LANDCOVER_NODATA
    return v


@dataclass
class Scenario:
    base: Path
    cfg: dict[str, Any] = field(default_factory=dict)

    def path(self, rel: str) -> Path:
        p = self.base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    @property
    def year(self) -> dict[str, Any]:
        return self.cfg["years"][0]

    # --- writers -----------------------------------------------------------
    def write_raster(
        self,
        rel: str,
        data: np.ndarray,
        *,
        crs: Any = "EPSG:4326",
        transform: Any = TRANSFORM,
        nodata: float | None = None,
        tiled: bool = True,
    ) -> Path:
        data = np.asarray(data)
        if data.ndim == 2:
            data = data[None]
        count, h, w = data.shape
        profile: dict[str, Any] = dict(
            driver="GTiff", width=w, height=h, count=count, dtype=data.dtype, transform=transform, nodata=nodata
        )
        if crs is not None:
            profile["crs"] = crs
        if tiled:
            profile.update(tiled=True, blockxsize=32, blockysize=32, compress="deflate")
        p = self.path(rel)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(p, "w", **profile) as ds:
                ds.write(data)
        return p

    def write_erosion(self, data: np.ndarray | None = None, **kw: Any) -> Path:
        kw.setdefault("nodata", EROSION_NODATA)
        return self.write_raster(EROSION, erosion_values() if data is None else data, **kw)

    def write_landcover(self, data: np.ndarray | None = None, **kw: Any) -> Path:
        kw.setdefault("nodata", LANDCOVER_NODATA)
        return self.write_raster(LANDCOVER, landcover_values() if data is None else data, **kw)

    def write_boundaries(self, rows: list[tuple[str, str, Any]] | None = None, crs: Any = "EPSG:4326") -> Path:
        rows = [COUNTY_A, COUNTY_B] if rows is None else rows
        gdf = gpd.GeoDataFrame(
            {"county_code": [r[0] for r in rows], "county_name": [r[1] for r in rows]},
            geometry=[r[2] for r in rows],
            crs=crs,
        )
        p = self.path(BOUNDARIES)
        if p.exists():
            p.unlink()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided" when crs=None
            gdf.to_file(p, layer="counties", driver="GPKG")
        return p

    def write_targets(self, rows: list[tuple[str, str]] | None = None, encoding: str = "utf-8") -> Path:
        rows = [COUNTY_A[:2], COUNTY_B[:2], REGION] if rows is None else rows
        text = "county_code,county_name,target_2025,target_2035\n" + "".join(f"{c},{n},70.5,80.25\n" for c, n in rows)
        p = self.path(TARGETS)
        p.write_bytes(text.encode(encoding))
        return p

    def write_legend(self, rows: list[tuple[int, str, str]] | None = None) -> Path:
        rows = LEGEND if rows is None else rows
        p = self.path(LEGEND_CSV)
        p.write_text("code,name_zh,name_en\n" + "".join(f"{c},{z},{e}\n" for c, z, e in rows), encoding="utf-8")
        return p

    def remove(self, rel: str) -> None:
        (self.base / rel).unlink()


BASE_CONFIG: dict[str, Any] = {
    "region": {"code": REGION[0], "name": "晋城市", "name_en": "Jincheng"},
    "boundaries": {"path": BOUNDARIES, "layer": "counties", "code_field": "county_code", "name_field": "county_name"},
    "targets": TARGETS,
    "landcover_legend": LEGEND_CSV,
    "analysis": {
        "crs": "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
        "resolution_m": 30,
    },
    "allowable_loss": {"default_t_km2": 200, "by_county": {}},
    "validation": {"min_coverage_pct": 99, "unit_check": "error"},
    "demo": True,
    "years": [{"year": 2023, "landcover": LANDCOVER, "erosion": EROSION, "erosion_unit": "t/km2/a"}],
}


def make_scenario(base: Path) -> Scenario:
    """Write a complete, valid set of inputs under ``base``."""
    s = Scenario(Path(base), copy.deepcopy(BASE_CONFIG))
    s.write_boundaries()
    s.write_targets()
    s.write_legend()
    s.write_landcover()
    s.write_erosion()
    return s
