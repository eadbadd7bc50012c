"""The report's interactive county map (水土保持一张图): every monitored year in one offline view.

:func:`one_map_html` turns the counties GeoPackage and each year's ``county_rates.csv`` and
``target_comparison.csv`` (optionally ``progress.csv`` and each year's ``erosion_grade.tif``)
into one HTML fragment:

- an inline SVG of the county polygons, kept in their projected (analysis) CRS and simplified
  as a *coverage* so that neighbours still share their edges; it shows the report's year even
  without the script;
- the numbers as a JSON block, formatted here by :func:`swc_raster.tables.format_value`, so the
  map shows exactly what the report's tables show;
- each year's grade raster, when given, as a palette PNG ``data:`` URI bounded in bytes;
- a small hand-written script (``assets/onemap.js``) for pan, zoom, hover, selection, year,
  theme and the grade layer.

Nothing is fetched from anywhere: no tiles, no fonts, no scripts from the network.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from swc_raster import grading
from swc_raster.errors import InputError
from swc_raster.maps import classify, nice_breaks, read_counties, read_overview, symmetric_breaks
from swc_raster.progress import STATUS_NAMES_ZH
from swc_raster.tables import format_value, read_county_rates, read_target_comparison, target_years

__all__ = ["OneMapInputs", "one_map_inputs", "one_map_html", "VIEW_UNITS", "RASTER_BUDGET_BYTES"]

#: The SVG's longer side in user units: coordinates are integers at 1/10 000 of the extent.
VIEW_UNITS = 10_000
#: Default bound on all embedded grade rasters together (base64 bytes).
RASTER_BUDGET_BYTES = 3_000_000
#: Coverage simplification tolerance as a share of the longer side of the extent.
SIMPLIFY_SHARE = 1 / 4000
#: Longest side of a grade raster before it is shrunk to fit its byte budget.
RASTER_MAX_PX = 1600
_RASTER_MIN_PX = 200
#: Colours of the rate and gap themes: the same ramps as the static maps (swc_raster.maps).
_RATE_RAMP, _GAP_RAMP_NEG, _GAP_RAMP_POS = ("YlGn", 0.15, 0.9), ("RdBu", 0.06, 0.40), ("RdBu", 0.60, 0.94)
_NO_DATA_FILL = "#D9D9D9"
#: The hand-written script of the map (package data: pyproject lists swc_raster/assets/*.js).
_SCRIPT = Path(__file__).with_name("assets") / "onemap.js"


@dataclass(frozen=True)
class OneMapYear:
    """The files of one monitored year."""

    rates_csv: Path
    comparison_csv: Path
    grade_tif: Path | None = None


@dataclass(frozen=True)
class OneMapInputs:
    """Everything the map reads (see :func:`one_map_inputs` for the dict form)."""

    counties_gpkg: Path
    years: dict[str, OneMapYear]
    progress_csv: Path | None = None
    layer: str | None = "counties"


def one_map_inputs(spec: Mapping) -> OneMapInputs:
    """Check and convert the ``one_map`` argument of :func:`swc_raster.report.write_report`.

    ``spec``: ``{"counties": gpkg, "years": {year: {"rates": csv, "comparison": csv,
    "grade": tif (optional)}}, "progress": csv (optional), "layer": "counties" (optional)}``.
    """
    if isinstance(spec, OneMapInputs):
        return spec
    unknown = sorted(set(spec) - {"counties", "years", "progress", "layer"})
    if unknown or "counties" not in spec or not spec.get("years"):
        raise InputError(
            "one_map",
            f"expected keys counties, years (and optionally progress, layer); got {sorted(spec)}.",
            "pass {'counties': gpkg, 'years': {year: {'rates': csv, 'comparison': csv, 'grade': tif}}}.",
        )
    years: dict[str, OneMapYear] = {}
    for year, files in spec["years"].items():
        missing = [k for k in ("rates", "comparison") if k not in files]
        if missing or set(files) - {"rates", "comparison", "grade"}:
            raise InputError(
                f"one_map years[{year}]",
                f"expected keys rates, comparison (and optionally grade); got {sorted(files)}.",
                "give each year its county_rates.csv, target_comparison.csv and erosion_grade.tif.",
            )
        grade = files.get("grade")
        years[str(year)] = OneMapYear(Path(files["rates"]), Path(files["comparison"]), Path(grade) if grade else None)
    progress = spec.get("progress")
    return OneMapInputs(
        Path(spec["counties"]),
        dict(sorted(years.items())),
        Path(progress) if progress else None,
        spec.get("layer", "counties"),
    )


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class _Frame:
    """Projected metres → SVG user units (y down), integers at 1/VIEW_UNITS of the extent."""

    minx: float
    maxy: float
    units_per_m: float
    width: int
    height: int

    @classmethod
    def around(cls, bounds) -> _Frame:
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        pad = 0.02 * max(maxx - minx, maxy - miny)
        minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
        k = VIEW_UNITS / max(maxx - minx, maxy - miny)
        return cls(minx, maxy, k, math.ceil((maxx - minx) * k), math.ceil((maxy - miny) * k))

    def xy(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(x) - self.minx) * self.units_per_m, (self.maxy - np.asarray(y)) * self.units_per_m

    @property
    def crs_bounds(self) -> tuple[float, float, float, float]:
        return (
            self.minx,
            self.maxy - self.height / self.units_per_m,
            self.minx + self.width / self.units_per_m,
            self.maxy,
        )


def _ring_d(coords: np.ndarray, frame: _Frame) -> str:
    """One closed ring as ``M x y l dx dy … z`` in integer user units (zero steps dropped)."""
    x, y = frame.xy(coords[:, 0], coords[:, 1])
    pts = np.column_stack([np.rint(x), np.rint(y)]).astype(np.int64)
    steps = np.diff(pts, axis=0)
    steps = steps[(steps != 0).any(axis=1)]
    if len(steps) < 2:
        return ""
    return f"M{pts[0, 0]} {pts[0, 1]}l" + " ".join(f"{dx} {dy}" for dx, dy in steps[:-1]) + "z"


def _path_d(geom, frame: _Frame) -> str:
    """A (multi)polygon as one SVG path (holes as sub-paths, drawn with fill-rule evenodd)."""
    parts = getattr(geom, "geoms", [geom])
    rings = []
    for poly in parts:
        rings.append(_ring_d(np.asarray(poly.exterior.coords), frame))
        rings += [_ring_d(np.asarray(r.coords), frame) for r in poly.interiors]
    return "".join(r for r in rings if r)


def _simplified(geoms, tolerance_m: float):
    """Coverage-simplified polygons (shared edges stay shared); per-polygon simplify if not a clean coverage."""
    import shapely

    try:
        out = shapely.coverage_simplify(np.asarray(geoms), tolerance_m)
        if shapely.is_valid(out).all() and not shapely.is_empty(out).any():
            return out
    except shapely.errors.GEOSException:  # pragma: no cover - overlapping input polygons
        pass
    return shapely.simplify(np.asarray(geoms), tolerance_m, preserve_topology=True)


# --------------------------------------------------------------------------- tables


def _read_years(inputs: OneMapInputs) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    tables = {}
    for year, files in inputs.years.items():
        rates, comp = read_county_rates(files.rates_csv), read_target_comparison(files.comparison_csv)
        for df, path in ((rates, files.rates_csv), (comp, files.comparison_csv)):
            found = sorted({str(y) for y in df["year"]})
            if found != [year]:
                raise InputError(
                    str(path), f"the one-map entry for {year} holds years {found}.", "pass each year its own tables."
                )
        tables[year] = (rates, comp)
    return tables


def _check_codes(gdf, rates: pd.DataFrame, counties_path: Path, rates_path: Path) -> None:
    polygons, rows = set(gdf["county_code"]), set(rates.loc[rates["level"] == "county", "county_code"])
    if polygons != rows:
        raise InputError(
            str(rates_path),
            f"the counties do not match {counties_path.name}: rows without a polygon {sorted(rows - polygons)}, "
            f"polygons without a row {sorted(polygons - rows)}.",
            "use the counties GeoPackage and the tables of the same workflow run.",
        )


def _L(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _hex(rgba) -> str:
    return "#" + "".join(f"{round(c * 255):02X}" for c in rgba[:3])


def _ramp(spec, n: int) -> list[str]:
    from matplotlib import colormaps

    name, lo, hi = spec
    return [_hex(colormaps[name](x)) for x in np.linspace(lo, hi, n)]


def _legend_labels(breaks, signed: bool = False) -> list[str]:
    def fmt(v: float) -> str:
        text = f"{abs(v):g}"
        return "-" + text if v < 0 else ("+" + text if signed and v > 0 else text)

    return [f"{fmt(a)} ~ {fmt(b)}" for a, b in zip(breaks[:-1], breaks[1:])]


def _theme(theme_id: str, label: str, values: dict[str, dict[str, float]], breaks, colours, signed=False) -> dict:
    """Fill colour of every county in every year, on breaks shared by all years (colours compare across years)."""
    fill = {}
    for year, by_code in values.items():
        codes = list(by_code)
        cls = classify(np.array([by_code[c] for c in codes], dtype=float), breaks)
        fill[year] = {c: (colours[k] if k >= 0 else _NO_DATA_FILL) for c, k in zip(codes, cls)}
    legend = list(zip(colours, _legend_labels(breaks, signed)))[::-1]
    return {"id": theme_id, "label": label, "legend": legend, "fill": fill}


def _themes(tables, target_ys: list[int], lang: str) -> list[dict]:
    def county_values(column: str, which: int) -> dict[str, dict[str, float]]:
        out = {}
        for year, pair in tables.items():
            df = pair[which]
            counties = df[df["level"] == "county"]
            out[year] = dict(zip(counties["county_code"], pd.to_numeric(counties[column], errors="coerce")))
        return out

    rates = county_values("rate_pct", 0)
    breaks = nice_breaks([v for by in rates.values() for v in by.values()])
    themes = [
        _theme(
            "rate",
            _L(lang, "水土保持率 (%)", "Conservation rate (%)"),
            rates,
            breaks,
            _ramp(_RATE_RAMP, len(breaks) - 1),
        )
    ]
    for y in target_ys:
        gaps = county_values(f"gap_{y}_pp", 1)
        breaks = symmetric_breaks([v for by in gaps.values() for v in by.values()])
        k = (len(breaks) - 1) // 2
        colours = _ramp(_GAP_RAMP_NEG, k) + _ramp(_GAP_RAMP_POS, k)
        label = _L(lang, f"与{y}年目标差距 (百分点)", f"Gap to the {y} target (pp)")
        themes.append(_theme(f"gap_{y}", label, gaps, breaks, colours, signed=True))
    return themes


def _fields(target_ys: list[int], lang: str) -> tuple[list[str], list[dict]]:
    """Panel rows: (group titles, [{k: key, l: label, g: group, kind}])."""
    gnames = grading.GRADE_NAMES_ZH if lang == "zh" else grading.GRADE_NAMES_EN
    groups = [
        _L(lang, "水土保持率", "Conservation rate"),
        _L(lang, "侵蚀强度分级面积 (km²)", "Area by erosion grade (km²)"),
        _L(lang, "与目标对比", "Against the targets"),
    ]
    fields = [
        ("rate_pct", _L(lang, "水土保持率 (%)", "Conservation rate (%)"), 0, "pct"),
        ("rate_change_pp", _L(lang, "较上一监测年变化 (百分点)", "Change since the previous year (pp)"), 0, "gap"),
        ("land_area_km2", _L(lang, "土地面积 (km²)", "Land area (km²)"), 0, "area"),
        ("erosion_area_km2", _L(lang, "水土流失面积 (km²)", "Erosion area (km²)"), 0, "area"),
        ("t_allowable_t_km2", _L(lang, "允许土壤流失量 T (t/(km²·a))", "Allowable soil loss T (t/(km²·a))"), 0, "t"),
        *[(f"area_grade{g}_km2", gnames[g], 1, "area") for g in range(1, 7)],
        ("nodata_area_km2", gnames[grading.NODATA_GRADE], 1, "area"),
        ("gap_area_km2", gnames[grading.GAP_GRADE], 1, "area"),
    ]
    for y in target_ys:
        fields += [
            (f"target_{y}_pct", _L(lang, f"{y}年目标 (%)", f"Target {y} (%)"), 2, "pct"),
            (f"gap_{y}_pp", _L(lang, f"与{y}年目标差距 (百分点)", f"Gap to {y} (pp)"), 2, "gap"),
            (f"met_{y}", _L(lang, f"{y}年是否达标", f"Met {y}"), 2, "met"),
        ]
    return groups, [{"k": k, "l": label, "g": g, "kind": kind} for k, label, g, kind in fields]


def _rows(tables, fields: list[dict], lang: str) -> dict[str, dict[str, list[str]]]:
    """Formatted panel values by year and county code (region included)."""
    out: dict[str, dict[str, list[str]]] = {}
    previous: dict[str, float] = {}
    for year, (rates, comp) in tables.items():
        merged = rates.merge(
            comp.drop(columns=["year", "level", "county_name", "rate_pct"]), on="county_code", how="left"
        )
        out[year] = {}
        current = {}
        for _, r in merged.iterrows():
            code, rate = r["county_code"], float(r["rate_pct"])
            values = []
            for f in fields:
                if f["k"] == "rate_change_pp":
                    value = rate - previous[code] if code in previous else math.nan
                else:
                    value = r.get(f["k"], math.nan)
                values.append(format_value(value, f["kind"], lang))
            out[year][code] = values
            current[code] = rate
        previous = current
    return out


def _trend(progress_csv: Path | None, lang: str) -> dict | None:
    """Trend and progress towards each target (``progress.csv``), by county code; None without the file."""
    if progress_csv is None:
        return None
    df = pd.read_csv(progress_csv, dtype={"county_code": str}, encoding="utf-8")
    needed = {"county_code", "first_year", "latest_year", "trend_pp_per_year", "trend_stderr_pp_per_year"}
    if not needed <= set(df.columns):
        raise InputError(
            str(progress_csv), f"lacks the column(s) {sorted(needed - set(df.columns))}.", "re-run summarise_years."
        )
    ys = sorted(int(c.split("_")[1]) for c in df.columns if c.startswith("status_"))
    fields = [
        ("trend_pp_per_year", _L(lang, "趋势 (百分点/年)", "Trend (pp/yr)"), "gap"),
        ("trend_stderr_pp_per_year", _L(lang, "趋势标准误 (百分点/年)", "Trend std. error (pp/yr)"), "area"),
    ]
    for y in ys:
        fields += [
            (f"projected_{y}_pct", _L(lang, f"按趋势预计{y}年 (%)", f"Projected {y} (%)"), "pct"),
            (
                f"required_gain_{y}_pp_per_year",
                _L(lang, f"{y}年达标所需年均增幅 (百分点/年)", f"Gain needed per year to {y} (pp/yr)"),
                "gap",
            ),
            (f"status_{y}", _L(lang, f"{y}年目标进展", f"Progress to {y}"), "status"),
        ]
    rows = {}
    for _, r in df.iterrows():
        values = []
        for key, _label, kind in fields:
            value = r.get(key, math.nan)
            if kind == "status":
                text = "—" if pd.isna(value) else str(value)
                values.append(STATUS_NAMES_ZH.get(text, text) if lang == "zh" else text)
            else:
                values.append(format_value(pd.to_numeric(value, errors="coerce"), kind, lang))
        rows[r["county_code"]] = values
    first, latest = int(df["first_year"].min()), int(df["latest_year"].max())
    title = _L(lang, f"趋势与目标进展（{first}–{latest}年）", f"Trend and progress ({first}–{latest})")
    return {"title": title, "fields": [label for _, label, _ in fields], "rows": rows}


def _series(tables, codes: list[str]) -> dict[str, list[float | None]]:
    """Each county's rate in every year (None where it has none): the panel's small chart."""
    out: dict[str, list[float | None]] = {code: [] for code in codes}
    for rates, _ in tables.values():
        by_code = dict(zip(rates["county_code"], pd.to_numeric(rates["rate_pct"], errors="coerce")))
        for code in codes:
            value = by_code.get(code, math.nan)
            out[code].append(round(float(value), 6) if np.isfinite(value) else None)
    return out


# --------------------------------------------------------------------------- grade raster


def _palette_png(grades: np.ndarray) -> bytes:
    """Grade codes as an 8-bit palette PNG in the grade colours; 255 (outside) transparent."""
    from PIL import Image

    palette = np.zeros((256, 3), dtype=np.uint8)
    for code, rgb in grading.GRADE_COLOURS.items():
        palette[code] = rgb
    image = Image.fromarray(np.ascontiguousarray(grades, dtype=np.uint8), mode="P")
    image.putpalette(palette.ravel().tolist())
    buffer = io.BytesIO()
    image.save(
        buffer, format="PNG", compress_level=6, transparency=grading.OUTSIDE
    )  # level 9: 10 % smaller, 20x slower
    return buffer.getvalue()


def _overview_in(grades: np.ndarray, transform, src_crs, dst_crs, nodata) -> tuple[np.ndarray, object]:
    """A grade overview reprojected (nearest: grades are classes) to ``dst_crs`` at about the same cell count."""
    from rasterio.enums import Resampling
    from rasterio.warp import calculate_default_transform, reproject

    h, w = grades.shape
    left, top = transform.c, transform.f
    right, bottom = left + transform.a * w, top + transform.e * h
    dst_transform, dw, dh = calculate_default_transform(src_crs, dst_crs, w, h, left, bottom, right, top)
    fill = 255 if nodata is None else nodata
    out = np.full((dh, dw), fill, dtype=grades.dtype)
    reproject(
        grades,
        out,
        src_transform=transform,
        src_crs=src_crs,
        src_nodata=fill,
        dst_transform=dst_transform,
        dst_crs=dst_crs,
        dst_nodata=fill,
        resampling=Resampling.nearest,
    )
    return out, dst_transform


def _grade_image(tif: Path, counties_crs, frame: _Frame, budget_bytes: int) -> dict | None:
    """The grade raster as ``{href, x, y, w, h, bounds, px}`` within ``budget_bytes`` (base64), else None."""
    from pyproj import CRS

    max_px = RASTER_MAX_PX
    while max_px >= _RASTER_MIN_PX:
        grades, transform, crs, nodata = read_overview(tif, max_size=max_px)
        if not CRS.from_user_input(crs).equals(counties_crs):
            # A grade raster on its source grid (GK, UTM…): its overview is drawn in the counties' CRS.
            grades, transform = _overview_in(grades, transform, crs, counties_crs, nodata)
        href = "data:image/png;base64," + base64.b64encode(_palette_png(grades)).decode("ascii")
        if len(href) <= budget_bytes:
            h, w = grades.shape
            left, top = transform.c, transform.f
            right, bottom = left + transform.a * w, top + transform.e * h
            (x0, x1), (y0, y1) = frame.xy([left, right], [top, bottom])
            return {
                "href": href,
                "x": round(float(x0), 2),
                "y": round(float(y0), 2),
                "w": round(float(x1 - x0), 2),
                "h": round(float(y1 - y0), 2),
                "bounds": (left, bottom, right, top),
                "px": (w, h),
            }
        max_px = int(max_px * 0.7)
    return None


# --------------------------------------------------------------------------- HTML


def _ui_text(lang: str) -> dict[str, str]:
    return {
        "year": _L(lang, "年份", "Year"),
        "theme": _L(lang, "专题", "Theme"),
        "county": _L(lang, "县（市、区）", "County"),
        "grade": _L(lang, "土壤侵蚀强度栅格", "Erosion grade raster"),
        "gradeLegend": _L(lang, "土壤侵蚀强度", "Erosion grade"),
        "noGrade": _L(lang, "该年份的侵蚀强度栅格未嵌入本报告", "No grade raster embedded for this year"),
        "zoomIn": _L(lang, "放大", "Zoom in"),
        "zoomOut": _L(lang, "缩小", "Zoom out"),
        "reset": _L(lang, "全图", "Whole map"),
        "series": _L(lang, "历年水土保持率 (%)", "Rate by year (%)"),
        "target": _L(lang, "目标", "target"),
        "hint": _L(
            lang,
            "滚轮缩放，拖动平移；悬停查看水土保持率，单击县查看详细数据。",
            "Wheel to zoom, drag to pan; hover for the rate, click a county for its figures.",
        ),
    }


def _display_names(gdf, rates: pd.DataFrame, lang: str) -> dict[str, str]:
    names = dict(zip(rates["county_code"], rates["county_name"]))
    if lang == "en" and "county_name_en" in gdf.columns:
        for code, en in zip(gdf["county_code"], gdf["county_name_en"]):
            if isinstance(en, str) and en.strip():
                names[code] = en.strip()
    return names


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def one_map_html(
    inputs: OneMapInputs | Mapping,
    *,
    year,
    lang: str = "zh",
    raster_budget_bytes: int = RASTER_BUDGET_BYTES,
) -> str:
    """The interactive map as an HTML fragment (a ``<div id="onemap">`` with inline SVG, JSON and script).

    ``year`` is shown first and must be one of the inputs' years.  The grade rasters share
    ``raster_budget_bytes`` (base64 size) equally; a year whose raster cannot fit even at
    200 px is left out and the map says so.  Memory: one decimated raster at a time
    (≤ 1600 × 1600 bytes) and the county polygons.
    """
    inputs = one_map_inputs(inputs)
    year = str(year)
    if year not in inputs.years:
        raise InputError(
            "one_map", f"the report's year {year} is not among the map's years {list(inputs.years)}.", "add it."
        )
    tables = _read_years(inputs)
    gdf = read_counties(inputs.counties_gpkg, layer=inputs.layer)
    for y, files in inputs.years.items():
        _check_codes(gdf, tables[y][0], inputs.counties_gpkg, files.rates_csv)
    gdf = gdf.sort_values("county_code").reset_index(drop=True)
    frame = _Frame.around(gdf.total_bounds)
    extent = max(gdf.total_bounds[2] - gdf.total_bounds[0], gdf.total_bounds[3] - gdf.total_bounds[1])
    geoms = _simplified(gdf.geometry.values, extent * SIMPLIFY_SHARE)

    rates_now = tables[year][0]
    region = rates_now.loc[rates_now["level"] == "region", "county_code"].tolist()
    names = _display_names(gdf, pd.concat([t[0] for t in tables.values()]), lang)
    target_ys = sorted({y for _, comp in tables.values() for y in target_years(comp)})
    groups, fields = _fields(target_ys, lang)
    themes = _themes(tables, target_ys, lang)
    years = list(inputs.years)

    with_grade = [y for y, f in inputs.years.items() if f.grade_tif is not None]
    images = {}
    for y in with_grade:
        image = _grade_image(inputs.years[y].grade_tif, gdf.crs, frame, raster_budget_bytes // len(with_grade))
        if image is not None:
            images[y] = image
    series = _series(tables, list(names))
    targets = {}
    for _, comp in tables.values():
        for _, r in comp.iterrows():
            targets.setdefault(r["county_code"], {}).update(
                {str(y): float(r[f"target_{y}_pct"]) for y in target_ys if pd.notna(r.get(f"target_{y}_pct"))}
            )
    gnames = grading.GRADE_NAMES_ZH if lang == "zh" else grading.GRADE_NAMES_EN
    data = {
        "year": year,
        "years": years,
        "region": region[0] if region else None,
        "names": names,
        "order": [*region, *gdf["county_code"]],
        "groups": groups,
        "fields": fields,
        "rows": _rows(tables, fields, lang),
        "trend": _trend(inputs.progress_csv, lang),
        "series": series,
        "targets": targets,
        "themes": themes,
        "grades": [[_hex(np.array(grading.GRADE_COLOURS[g]) / 255), gnames[g]] for g in (6, 5, 4, 3, 2, 1, 0, 7)],
        "images": list(images),
        "text": _ui_text(lang),
    }
    return _fragment(data, gdf, geoms, frame, images, lang)


def _fragment(data: dict, gdf, geoms, frame: _Frame, images: dict, lang: str) -> str:
    """The markup: controls, the SVG (filled for the report's year, rate theme), legend, panel, JSON, script."""
    year, fill = data["year"], data["themes"][0]["fill"][data["year"]]
    text = data["text"]
    paths, labels = [], []
    for code, geom, simple in zip(gdf["county_code"], gdf.geometry, geoms):
        name = data["names"].get(code, code)
        paths.append(
            f'<path class="county" data-code="{_e(code)}" tabindex="0" fill="{fill.get(code, _NO_DATA_FILL)}" '
            f'd="{_path_d(simple, frame)}"><title>{_e(name)}</title></path>'
        )
        point = geom.representative_point()
        lx, ly = frame.xy(point.x, point.y)
        minx, _, maxx, _ = geom.bounds
        labels.append(
            f'<text class="label" data-code="{_e(code)}" x="{float(lx):.0f}" y="{float(ly):.0f}" '
            f'data-w="{(maxx - minx) * frame.units_per_m:.0f}">{_e(name)}</text>'
        )
    image_tags = "".join(
        f'<image class="grade" data-year="{_e(y)}" x="{im["x"]}" y="{im["y"]}" width="{im["w"]}" height="{im["h"]}" '
        f'data-bounds="{" ".join(f"{b:.3f}" for b in im["bounds"])}" data-px="{im["px"][0]} {im["px"][1]}" '
        f'preserveAspectRatio="none" href="{im["href"]}" visibility="hidden"/>'
        for y, im in images.items()
    )
    options = "".join(
        f'<option value="{_e(y)}"{" selected" if y == year else ""}>{_e(_L(lang, f"{y}年", y))}</option>'
        for y in data["years"]
    )
    themes = "".join(f'<option value="{_e(t["id"])}">{_e(t["label"])}</option>' for t in data["themes"])
    counties = "".join(f'<option value="{_e(c)}">{_e(data["names"].get(c, c))}</option>' for c in data["order"])
    grade_box = (
        f'<label><input type="checkbox" id="onemap-grade"> {_e(text["grade"])}</label>' if data["images"] else ""
    )
    bounds = " ".join(f"{b:.3f}" for b in frame.crs_bounds)
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    script = _SCRIPT.read_text(encoding="utf-8")
    return (
        '<div id="onemap" class="onemap">'
        f'<div class="om-controls"><label>{_e(text["year"])} <select id="onemap-year">{options}</select></label>'
        f'<label>{_e(text["theme"])} <select id="onemap-theme">{themes}</select></label>'
        f'<label>{_e(text["county"])} <select id="onemap-county">{counties}</select></label>{grade_box}'
        f'<span class="om-zoom"><button type="button" data-zoom="1.5" title="{_e(text["zoomIn"])}">+</button>'
        f'<button type="button" data-zoom="0.6667" title="{_e(text["zoomOut"])}">−</button>'
        f'<button type="button" data-zoom="0">{_e(text["reset"])}</button></span></div>'
        '<div class="om-body"><div class="om-mapbox">'
        f'<svg id="onemap-svg" viewBox="0 0 {frame.width} {frame.height}" data-crs-bounds="{bounds}" '
        'xmlns="http://www.w3.org/2000/svg" role="img" preserveAspectRatio="xMidYMid meet">'
        f'<g class="om-view">{image_tags}<g class="om-counties">{"".join(paths)}</g>'
        f'<g class="om-labels">{"".join(labels)}</g></g></svg>'
        '<div id="onemap-tip" class="om-tip" hidden></div>'
        f'<div id="onemap-legend" class="om-legend"></div><p class="note">{_e(text["hint"])}</p></div>'
        '<div id="onemap-info" class="om-info"></div></div>'
        f'<script type="application/json" id="onemap-data">{payload}</script>'
        f"<script>{script}</script></div>"
    )


#: Styles of the map (added to the report's CSS when the map is present).
ONE_MAP_CSS = """
.onemap{border:1px solid #cfd8dc;border-radius:6px;padding:10px;background:#fbfcfb}
.om-controls{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin-bottom:8px;font-size:14px}
.om-controls select,.om-controls button{font:inherit;font-size:14px}
.om-zoom button{min-width:30px;margin-left:2px}
.om-body{display:flex;flex-wrap:wrap;gap:12px}.om-mapbox{flex:1 1 560px;position:relative;min-width:300px}
#onemap-svg{width:100%;height:560px;background:#eef3f7;border:1px solid #ccc;cursor:grab;touch-action:none;
 display:block}
#onemap-svg.dragging{cursor:grabbing}
#onemap-svg image.grade{image-rendering:pixelated}
#onemap-svg path.county{stroke:#4d4d4d;stroke-width:0.8;vector-effect:non-scaling-stroke;fill-rule:evenodd;
 cursor:pointer}
#onemap-svg path.county:hover{stroke:#000;stroke-width:1.6}
#onemap-svg path.county.sel{stroke:#0d47a1;stroke-width:3}
#onemap-svg .om-labels text{text-anchor:middle;dominant-baseline:middle;pointer-events:none;fill:#111;
 paint-order:stroke;stroke:#fff;stroke-linejoin:round}
.om-tip{position:absolute;pointer-events:none;background:rgba(33,33,33,.9);color:#fff;padding:3px 8px;border-radius:3px;
 font-size:13px;white-space:nowrap}
.om-legend{display:flex;flex-wrap:wrap;gap:2px 10px;font-size:12px;margin-top:6px}.om-legend b{margin-right:6px}
.om-legend i{display:inline-block;width:14px;height:12px;border:1px solid #777;margin-right:4px;vertical-align:-1px}
.om-info{flex:0 1 340px;font-size:13px;max-height:640px;overflow-y:auto}.om-info h3{margin:0 0 4px}.om-info table{margin:4px 0 10px}
.om-info th{text-align:left;background:#eef2f6;font-weight:normal}.om-info td{text-align:right;white-space:nowrap}
.om-info svg{width:100%;height:auto;border:1px solid #ddd;background:#fff}
@media print{.om-controls,.om-mapbox .note{display:none}#onemap-svg{height:auto}.om-info{max-height:none}}
"""
