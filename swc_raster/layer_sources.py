"""Erosion layers read onto the analysis grid: graded rasters, wind erosion, and water + wind together.

Each class reads like :class:`swc_raster.sources.GridSource` (``read(tile, out)``, ``dtype``,
``close()``), so the zonal engine and the grade raster take any of them where they took the
modulus raster; :func:`open_source` builds the right one from plain values (they cross process
boundaries).  The forms and why the stand-in modulus is exact: :mod:`swc_raster.erosion_layers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rasterio.windows import Window

from swc_raster.erosion_layers import STAND_IN, WIND_THRESHOLDS_T_KM2, ErosionLayer, wind_grades
from swc_raster.grid import AnalysisGrid
from swc_raster.sources import GridSource


def _categorical(method: str) -> str:
    """Codes are never averaged: ``average``/``bilinear`` become ``auto`` (nearest, or mode when coarser)."""
    return method if method in ("auto", "nearest", "mode") else "auto"


class LayerSource:
    """One erosion layer as a modulus in t/(km²·a) (float32, nodata −9999) on ``grid``.

    A modulus is read as it is; a graded raster is read as codes and mapped to the stand-in
    modulus of each code's grade.  ``wind`` layers come out as the stand-in of their wind grade
    (fixed thresholds, no T), ready to be combined with water erosion.
    """

    dtype = np.dtype("float32")

    def __init__(self, layer: ErosionLayer, grid: AnalysisGrid, resampling: str = "auto"):
        self.layer = layer
        label = f"{layer.process} erosion"
        if layer.graded:
            self.src = GridSource(layer.path, grid, kind="landcover", resampling=_categorical(resampling), label=label)
            self.codes = np.empty(0, dtype=self.src.dtype)
            self.grade_of = layer.grade_lut(256 if self.src.dtype == np.uint8 else 65536)
            self.lut = STAND_IN[self.grade_of]  # code → stand-in modulus
        else:
            self.src = GridSource(layer.path, grid, kind="erosion", unit=layer.unit or "", resampling=resampling)
        self.thresholds = (
            layer.thresholds_t_km2 or WIND_THRESHOLDS_T_KM2 if layer.process == "wind" and not layer.graded else None
        )

    def close(self) -> None:
        self.src.close()

    def grades(self, tile: Window) -> np.ndarray:
        """The layer's own grade 1–6 per cell (0: no data), for wind by its thresholds (uint8)."""
        h, w = int(tile.height), int(tile.width)
        if self.layer.graded:
            return self.grade_of[self.src.read(tile)]
        a = self.src.read(tile, out=np.empty((h, w), dtype=np.float32))
        if self.thresholds is None:
            raise ValueError("water modulus grades depend on each county's T: read the modulus")
        return wind_grades(a, self.thresholds)

    def read(self, tile: Window, out: np.ndarray | None = None) -> np.ndarray:
        h, w = int(tile.height), int(tile.width)
        if out is None:
            out = np.empty((h, w), dtype=np.float32)
        if self.layer.graded:
            if self.codes.size < h * w:
                self.codes = np.empty(h * w, dtype=self.src.dtype)
            codes = self.src.read(tile, out=self.codes[: h * w].reshape(h, w))
            return np.take(self.lut, codes, out=out)
        if self.thresholds is None:
            return self.src.read(tile, out=out)
        np.take(STAND_IN, wind_grades(self.src.read(tile, out=out), self.thresholds), out=out)
        return out


class CombinedErosion:
    """Water and wind erosion together: per cell the larger of the water modulus and the wind stand-in.

    Its SL 190 grade with the county's T is the more severe of the two processes' grades, so the
    cell is eroded when either reaches 轻度 (nodata, −9999, is below every value: a cell with data in
    one layer takes that layer's value).
    """

    dtype = np.dtype("float32")

    def __init__(self, water: LayerSource, wind: LayerSource):
        self.water, self.wind = water, wind
        self.buf = np.empty(0, dtype=np.float32)

    def close(self) -> None:
        self.water.close()
        self.wind.close()

    def read(self, tile: Window, out: np.ndarray | None = None) -> np.ndarray:
        h, w = int(tile.height), int(tile.width)
        out = self.water.read(tile, out=out)
        if self.buf.size < h * w:
            self.buf = np.empty(h * w, dtype=np.float32)
        wind = self.wind.read(tile, out=self.buf[: h * w].reshape(h, w))
        return np.maximum(out, wind, out=out)


class WindGradeCodes:
    """The wind layer's grade (uint8, 1–6; 0 no data) as a class raster: the "land cover" of the by-process count."""

    dtype = np.dtype("uint8")

    def __init__(self, wind: LayerSource):
        self.wind = wind

    def close(self) -> None:
        self.wind.close()

    def read(self, tile: Window, out: np.ndarray | None = None) -> np.ndarray:
        grades = self.wind.grades(tile)
        if out is None:
            return grades
        out[...] = grades
        return out


def open_source(grid: AnalysisGrid, kind: str, spec: Mapping[str, Any]):
    """The reader of ``spec`` on ``grid``: a plain :class:`GridSource` spec (``path``…), or ``layers``.

    ``{"layers": [water, wind?], "resampling": ...}`` (layers as :meth:`ErosionLayer.params`):
    it reads the modulus the rate uses (water, or water + wind combined), or with
    ``"read": "wind_grade"`` the wind layer's grades as class codes (for ``kind="landcover"``).
    """
    if "layers" not in spec:
        return GridSource(grid=grid, kind=kind, **spec)
    layers = [ErosionLayer.from_params(p) for p in spec["layers"]]
    by_process = {layer.process: layer for layer in layers}
    resampling = spec.get("resampling", "auto")
    if spec.get("read") == "wind_grade":
        return WindGradeCodes(LayerSource(by_process["wind"], grid, resampling))
    water = LayerSource(by_process["water"], grid, resampling)
    if "wind" not in by_process:
        return water
    return CombinedErosion(water, LayerSource(by_process["wind"], grid, resampling))
