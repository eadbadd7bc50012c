"""The assessment report: one self-contained HTML file (opens offline, can be e-mailed).

:func:`write_report` puts together, in Chinese by default (``lang="en"`` for English):

1. summary — region rate, land and erosion area, how many counties meet each target;
2. the interactive county map (水土保持一张图, :mod:`swc_raster.report_map`) when ``one_map``
   is given: every monitored year, pan and zoom, a county's figures on hover and click;
3. county table, targets table, area by grade, erosion by land use — the same
   :class:`swc_raster.tables.Table` objects as the workbook, printed with the same
   number formats (areas and percentages with 2 decimals and thousands separators);
4. maps (PNG files embedded as base64 ``data:`` URIs);
5. multi-year section when ``multi_year`` is given;
6. method — every entry of ``method`` (T per county, CRS, resolution, …), SHA-256 of
   every input file and of the tables and maps used, and software versions.

No external resources: inline CSS, embedded images, the CJK font of the maps embedded as a
subset (WOFF, only the characters used) so Chinese shows without any system font, no
links out, and no script except the interactive map's own inline one. A Content-Security-Policy
tells the browser to load nothing that is not inside the file.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from swc_raster import fonts, report_map
from swc_raster.atomic import atomic_outputs
from swc_raster.csv_files import read_csv
from swc_raster.errors import InputError, InputFileError
from swc_raster.grading import GRADE_NAMES_ZH as _GRADE_ZH
from swc_raster.progress import STATUS_NAMES_ZH
from swc_raster.tables import (
    DEMO_BANNER,
    Table,
    check_total_matches_rates,
    erosion_forms_text,
    file_sha256,
    format_value,
    grades_table,
    has_wind,
    input_limits,
    input_limits_heading,
    landuse_table,
    method_label,
    process_table,
    rates_table,
    read_county_rates,
    read_erosion_by_landcover,
    read_erosion_by_process,
    read_target_comparison,
    region_row,
    software_versions,
    target_years,
    targets_table,
)

__all__ = ["write_report", "file_sha256", "MAP_CAPTIONS"]

#: Captions of the maps of :mod:`swc_raster.maps`, by ``map_pngs`` key.
MAP_CAPTIONS = {
    "rate": ("各县（市、区）水土保持率", "Soil and water conservation rate by county"),
    "target_gap": ("水土保持率与目标差距", "Conservation rate against targets"),
    "grade": ("土壤侵蚀强度分级", "Soil erosion intensity grades"),
    "landcover": ("土地利用现状", "Land use"),
}
_MULTI_CAPTIONS = {
    "rates_by_year": ("历年水土保持率", "Conservation rate by year"),
    "progress": ("变化与目标进展", "Change and progress towards targets"),
    "charts": ("图表", "Charts"),
    "progress_chart": (
        "各县（市、区）水土保持率逐年变化与目标",
        "Conservation rate by year and the targets, by county",
    ),
}
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

_CSS = """
body{font-family:"swc-cjk","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC","SimHei",sans-serif;
 margin:0 auto;max-width:1100px;padding:0 24px 48px;color:#1a1a1a;line-height:1.6;font-size:15px}
h1{font-size:26px;margin:28px 0 4px}h2{font-size:20px;border-bottom:2px solid #2f6f3e;padding-bottom:4px;margin-top:36px}
h3{font-size:16px;margin:20px 0 6px}.sub{color:#555;margin:0 0 12px}
.demo{background:#c62828;color:#fff;font-weight:bold;padding:10px 16px;border-radius:4px;margin:16px 0;font-size:17px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid #cfd8dc;border-radius:6px;padding:10px 16px;min-width:180px;background:#f7faf7}
.card .v{font-size:24px;font-weight:bold;color:#2f6f3e}.card .k{font-size:13px;color:#555}
table{border-collapse:collapse;margin:8px 0 4px;font-size:13px;width:100%}
caption{caption-side:top;text-align:left;font-weight:bold;padding:4px 0;font-size:14px}
th,td{border:1px solid #9e9e9e;padding:4px 8px}th{background:#dde6f0;font-weight:bold;text-align:center}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.c{text-align:center}
tr.total td{background:#eef3e8}#process-table td:nth-child(3){white-space:nowrap}tr.region td{font-weight:bold;background:#f2f2f2}td.miss{background:#f8d7da}td.met{background:#e2f0d9}
td.ontrack{background:#eef6e8}td.st{white-space:nowrap}
table:not(.inputs) th:nth-child(-n+2),table:not(.inputs) td:nth-child(-n+2){white-space:nowrap}
.note{color:#555;font-size:13px;margin:2px 0 12px}figure{margin:16px 0 32px}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-weight:bold;margin-top:6px;text-align:center}dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}
dl.kv dt{font-weight:bold}dl.kv dd{margin:0;word-break:break-all}
code{font-size:12px;font-family:ui-monospace,Consolas,"DejaVu Sans Mono",monospace,"swc-cjk"}
.limits{border:2px solid #b26a00;background:#fff4e0;border-radius:4px;padding:8px 16px;margin:16px 0}
.limits h2{border:0;margin:4px 0;padding:0;font-size:17px;color:#8a4b00}.limits ul{margin:4px 0 6px;padding-left:22px}
nav ol{columns:2}footer{margin-top:40px;color:#777;font-size:12px}
@media print{.demo,.limits{-webkit-print-color-adjust:exact;print-color-adjust:exact}figure{break-inside:avoid}}
"""


def _L(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _data_uri(path: Path) -> str:
    mime = _IMAGE_TYPES.get(path.suffix.lower())
    if mime is None:
        raise InputError(str(path), "not an image the report can embed.", "pass .png (or .svg/.jpg) files.")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _need_file(path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputFileError(
            str(p), f"the {what} does not exist.", "run the workflow step that writes it, or fix the path."
        )
    return p


def table_html(table: Table, lang: str, table_id: str) -> str:
    """A :class:`Table` as an HTML table (formatted like the workbook)."""
    out = [f'<table id="{_e(table_id)}"><caption>{_e(table.title)}</caption><thead><tr>']
    out += [f"<th>{_e(h)}</th>" for h in table.headers]
    out.append("</tr></thead><tbody>")
    for i, (raw, shown) in enumerate(zip(table.rows, table.formatted(lang))):
        row_class = "region" if i in table.region_rows else "total" if i in table.total_rows else ""
        out.append(f'<tr class="{row_class}">' if row_class else "<tr>")
        for value, text, kind in zip(raw, shown, table.kinds):
            cls = "num" if kind in ("area", "pct", "gap", "t", "int") else "c" if kind in ("code", "met") else ""
            if kind == "met" and value is False:
                cls += " miss"
            elif kind == "met" and value is True:
                cls += " met"
            out.append(f'<td class="{cls.strip()}">{_e(text)}</td>' if cls.strip() else f"<td>{_e(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="note">{_e(table.note)}</p>')
    return "".join(out)


#: Chinese headers for the contract's column names in generic (multi-year) tables.
_COLUMN_ZH = {
    "year": "年份",
    "level": "级别",
    "county_code": "行政区划代码",
    "county_name": "县（市、区）",
    "t_allowable_t_km2": "T (t/(km²·a))",
    "land_area_km2": "土地面积 (km²)",
    "erosion_area_km2": "水土流失面积 (km²)",
    "rate_pct": "水土保持率 (%)",
    "nodata_area_km2": "无侵蚀数据面积 (km²)",
    "gap_area_km2": "数据缺失面积 (km²)",
    **{f"area_grade{g}_km2": f"{_GRADE_ZH[g]} (km²)" for g in range(1, 7)},
    "year_from": "起始年份",
    "year_to": "终止年份",
    "rate_change_pp": "水土保持率变化 (百分点)",
    "erosion_area_change_km2": "水土流失面积变化 (km²)",
    "latest_year": "最新年份",
    "latest_rate_pct": "最新水土保持率 (%)",
    "trend_pp_per_year": "趋势 (百分点/年)",
    "first_year": "起始年份",
    "n_years": "年数",
    "years_apart": "间隔年数",
    "rate_from_pct": "起始水土保持率 (%)",
    "rate_to_pct": "终止水土保持率 (%)",
    "trend_stderr_pp_per_year": "趋势标准误 (百分点/年)",
    "fitted_latest_pct": "趋势线最新年份值 (%)",
    **{f"area_grade{g}_change_km2": f"{_GRADE_ZH[g]}面积变化 (km²)" for g in range(1, 7)},
    "nodata_area_change_km2": "无侵蚀数据面积变化 (km²)",
    "gap_area_change_km2": "数据缺失面积变化 (km²)",
}
#: Columns of year counts and years: printed as they are (no decimals, no separators).
_INT_COLUMNS = {"year", "first_year", "latest_year", "year_from", "year_to", "n_years", "years_apart"}
_LEVEL_ZH = {"county": "县级", "region": "全区"}


def _column_zh(col: str) -> str:
    """Chinese header of a contract column, including the per-target-year ones."""
    if col in _COLUMN_ZH:
        return _COLUMN_ZH[col]
    m = re.fullmatch(r"(target|projected|required_gain|status|gap|met)_(\d{4})(?:_(pct|pp|pp_per_year))?", col)
    if m:
        what, y = m.group(1), m.group(2)
        return {
            "target": f"{y}年目标 (%)",
            "projected": f"按趋势预计{y}年 (%)",
            "required_gain": f"{y}年达标所需年均增幅 (百分点/年)",
            "status": f"{y}年目标进展",
            "gap": f"与{y}年目标差距 (百分点)",
            "met": f"{y}年是否达标",
        }[what]
    return col


def _cell_zh(col: str, value: str) -> str:
    """Chinese text of the coded values of the multi-year tables (level, status)."""
    if col == "level":
        return _LEVEL_ZH.get(value, value)
    if col.startswith("status_"):
        return STATUS_NAMES_ZH.get(value, value)
    return value


def _column_kind(col: str) -> str:
    if col.startswith("t_allowable"):
        return "t"
    if col.startswith("trend_stderr"):
        return "area"
    if any(word in col for word in ("gap_20", "change", "diff", "trend", "gain")):
        return "gap"
    return "area"  # 2 decimals, thousands separators (areas and percentages alike)


def _csv_html(path: Path, caption: str, table_id: str, lang: str = "zh") -> str:
    """Any CSV (e.g. the multi-year tables) as an HTML table, numbers printed like the workbook."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    out = [f'<table id="{_e(table_id)}"><caption>{_e(caption)}</caption><thead><tr>']
    out += [f"<th>{_e(_column_zh(c) if lang == 'zh' else c)}</th>" for c in df.columns]
    out.append("</tr></thead><tbody>")
    for _, row in df.iterrows():
        is_region = str(row.get("level", "")) == "region"
        out.append('<tr class="region">' if is_region else "<tr>")
        for col, value in row.items():
            text, cls = (_cell_zh(col, value) if lang == "zh" else value), ""
            if "code" not in col and col not in _INT_COLUMNS and value.strip():
                try:
                    number = float(value)
                except ValueError:
                    number = None
                if number is not None:
                    cls = "num"
                    if "." in value or "e" in value.lower() or col.startswith("t_allowable"):
                        text = format_value(number, _column_kind(col))
            out.append(f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _figure(path: Path, caption: str, fig_id: str, number: int | None = None, lang: str = "zh") -> str:
    """An embedded image with its caption below, numbered (图 1, Figure 1) when ``number`` is given."""
    label = caption if number is None else _L(lang, f"图 {number}　{caption}", f"Figure {number}. {caption}")
    return (
        f'<figure id="{_e(fig_id)}"><img alt="{_e(caption)}" src="{_data_uri(path)}">'
        f"<figcaption>{_e(label)}</figcaption></figure>"
    )


def _rows_in_order(df: pd.DataFrame) -> pd.DataFrame:
    """Counties by code, then the region row(s) (``level == 'region'``) last."""
    level = df["level"] if "level" in df.columns else pd.Series("county", index=df.index)
    return df.assign(_r=(level == "region").astype(int)).sort_values(["_r", "county_code"], kind="stable")


def _rates_by_year_html(df: pd.DataFrame, caption: str, table_id: str, lang: str, source: str) -> str:
    """``rates_by_year.csv`` as one row per county (region last), one column per year, plus the change."""
    df = df.copy()
    df["county_code"] = df["county_code"].astype(str)
    df["year"] = df["year"].astype(int)
    df["rate_pct"] = pd.to_numeric(df["rate_pct"], errors="coerce")
    years = sorted(df["year"].unique())
    latest = df.sort_values("year").groupby("county_code").tail(1)
    first = _rows_in_order(latest)
    head = [_L(lang, "行政区划代码", "Code"), _L(lang, "县（市、区）", "County")]
    head += [_L(lang, f"{y}年", str(y)) for y in years]
    change = len(years) > 1
    if change:
        head.append(_L(lang, f"{years[0]}–{years[-1]}年变化 (百分点)", f"Change {years[0]}–{years[-1]} (pp)"))
    out = [f'<table id="{_e(table_id)}"><caption>{_e(caption)}</caption><thead><tr>']
    out += [f"<th>{_e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    by_code = {code: g.set_index("year")["rate_pct"] for code, g in df.groupby("county_code")}
    for _, r in first.iterrows():
        series = by_code[r["county_code"]]
        region = "level" in r and r["level"] == "region"
        out.append('<tr class="region">' if region else "<tr>")
        out.append(f'<td class="c">{_e(r["county_code"])}</td><td>{_e(r["county_name"])}</td>')
        for y in years:
            out.append(f'<td class="num">{_e(format_value(series.get(y, float("nan")), "pct"))}</td>')
        if change:
            d = series.get(years[-1], float("nan")) - series.get(years[0], float("nan"))
            out.append(f'<td class="num">{_e(format_value(d, "gap"))}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    out.append(
        '<p class="note">'
        + _e(
            _L(
                lang,
                f"单位：%。区域值按面积加权。逐年土地面积、水土流失面积及各强度等级面积见 {source}。",
                f"Per cent. Region values are area-weighted. Areas by year and grade: {source}.",
            )
        )
        + "</p>"
    )
    return "".join(out)


_STATUS_CLASS = {"met": "met", "on track": "ontrack", "not met": "miss", "off track": "miss"}


def _progress_html(df: pd.DataFrame, caption: str, table_id: str, lang: str, source: str) -> str:
    """``progress.csv``: latest rate, trend and, per target year, target, projection, gain needed, status."""
    df = _rows_in_order(df.assign(county_code=df["county_code"].astype(str)))
    years = sorted({int(m.group(1)) for c in df.columns if (m := re.fullmatch(r"status_(\d{4})", c))})
    latest = sorted({int(v) for v in pd.to_numeric(df.get("latest_year"), errors="coerce").dropna()})
    first = sorted({int(v) for v in pd.to_numeric(df.get("first_year"), errors="coerce").dropna()})
    rate_head = (
        _L(lang, f"{latest[0]}年水土保持率 (%)", f"Rate {latest[0]} (%)")
        if len(latest) == 1
        else _L(lang, "最新水土保持率 (%)", "Latest rate (%)")
    )
    head = [_L(lang, "行政区划代码", "Code"), _L(lang, "县（市、区）", "County"), rate_head]
    head.append(_L(lang, "趋势 (百分点/年)", "Trend (pp/yr)"))
    for y in years:
        head += [
            _L(lang, f"{y}年目标 (%)", f"Target {y} (%)"),
            _L(lang, f"按趋势预计{y}年 (%)", f"Projected {y} (%)"),
            _L(lang, f"{y}年达标所需年均增幅 (百分点/年)", f"Gain needed per year to {y} (pp/yr)"),
            _L(lang, f"{y}年目标进展", f"Progress to {y}"),
        ]
    out = [f'<table id="{_e(table_id)}"><caption>{_e(caption)}</caption><thead><tr>']
    out += [f"<th>{_e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")

    def num(value, kind):
        return f'<td class="num">{_e(format_value(pd.to_numeric(value, errors="coerce"), kind))}</td>'

    for _, r in df.iterrows():
        out.append('<tr class="region">' if r.get("level") == "region" else "<tr>")
        out.append(f'<td class="c">{_e(r["county_code"])}</td><td>{_e(r["county_name"])}</td>')
        out.append(num(r.get("latest_rate_pct"), "pct") + num(r.get("trend_pp_per_year"), "gap"))
        for y in years:
            status = str(r.get(f"status_{y}", ""))
            shown = STATUS_NAMES_ZH.get(status, status) if lang == "zh" else status
            cls = " ".join(["c st", _STATUS_CLASS.get(status, "")]).strip()
            gain = r.get(f"required_gain_{y}_pp_per_year")
            out.append(
                num(r.get(f"target_{y}_pct"), "pct")
                + num(r.get(f"projected_{y}_pct"), "pct")
                + num(float("nan") if status == "met" else gain, "gap")  # met: no gain needed
                + f'<td class="{cls}">{_e(shown)}</td>'
            )
        out.append("</tr>")
    out.append("</tbody></table>")
    span = f"{first[0]}–{latest[-1]}" if first and latest else ""
    out.append(
        '<p class="note">'
        + _e(
            _L(
                lang,
                f"趋势：{span}年逐年水土保持率的最小二乘线性趋势；“按趋势预计”为该趋势线外推至目标年的值。"
                "达标所需年均增幅 =（目标 − 最新水土保持率）/（目标年 − 最新年份），已达标者不列。"
                "已达标：最新水土保持率 ≥ 目标；按趋势可达标：趋势 > 0 且不低于所需年均增幅；"
                "按趋势难达标：趋势低于所需年均增幅；未达标：目标年已到且低于目标。"
                f"趋势标准误等完整数据见 {source}。",
                f"Trend: least-squares line through the yearly rates {span}; 'projected' extends that line to the "
                "target year. Gain needed per year = (target − latest rate) / (target year − latest year), not shown when met. "
                "met: latest rate ≥ target; on track: trend > 0 and ≥ the gain needed; off track: trend below the "
                f"gain needed; not met: target year reached and rate below target. Full table: {source}.",
            )
        )
        + "</p>"
    )
    return "".join(out)


def _kv_html(value, lang: str) -> str:
    """Render any method value: dicts as definition lists, lists as comma lists, scalars as text."""
    if isinstance(value, Mapping):
        items = "".join(f"<dt>{_e(_method_label(k, lang))}</dt><dd>{_kv_html(v, lang)}</dd>" for k, v in value.items())
        return f'<dl class="kv">{items}</dl>'
    if isinstance(value, (list, tuple, set)):
        return _e(", ".join(str(v) for v in value))
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return _e(f"{value:.0f}")
    return _e(value)


def _method_label(key, lang: str) -> str:
    return method_label(key, lang)


def _inputs_html(inputs, lang: str) -> str:
    """Input files with size and SHA-256 (computed now unless given as {'path', 'sha256'})."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = {Path(inputs).name: inputs}
    if isinstance(inputs, (list, tuple)):
        inputs = {Path(p).name: p for p in inputs}
    rows = []
    for name, spec in inputs.items():
        given = None
        if isinstance(spec, Mapping):
            given = spec.get("sha256")
            spec = spec.get("path", "")
        path = Path(str(spec))
        if path.is_file():
            digest, size = file_sha256(path), f"{path.stat().st_size:,}"
            if given and given != digest:
                digest += _L(lang, "（与记录的校验值不一致！）", " (differs from the recorded checksum!)")
        else:
            digest, size = (given or _L(lang, "文件不存在", "file not found")), "—"
        rows.append(
            f'<tr><td>{_e(_method_label(name, lang))}</td><td><code>{_e(path)}</code></td><td class="num">{_e(size)}</td>'
            f"<td><code>{_e(digest)}</code></td></tr>"
        )
    head = _L(
        lang,
        "<th>名称</th><th>路径</th><th>字节数</th><th>SHA-256</th>",
        "<th>Name</th><th>Path</th><th>Bytes</th><th>SHA-256</th>",
    )
    return f'<table class="inputs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _summary(rates: pd.DataFrame, comp: pd.DataFrame, year, lang: str, extra_lines: Sequence[str] = ()) -> str:
    reg = region_row(rates)
    counties = rates[rates["level"] == "county"]
    n = len(counties)
    rc = region_row(comp)
    region = str(reg["county_name"]) if reg is not None else ""
    cards = []
    if reg is not None:
        cards.append(
            (
                format_value(reg["rate_pct"], "pct") + "%",
                _L(lang, f"{region}水土保持率（面积加权）", f"{region} conservation rate (area-weighted)"),
            )
        )
        cards.append((format_value(reg["land_area_km2"], "area") + " km²", _L(lang, "土地面积", "Land area")))
        cards.append((format_value(reg["erosion_area_km2"], "area") + " km²", _L(lang, "水土流失面积", "Erosion area")))
    lines = []
    for y in target_years(comp):
        met = comp[(comp["level"] == "county") & (comp[f"met_{y}"] == True)]  # noqa: E712 (object column)
        miss = comp[(comp["level"] == "county") & (comp[f"met_{y}"] == False)]  # noqa: E712
        cards.append(
            (f"{len(met)} / {n}", _L(lang, f"达到{y}年目标的县（市、区）", f"counties meeting the {y} target"))
        )
        text = _L(
            lang,
            f"对照{y}年目标：{n} 个县（市、区）中 {len(met)} 个达标",
            f"Against the {y} target: {len(met)} of {n} counties meet it",
        )
        if len(miss):
            text += _L(
                lang, f"，未达标：{'、'.join(miss['county_name'])}", f"; not met: {', '.join(miss['county_name'])}"
            )
        if rc is not None:
            ok = rc[f"met_{y}"]
            text += _L(
                lang,
                f"。{region}为 {format_value(rc['rate_pct'], 'pct')}%，目标 "
                f"{format_value(rc[f'target_{y}_pct'], 'pct')}%，差距 {format_value(rc[f'gap_{y}_pp'], 'gap')} 个百分点（"
                f"{format_value(ok, 'met', lang)}）。",
                f". {region}: {format_value(rc['rate_pct'], 'pct')}% against {format_value(rc[f'target_{y}_pct'], 'pct')}%, "
                f"gap {format_value(rc[f'gap_{y}_pp'], 'gap')} pp ({format_value(ok, 'met', lang)}).",
            )
        lines.append(text)
    if reg is not None and float(reg["gap_area_km2"] or 0) > 0:
        lines.append(
            _L(
                lang,
                f"数据缺失面积 {format_value(reg['gap_area_km2'], 'area')} km²（侵蚀栅格未覆盖，已从分母中扣除）。",
                f"Data gap {format_value(reg['gap_area_km2'], 'area')} km² (outside the erosion raster; "
                "excluded from the denominator).",
            )
        )
    ts = sorted({float(t) for t in counties["t_allowable_t_km2"].dropna()})
    if ts:
        lines.append(
            _L(
                lang,
                f"允许土壤流失量 T：{'、'.join(format_value(t, 't') for t in ts)} t/(km²·a)（各县取值见“方法与参数”）。",
                f"Allowable soil loss T: {', '.join(format_value(t, 't') for t in ts)} t/(km²·a) "
                "(per county in 'Method and parameters').",
            )
        )
    lines += [line for line in extra_lines if line]
    card_html = "".join(
        f'<div class="card"><div class="v">{_e(v)}</div><div class="k">{_e(k)}</div></div>' for v, k in cards
    )
    items = "".join(f"<li>{_e(t)}</li>" for t in lines)
    return f'<div class="cards">{card_html}</div><ul id="summary-list">{items}</ul>'


def input_limits_html(method: Mapping | None, lang: str) -> str:
    """The notice box listing the results this year's inputs cannot give (empty when nothing is missing)."""
    limits = input_limits(method, lang)
    if not limits:
        return ""
    items = "".join(f"<li>{_e(text)}</li>" for text in limits)
    return f'<div class="limits" id="input-limits"><h2>{_e(input_limits_heading(lang))}</h2><ul>{items}</ul></div>'


def process_lead(by_process: pd.DataFrame, lang: str) -> str:
    """One sentence on the region's water, wind and total erosion, or that the year has water erosion only."""
    reg = by_process[by_process["level"] == "region"].set_index("process")
    if not has_wind(by_process):
        return _L(
            lang,
            "本年只有水力侵蚀数据（无风力侵蚀图层）：水土流失面积即水力侵蚀面积。",
            "This year has water erosion only (no wind-erosion layer): the erosion area is the water erosion.",
        )
    if not {"water", "wind", "total"} <= set(reg.index):
        return ""
    area = {p: format_value(reg.loc[p, "erosion_area_km2"], "area") for p in ("water", "wind", "total")}
    overlap = format_value(reg.loc["total", "overlap_area_km2"], "area")
    region = str(reg.loc["total", "county_name"])
    return _L(
        lang,
        f"{region}水土流失面积 {area['total']} km²：水力侵蚀 {area['water']} km²，风力侵蚀 {area['wind']} km²，"
        f"两者重叠 {overlap} km² 只计一次。",
        f"{region}: erosion area {area['total']} km² — water {area['water']} km², wind {area['wind']} km², "
        f"the {overlap} km² eroded by both counted once.",
    )


def process_section_html(by_process: pd.DataFrame, lang: str) -> str:
    """The by-process section: :func:`process_lead`, then the table."""
    lead = process_lead(by_process, lang)
    intro = f'<p id="process-lead">{_e(lead)}</p>' if lead else ""
    return intro + table_html(process_table(by_process, lang), lang, "process-table")


def t_sensitivity_table(rates: pd.DataFrame, sensitivity: pd.DataFrame, lang: str = "zh") -> Table:
    """Each county's rate with its configured T and at each alternative T (``t_sensitivity.csv``), region last."""
    ts = sorted({float(t) for t in sensitivity["t_km2"]})
    headers = [
        _L(lang, "行政区划代码", "Code"),
        _L(lang, "县（市、区）", "County"),
        _L(lang, "采用的 T (t/(km²·a))", "T used (t/(km²·a))"),
        _L(lang, "水土保持率 (%)", "Rate (%)"),
    ] + [_L(lang, f"T = {t:g} 时的水土保持率 (%)", f"Rate at T = {t:g} (%)") for t in ts]
    table = Table(
        "t_sensitivity",
        _L(lang, "T 敏感性", "T sensitivity"),
        _L(lang, "各县（市、区）在不同允许土壤流失量 T 下的水土保持率", "Rate of each county at other values of T"),
        headers,
        ["code", "text", "t", "pct"] + ["pct"] * len(ts),
        note=_L(
            lang,
            "同一次计数中统计：每一列假定所有县采用该 T；T 只移动微度与轻度的界线。区域值按面积加权。",
            "Counted in the same pass as the grades: each column gives every county that T; T moves only the "
            "slight/light boundary. Region values are area-weighted.",
        ),
    )
    sens = sensitivity.assign(
        county_code=sensitivity["county_code"].astype(str), t_km2=sensitivity["t_km2"].astype(float)
    )
    by = {(c, t): r for c, t, r in zip(sens["county_code"], sens["t_km2"], sens["rate_pct"])}
    for i, (_, r) in enumerate(rates.iterrows()):
        code = str(r["county_code"])
        table.rows.append(
            [code, r["county_name"], r["t_allowable_t_km2"], r["rate_pct"], *[by.get((code, t)) for t in ts]]
        )
        if r["level"] == "region":
            table.region_rows.add(i)
    return table


def _t_table(rates: pd.DataFrame, lang: str) -> str:
    rows = "".join(
        f'<tr><td class="c">{_e(r["county_code"])}</td><td>{_e(r["county_name"])}</td>'
        f'<td class="num">{_e(format_value(r["t_allowable_t_km2"], "t"))}</td></tr>'
        for _, r in rates[rates["level"] == "county"].iterrows()
    )
    head = _L(
        lang,
        "<th>行政区划代码</th><th>县（市、区）</th><th>T (t/(km²·a))</th>",
        "<th>Code</th><th>County</th><th>T (t/(km²·a))</th>",
    )
    return f'<table id="t-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _multi_year_html(multi_year: Mapping, lang: str, first_figure: int = 1) -> str:
    parts = []
    counter = [0]
    figures = [first_figure - 1]

    def render(key, value):
        zh_en = _MULTI_CAPTIONS.get(str(key))
        caption = _L(lang, *zh_en) if zh_en else str(key)
        if isinstance(value, Mapping):
            for k, v in value.items():
                render(k, v)
            return
        path = _need_file(value, f"multi-year file {key!r}")
        counter[0] += 1
        table_id = f"multi-{counter[0]}"
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path, dtype={"county_code": str}, encoding="utf-8")
            if key == "rates_by_year" and {"year", "county_code", "county_name", "rate_pct"} <= set(df.columns):
                parts.append(_rates_by_year_html(df, caption, table_id, lang, path.name))
            elif key == "progress" and {"county_code", "county_name", "latest_rate_pct"} <= set(df.columns):
                parts.append(_progress_html(df, caption, table_id, lang, path.name))
            else:
                parts.append(_csv_html(path, caption, table_id, lang))
        else:
            figures[0] += 1
            parts.append(_figure(path, caption, f"multi-fig-{counter[0]}", figures[0], lang))

    for key, value in multi_year.items():
        render(key, value)
    return "".join(parts)


def _csp(scripts: bool) -> str:
    """The page may load nothing from outside itself: images and fonts only as data: URIs."""
    script = "'unsafe-inline'" if scripts else "'none'"
    return f"default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; script-src {script}"


def _one_map_files(inputs: report_map.OneMapInputs) -> dict[str, os.PathLike]:
    """The interactive map's input files, for the checksum list."""
    files: dict[str, os.PathLike] = {"one map counties": inputs.counties_gpkg}
    for year, f in inputs.years.items():
        files[f"one map {year} county_rates.csv"] = f.rates_csv
        files[f"one map {year} target_comparison.csv"] = f.comparison_csv
        if f.grade_tif is not None:
            files[f"one map {year} erosion_grade.tif"] = f.grade_tif
    if inputs.progress_csv is not None:
        files["one map progress.csv"] = inputs.progress_csv
    return files


def write_report(
    out_html: str | os.PathLike,
    *,
    year,
    county_rates_csv: str | os.PathLike,
    target_comparison_csv: str | os.PathLike,
    erosion_by_landcover_csv: str | os.PathLike,
    map_pngs: Mapping[str, str | os.PathLike],
    method: Mapping,
    lang: str = "zh",
    demo: bool = False,
    multi_year: Mapping | None = None,
    one_map: Mapping | None = None,
    one_map_raster_bytes: int = report_map.RASTER_BUDGET_BYTES,
    t_sensitivity_csv: str | os.PathLike | None = None,
    erosion_by_process_csv: str | os.PathLike | None = None,
) -> Path:
    """Write the self-contained HTML assessment report and return its path.

    ``map_pngs``: ``{"rate": ..., "target_gap": ..., "grade": ..., "landcover": ...}`` (other
    keys are shown with the key as caption).  ``method``: every parameter to record — any
    nesting; an ``inputs`` entry (``{name: path}`` or ``{name: {"path", "sha256"}}``) is listed
    with SHA-256 checksums.  ``multi_year``: ``{"rates_by_year": csv, "progress": csv,
    "charts": {caption: png}}`` (any CSV/PNG values, nested dicts allowed).  ``one_map``:
    the interactive county map's inputs, ``{"counties": gpkg, "years": {year: {"rates": csv,
    "comparison": csv, "grade": tif}}, "progress": csv}`` (``grade`` and ``progress``
    optional; see :func:`swc_raster.report_map.one_map_inputs`); its grade rasters share
    ``one_map_raster_bytes``.  ``t_sensitivity_csv``: the year's ``t_sensitivity.csv`` (each
    county's rate at alternative T values), shown as a table after the grades.
    ``erosion_by_process_csv``: the year's ``erosion_by_process.csv`` (water, wind and total
    erosion per county and grade), shown as a section after the grades; its total must equal
    ``county_rates.csv``'s erosion area.  ``method["input_limits"]`` (``[{"zh", "en"}, ...]``,
    results the year's inputs cannot give) is shown in a notice box under the title.
    """
    if lang not in ("zh", "en"):
        raise InputError("lang", f"unknown language {lang!r}.", "use 'zh' (default) or 'en'.")
    rates = read_county_rates(county_rates_csv)
    comp = read_target_comparison(target_comparison_csv)
    ebl = read_erosion_by_landcover(erosion_by_landcover_csv)
    for df, path in ((rates, county_rates_csv), (comp, target_comparison_csv), (ebl, erosion_by_landcover_csv)):
        if {str(y) for y in df["year"].unique()} != {str(year)}:
            raise InputError(
                str(path),
                f"the table is not for {year} (years {sorted(map(str, df['year'].unique()))}).",
                "pass the tables of the report's year.",
            )
    by_process = None
    if erosion_by_process_csv is not None:
        by_process = read_erosion_by_process(erosion_by_process_csv)
        if {str(y) for y in by_process["year"].unique()} != {str(year)}:
            raise InputError(
                str(erosion_by_process_csv),
                f"the table is not for {year} (years {sorted(map(str, by_process['year'].unique()))}).",
                "pass the tables of the report's year.",
            )
        check_total_matches_rates(by_process, rates, erosion_by_process_csv)
    # a year with wind erosion says in the summary how water and wind make up the erosion area
    summary_extra = [process_lead(by_process, lang)] if by_process is not None and has_wind(by_process) else []
    maps = {key: _need_file(p, f"map {key!r}") for key, p in map_pngs.items()}
    map_inputs = report_map.one_map_inputs(one_map) if one_map else None
    reg = region_row(rates)
    region = str(reg["county_name"]) if reg is not None else ""

    title = _L(lang, f"{region}{year}年水土保持率评估报告", f"{region} soil and water conservation assessment, {year}")
    sections: list[tuple[str, str, str]] = []
    sections.append(("summary", _L(lang, "摘要", "Summary"), _summary(rates, comp, year, lang, summary_extra)))
    if map_inputs is not None:
        sections.append(
            (
                "one-map",
                _L(lang, "水土保持一张图", "Interactive county map"),
                report_map.one_map_html(map_inputs, year=year, lang=lang, raster_budget_bytes=one_map_raster_bytes),
            )
        )
    sections.append(
        (
            "counties",
            _L(lang, "各县（市、区）水土保持率", "Rates by county"),
            table_html(rates_table(rates, lang), lang, "county-table"),
        )
    )
    sections.append(
        (
            "targets",
            _L(lang, "与目标对比", "Comparison with targets"),
            table_html(targets_table(rates, comp, lang), lang, "target-table"),
        )
    )
    sections.append(
        (
            "grades",
            _L(lang, "水土流失面积按强度分级", "Erosion area by grade"),
            table_html(grades_table(rates, lang), lang, "grade-table"),
        )
    )
    if by_process is not None:
        sections.append(
            (
                "erosion-by-process",
                _L(lang, "水土流失面积按侵蚀类型（水力、风力）", "Erosion area by process (water, wind)")
                if has_wind(by_process)
                else _L(
                    lang, "水土流失面积按侵蚀类型（本年仅水力侵蚀）", "Erosion area by process (water only this year)"
                ),
                process_section_html(by_process, lang),
            )
        )
    if t_sensitivity_csv is not None:
        sens = read_csv(_need_file(t_sensitivity_csv, "t_sensitivity.csv"))
        sections.append(
            (
                "t-sensitivity",
                _L(lang, "水土保持率对允许土壤流失量 T 的敏感性", "Sensitivity of the rate to T"),
                table_html(t_sensitivity_table(rates, sens, lang), lang, "t-sensitivity-table"),
            )
        )
    sections.append(
        (
            "landuse",
            _L(lang, "水土流失面积按土地利用类型", "Erosion area by land use"),
            table_html(landuse_table(ebl, rates, lang), lang, "landuse-table"),
        )
    )
    if maps:
        figs = "".join(
            _figure(p, _L(lang, *MAP_CAPTIONS[k]) if k in MAP_CAPTIONS else str(k), f"map-{k}", i, lang)
            for i, (k, p) in enumerate(maps.items(), start=1)
        )
        sections.append(("maps", _L(lang, "专题图", "Maps"), figs))
    if multi_year:
        sections.append(
            (
                "multi-year",
                _L(lang, "多年变化", "Change over the years"),
                _multi_year_html(multi_year, lang, len(maps) + 1),
            )
        )

    method = dict(method or {})
    limits_box = input_limits_html(method, lang)
    limits = input_limits(method, lang)
    method.pop("input_limits", None)
    if "erosion_forms" in method:
        method["erosion_forms"] = erosion_forms_text(method["erosion_forms"], lang)
    inputs = method.pop("inputs", None)
    software = {**software_versions(), **dict(method.pop("software", {}) or {})}
    method_parts = [
        f"<h3>{_e(_L(lang, '水土保持率的计算', 'How the rate is computed'))}</h3><p>"
        + _e(
            _L(
                lang,
                "水土保持率 = (土地面积 − 数据缺失面积 − 水土流失面积) / (土地面积 − 数据缺失面积) × 100。水土流失面积为按 SL 190-2007 "
                "分级的轻度至剧烈（侵蚀模数 ≥ T）面积之和；微度不计入。侵蚀数据无值像元计为未侵蚀土地。面积在等积投影中计算；"
                "区域值由各县面积之和计算（面积加权）。数值为模型估算，可能与抽样调查的官方数字不同。",
                "rate = (land − data gap − erosion) / (land − data gap) × 100. Erosion area is the area of grades light to "
                "severe (modulus ≥ T) of SL 190-2007; slight is not erosion. Erosion nodata counts as non-eroded land. Areas "
                "come from an equal-area projection; the region value uses summed areas (area-weighted). Figures are model "
                "estimates and may differ from official sampling-based figures.",
            )
        )
        + "</p>"
    ]
    method_parts.append(
        f"<h3>{_e(_L(lang, '各县允许土壤流失量 T', 'Allowable soil loss T per county'))}</h3>" + _t_table(rates, lang)
    )
    if limits:
        method_parts.append(
            f"<h3>{_e(method_label('input_limits', lang))}</h3><ul>"
            + "".join(f"<li>{_e(t)}</li>" for t in limits)
            + "</ul>"
        )
    method_parts.append(f"<h3>{_e(_L(lang, '参数', 'Parameters'))}</h3>" + _kv_html({"year": year, **method}, lang))
    if inputs:
        method_parts.append(
            f"<h3>{_e(_L(lang, '输入数据及 SHA-256 校验值', 'Inputs and SHA-256 checksums'))}</h3>"
            + _inputs_html(inputs, lang)
        )
    used = {
        "county_rates.csv": county_rates_csv,
        "target_comparison.csv": target_comparison_csv,
        "erosion_by_landcover.csv": erosion_by_landcover_csv,
        **({"t_sensitivity.csv": t_sensitivity_csv} if t_sensitivity_csv is not None else {}),
        **({"erosion_by_process.csv": erosion_by_process_csv} if erosion_by_process_csv is not None else {}),
        **{f"map {k}": p for k, p in maps.items()},
        **(_one_map_files(map_inputs) if map_inputs is not None else {}),
    }
    method_parts.append(
        f"<h3>{_e(_L(lang, '本报告使用的结果文件', 'Result files used in this report'))}</h3>"
        + _inputs_html(used, lang)
    )
    method_parts.append(f"<h3>{_e(_L(lang, '软件版本', 'Software versions'))}</h3>" + _kv_html(software, lang))
    sections.append(("method", _L(lang, "方法与参数", "Method and parameters"), "".join(method_parts)))

    generated = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    nav = "".join(f'<li><a href="#{sid}">{_e(name)}</a></li>' for sid, name, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{i}. {_e(name)}</h2>{content}</section>'
        for i, (sid, name, content) in enumerate(sections, start=1)
    )
    banner = f'<div class="demo" id="demo-banner">{_e(DEMO_BANNER)}</div>' if demo else ""
    doc = (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="swc-raster {_e(software.get("swc-raster", ""))}">'
        f'<meta http-equiv="Content-Security-Policy" content="{_csp(map_inputs is not None)}">'
        f"<title>{_e(title)}</title><style>{_CSS}{report_map.ONE_MAP_CSS if map_inputs else ''}</style></head>"
        f"<body>{banner}"
        f'<h1>{_e(title)}</h1><p class="sub">{_e(_L(lang, "生成时间：", "Generated: "))}{_e(generated)} · swc-raster</p>'
        f"{limits_box}<nav><ol>{nav}</ol></nav>{body}{banner}"
        f"<footer>{_e(_L(lang, '本报告由 swc-raster 自动生成；表格与 Excel 工作簿数值一致。', 'Generated by swc-raster; tables match the Excel workbook.'))}</footer>"
        "</body></html>"
    )
    # Embed the maps' CJK font, subset to the characters used, so that the Chinese shows on
    # any machine (no CJK system font needed) with the same glyphs as the maps.
    woff = fonts.subset_font_woff(html.unescape(doc))
    font_face = (
        '@font-face{font-family:"swc-cjk";font-style:normal;font-weight:400;'
        f'src:url(data:font/woff;base64,{base64.b64encode(woff).decode("ascii")}) format("woff")}}'
    )
    doc = doc.replace("<style>", "<style>" + font_face, 1)
    with atomic_outputs(out_html) as (tmp,):
        tmp.write_text(doc, encoding="utf-8")
    return Path(out_html)
