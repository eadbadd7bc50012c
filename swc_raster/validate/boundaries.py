"""The county boundaries: file, layer and fields (header), GB/T 2260 codes, geometries and overlaps (data)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyogrio
import pyproj
import shapely

from swc_raster.errors import FileProblem
from swc_raster.names import normalise_code
from swc_raster.validate.context import Context, check_file, crs_of, fmt_list, gdal_msg

#: A county code of GB/T 2260: six digits (province, prefecture, county).
GBT2260_CODE: Final = re.compile(r"\d{6}")


@dataclass
class County:
    code: str
    name: str
    geom: Any  # repaired shapely geometry in the boundaries' CRS
    geom_ea: Any  # the same in the equal-area CRS (None without a CRS)


@dataclass
class Counties:
    label: str
    crs: pyproj.CRS | None
    items: list[County]

    def bounds(self) -> tuple[float, ...] | None:
        geoms = [c.geom for c in self.items]
        return shapely.GeometryCollection(geoms).bounds if geoms else None


@dataclass(frozen=True)
class BoundaryLayer:
    """An opened boundary layer whose configured fields exist."""

    label: str
    rel: Any
    path: Path
    layer: Any
    info: dict[str, Any]
    code_field: str
    name_field: str


@dataclass(frozen=True)
class BoundaryCodes:
    label: str
    items: list[tuple[str, str]]  # (code, name) per feature
    codes_ok: bool  # every non-empty code is a GB/T 2260 code: tables may be matched on them


def open_boundaries(ctx: Context) -> BoundaryLayer | None:
    """Exists, layer, fields, CRS (header-level checks shared by both stages)."""
    b = ctx.section("boundaries")
    rel = b.get("path")
    if not rel:
        ctx.add(
            "config: boundaries.path",
            "no boundary file is configured.",
            "add `boundaries: {path: boundaries/<file>.gpkg, layer: <layer>, code_field: county_code, "
            "name_field: county_name}`.",
        )
        return None
    label = f"boundaries ({rel})"
    layer = b.get("layer")
    code_f, name_f = str(b.get("code_field") or "county_code"), str(b.get("name_field") or "county_name")
    path = check_file(ctx, label, rel)
    if path is None:
        return None
    try:
        layers = [str(x[0]) for x in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 — pyogrio raises several DataSource errors
        ctx.add(
            label,
            f"cannot be opened as a vector file: {gdal_msg(exc)}.",
            f"check it with `ogrinfo {rel}`; export the boundaries again (GeoPackage recommended).",
            FileProblem,
        )
        return None
    if layer is not None and str(layer) not in layers:
        ctx.add(
            label,
            f"layer {layer!r} not found (layers in the file: {fmt_list(layers) or 'none'}).",
            "set `boundaries.layer:` to one of the file's layers.",
        )
        return None
    if layer is None and len(layers) > 1:
        ctx.add(
            label,
            f"the file has {len(layers)} layers ({fmt_list(layers)}) and `boundaries.layer` is not set.",
            "set `boundaries.layer:` to the layer with the county polygons.",
        )
        return None
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:  # noqa: BLE001
        ctx.add(label, f"cannot read layer {layer!r}: {gdal_msg(exc)}.", f"check it with `ogrinfo {rel}`.", FileProblem)
        return None
    fields = [str(f) for f in info.get("fields", [])]
    ok = True
    for key, f in (("code_field", code_f), ("name_field", name_f)):
        if f not in fields:
            ok = False
            holds = "GB/T 2260 code" if key == "code_field" else "name"
            ctx.add(
                label,
                f"the field {f!r} (boundaries.{key}) is not in the layer (fields: {fmt_list(fields) or 'none'}).",
                f"set `boundaries.{key}:` to the field holding the county {holds}.",
            )
    if not info.get("crs"):
        ctx.add(
            label,
            "the boundary layer has no CRS (coordinate reference system).",
            f"assign the CRS the boundaries were drawn in, e.g. `ogr2ogr -a_srs EPSG:4490 fixed.gpkg {rel}` "
            "(CGCS2000 lon/lat), or re-export them with a CRS.",
        )
    if info.get("features", 0) == 0:
        ctx.add(label, "the boundary layer has no features.", "export the county polygons again.")
        ok = False
    return BoundaryLayer(label, rel, path, layer, info, code_f, name_f) if ok else None


def boundary_codes(ctx: Context) -> BoundaryCodes | None:
    """The features' codes and names; problems with the codes (empty, not GB/T 2260, duplicated)."""
    b = open_boundaries(ctx)
    if b is None:
        return None
    try:
        df = pyogrio.read_dataframe(b.path, layer=b.layer, read_geometry=False)
    except Exception as exc:  # noqa: BLE001
        ctx.add(
            b.label,
            f"cannot read the attribute table: {gdal_msg(exc)}.",
            f"check it with `ogrinfo {b.rel}`.",
            FileProblem,
        )
        return None
    items = [
        (normalise_code(c), "" if n is None else str(n))
        for c, n in zip(df[b.code_field].tolist(), df[b.name_field].tolist())
    ]
    codes_ok = _check_code_format(ctx, b, items, df)
    _check_codes(ctx, b.label, b.code_field, items)
    return BoundaryCodes(b.label, items, codes_ok)


def _check_code_format(ctx: Context, b: BoundaryLayer, items: list[tuple[str, str]], df: Any) -> bool:
    """Every non-empty code is six digits; else the code field is named as the cause (not the tables)."""
    bad = [(c, n) for c, n in items if c and not GBT2260_CODE.fullmatch(c)]
    if not bad:
        return True
    found = fmt_list([repr(c) for c, _ in bad], limit=5)
    others = [
        str(col)
        for col in df.columns
        if col != b.code_field
        and df[col].notna().all()
        and all(GBT2260_CODE.fullmatch(normalise_code(v)) for v in df[col].tolist())
    ]
    hint = ""
    if others:
        many = len(others) > 1
        names = ", ".join(map(repr, others))
        hint = f" (the layer's field{'s' if many else ''} {names} hold{'' if many else 's'} such codes)"
    if len(bad) == len([c for c, _ in items if c]) and all(re.search(r"[^\d\s.]", c) for c, _ in bad):
        what = "holds names or text, not GB/T 2260 county codes"
    else:
        what = (
            f"has {len(bad)} value{'s' if len(bad) > 1 else ''} that {'are' if len(bad) > 1 else 'is'} not a "
            "six-digit GB/T 2260 county code"
        )
    ctx.add(
        f"boundaries.code_field ({b.rel})",
        f"the code field {b.code_field!r} {what} (found {found}); counties, targets and T overrides are matched "
        "on these codes.",
        f"set `boundaries.code_field:` to the field holding the six-digit GB/T 2260 codes{hint}, "
        f"or fill {b.code_field!r} with them (e.g. 140502 for 城区).",
    )
    return False


def _check_codes(ctx: Context, label: str, code_f: str, items: list[tuple[str, str]]) -> None:
    empty = [n or "?" for c, n in items if c == ""]
    if empty:
        ctx.add(
            label,
            f"{len(empty)} feature{'s have' if len(empty) > 1 else ' has'} no county code ({fmt_list(empty)}).",
            f"fill `{code_f}` with the GB/T 2260 code of every county.",
        )
    dup = sorted(c for c, n in Counter(c for c, _ in items if c).items() if n > 1)
    if dup:
        names = {c: sorted({n for cc, n in items if cc == c}) for c in dup}
        ctx.add(
            label,
            "duplicate county codes: " + "; ".join(f"{c} ({', '.join(names[c])})" for c in dup) + ".",
            f"give every county its own GB/T 2260 code in `{code_f}`, or dissolve multi-part counties into one "
            f'feature (`ogr2ogr -dialect sqlite -sql "SELECT ST_Union(geom), {code_f} … GROUP BY {code_f}"`).',
        )


def boundaries_data(ctx: Context) -> Counties | None:
    """Read the geometries, check validity and overlaps; the counties for coverage checks."""
    b = open_boundaries(ctx)
    if b is None:
        return None
    try:
        gdf = pyogrio.read_dataframe(b.path, layer=b.layer, columns=[b.code_field, b.name_field])
    except Exception as exc:  # noqa: BLE001
        ctx.add(
            b.label, f"cannot read the features: {gdal_msg(exc)}.", f"check it with `ogrinfo {b.rel}`.", FileProblem
        )
        return None
    crs = crs_of(gdf.crs)
    to_ea = None if crs is None else pyproj.Transformer.from_crs(crs, ctx.equal_area_crs(), always_xy=True)
    items: list[County] = []
    for code, name, geom in zip(gdf[b.code_field].tolist(), gdf[b.name_field].tolist(), gdf.geometry.values):
        county = _county(ctx, b, normalise_code(code), "" if name is None else str(name), geom, to_ea)
        if county is not None:
            items.append(county)
    _check_overlaps(ctx, b.label, items, use_ea=crs is not None)
    return Counties(b.label, crs, items)


def _county(ctx: Context, b: BoundaryLayer, code: str, name: str, geom: Any, to_ea: Any) -> County | None:
    """One county with its geometry repaired (a warning) and projected; ``None`` when it has no polygon."""
    who = f"county {name} ({code or 'no code'})"
    if geom is None or geom.is_empty:
        ctx.add(b.label, f"{who} has no geometry.", "draw or re-export the county's polygon.")
        return None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        ctx.add(b.label, f"{who} is a {geom.geom_type}, not a polygon.", "use a polygon layer of county boundaries.")
        return None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = _polygonal(shapely.make_valid(geom))
        area = "" if to_ea is None else f"{_project(geom, to_ea).area / 1e6:.3f}"
        ctx.warnings.append(
            f"[{b.label}] {who} has an invalid geometry ({reason}); it was repaired with make_valid"
            + (f" (repaired area {area} km²; check it)" if area else "")
            + f". To fix the source: `ogr2ogr -makevalid fixed.gpkg {b.rel}` or QGIS ▸ Fix geometries."
        )
        if geom.is_empty:
            ctx.add(b.label, f"{who}: the repaired geometry is empty.", "redraw the county's polygon.")
            return None
    geom_ea = None
    if to_ea is not None:
        geom_ea = _project(geom, to_ea)
        if not geom_ea.is_valid:
            geom_ea = _polygonal(shapely.make_valid(geom_ea))
    return County(code, name, geom, geom_ea)


def _project(geom: Any, tr: pyproj.Transformer) -> Any:
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _polygonal(g: Any) -> Any:
    """Keep only the polygon parts of a (repaired) geometry."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _check_overlaps(ctx: Context, label: str, items: list[County], use_ea: bool) -> None:
    if len(items) < 2:
        return
    geoms = np.array([(c.geom_ea if use_ea else c.geom) for c in items], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    areas = shapely.area(geoms)
    tol = ctx.overlap_tolerance()
    bad = []
    for i, j, a in zip(left.tolist(), right.tolist(), inter.tolist()):
        smaller = min(areas[i], areas[j])
        if smaller > 0 and 100.0 * a / smaller > tol:
            ci, cj = items[i], items[j]
            size = f"{a / 1e6:.3f} km², " if use_ea else ""
            bad.append(
                f"{ci.name} ({ci.code}) and {cj.name} ({cj.code}) by {size}{100.0 * a / smaller:.2f} % of the smaller"
            )
    if bad:
        ctx.add(
            label,
            f"counties overlap (more than {tol:g} % of the smaller county's area): {'; '.join(bad)}; "
            "the overlap would be counted twice in the region total.",
            "clean the boundary layer so that counties only touch (e.g. QGIS ▸ Topology Checker, or "
            "`v.clean`/snapping), or raise `validation.overlap_tolerance_pct` if the overlap is known and harmless.",
        )
