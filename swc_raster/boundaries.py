"""County boundaries: read, check, repair, project, and burn into zone ids.

A *zone id* is a county's 1-based position in the prepared boundaries (sorted by
code); 0 means "outside every county".  Zone ids are what the raster engine
counts by; codes and names come back through the prepared table.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio import features
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from swc_raster.errors import CrsError, InputError, InputFileError
from swc_raster.names import normalise_code, normalise_name

#: The layer name of every prepared counties GeoPackage the workflow writes.
COUNTIES_LAYER = "counties"
ZONE_DTYPE = "uint16"
MAX_ZONES = np.iinfo(ZONE_DTYPE).max - 1


def read_counties(
    path: str | Path, layer: str | None, code_field: str, name_field: str, name_en_field: str | None = None
) -> gpd.GeoDataFrame:
    """Read county polygons with columns ``county_code``, ``county_name`` (, ``county_name_en``), ``geometry``.

    Raises an :class:`InputError` naming the file when it is missing, has no
    CRS, lacks the configured fields, or repeats a county code.
    """
    path = Path(path)
    label = f"boundaries ({path})"
    if not path.exists():
        raise InputFileError(label, "the file does not exist.", "check boundaries.path in the config.")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:
        raise InputFileError(
            label,
            f"cannot be read as a vector layer {layer!r}: {exc}.",
            "check boundaries.path and boundaries.layer; export to GeoPackage if in doubt.",
        ) from exc
    if gdf.crs is None:
        raise CrsError(
            label,
            "has no CRS.",
            "assign the CRS the coordinates are in (e.g. EPSG:4326 or EPSG:4490) in QGIS and re-export.",
        )
    missing = [f for f in (code_field, name_field, name_en_field) if f and f not in gdf.columns]
    if missing:
        raise InputError(
            label,
            f"has no field(s) {missing}; fields are {[c for c in gdf.columns if c != 'geometry']}.",
            "set boundaries.code_field / boundaries.name_field in the config.",
        )
    out = gpd.GeoDataFrame(
        {"county_code": gdf[code_field].map(normalise_code), "county_name": gdf[name_field].map(normalise_name)},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    if name_en_field:
        out.insert(2, "county_name_en", gdf[name_en_field].astype(str).str.strip().to_numpy())
    if len(out) == 0:
        raise InputError(label, "has no features.", "point boundaries.path/layer at the county polygons.")
    dup = out.county_code[out.county_code.duplicated()].unique().tolist()
    if dup:
        raise InputError(
            label, f"repeats county code(s) {dup}.", "give every county one feature (dissolve parts by code)."
        )
    if len(out) > MAX_ZONES:
        raise InputError(label, f"has {len(out)} features, more than {MAX_ZONES}.", "split the region into batches.")
    return out


def repair(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Make every geometry valid and polygonal; return the repaired frame and what was repaired."""
    notes: list[str] = []
    geoms = gdf.geometry.values.copy()
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            raise InputError(
                f"boundaries county {gdf.county_code.iloc[i]}", "has an empty geometry.", "fix or remove the feature."
            )
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            fixed = shapely.make_valid(geom)
            # make_valid may return a collection with stray lines; keep the polygonal part.
            polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
            geoms[i] = shapely.union_all(polys)
            notes.append(
                f"county {gdf.county_code.iloc[i]} {gdf.county_name.iloc[i]}: invalid geometry ({reason}) repaired"
            )
    out = gdf.copy()
    out.geometry = geoms
    return out, notes


def prepare(
    path: str | Path,
    layer: str | None,
    code_field: str,
    name_field: str,
    crs_wkt: str,
    name_en_field: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read, repair and project counties; assign ``zone`` ids 1..N sorted by code."""
    gdf = read_counties(path, layer, code_field, name_field, name_en_field)
    gdf, notes = repair(gdf)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    gdf = gdf.to_crs(crs_wkt).sort_values("county_code").reset_index(drop=True)
    gdf.insert(0, "zone", np.arange(1, len(gdf) + 1, dtype="int32"))
    gdf["polygon_area_km2"] = gdf.geometry.area / 1e6
    return gdf, notes


def zones_in_window(
    geoms: np.ndarray, zone_ids: np.ndarray, grid_transform: Affine, window: Window, tree: shapely.STRtree | None = None
) -> np.ndarray:
    """Burn zone ids into ``window`` of the grid by the pixel-centre rule (uint16, 0 = outside).

    A cell belongs to the county containing its centre.  Only polygons whose
    envelopes meet the window are burnt, each clipped to the window plus one
    cell first, so the cost is per window, not per county × raster.  Clipping
    keeps every edge inside the window as it is, so a cell centre is inside the
    clipped polygon iff it is inside the original one.
    """
    transform = window_transform(window, grid_transform)
    h, w = int(window.height), int(window.width)
    x0, y0 = transform.c, transform.f
    xmin, xmax = sorted((x0, x0 + w * transform.a))
    ymin, ymax = sorted((y0, y0 + h * transform.e))
    box = shapely.box(xmin, ymin, xmax, ymax)
    idx = tree.query(box) if tree is not None else np.flatnonzero(shapely.intersects(geoms, box))
    out = np.zeros((h, w), dtype=ZONE_DTYPE)
    if len(idx):
        idx = np.sort(idx)  # later polygons are burnt over earlier ones
        px, py = abs(transform.a), abs(transform.e)
        clipped = shapely.clip_by_rect(geoms[idx], xmin - px, ymin - py, xmax + px, ymax + py)
        shapes = [(g, int(zone_ids[i])) for i, g in zip(idx, clipped) if not g.is_empty]
        if shapes:
            features.rasterize(shapes, out=out, transform=transform, all_touched=False)
    return out


def read_prepared(path: str | Path) -> gpd.GeoDataFrame:
    """Prepared counties (analysis CRS, ``county_code`` as text, ``zone`` ids where a batch gave them)."""
    gdf = gpd.read_file(path, layer=COUNTIES_LAYER)
    gdf["county_code"] = gdf["county_code"].astype(str)
    return gdf


def write_prepared(counties: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write prepared counties atomically (a failed write leaves no file)."""
    from swc_raster.atomic import atomic_path

    with atomic_path(path) as tmp:
        counties.to_file(tmp, layer=COUNTIES_LAYER, driver="GPKG")
