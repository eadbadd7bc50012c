"""Yearly monitoring: rates over several years, what changed, progress toward targets.

Everything here works on the per-year ``county_rates.csv`` tables (see
``docs/architecture.md``, output contract) and the target table
(``county_code, county_name, target_YYYY…``).  No raster is read.

* :func:`rates_by_year` stacks the per-year tables into one long table.
* :func:`changes` gives the change between consecutive years, per county and region.
* :func:`trend` fits an ordinary-least-squares line through (year, rate).
* :func:`progress` compares the latest rate and its trend with every target year.
* :func:`plot_county_progress` draws one small panel per county plus the region.

Region rows are never recomputed: the region row of each year's table is
already area-weighted (Σ erosion area / Σ land area), so it is treated like
one more "county" with ``level == 'region'``.

Status of a target year ``Y`` (exact rule, see ``docs/progress_status.md``):

=====================  ========================================================
``met``                latest rate ≥ target (no tolerance; same rule as
                       ``met_{Y}`` in ``target_comparison.csv``)
``not met``            target year already reached or passed (latest year ≥ Y)
                       and latest rate < target
``on track``           Y still ahead, not met, trend > 0 and
                       trend ≥ required gain per year − 1e-9 pp/yr
``off track``          Y still ahead, not met, trend computable, and the
                       ``on track`` condition fails
``insufficient data``  Y still ahead, not met, fewer than two years with a rate
                       (no trend can be fitted)
``no target``          the target table has no value for this county and year
=====================  ========================================================
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
import pandas as pd

from swc_raster import rates
from swc_raster.errors import InputError
from swc_raster.fonts import check_drawable, rc_params, use_cjk_font
from swc_raster.targets import target_years

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Columns of ``county_rates.csv`` that this module needs (others are kept as they are).
RATE_COLUMNS: Final = tuple(c for c in rates.RATE_COLUMNS if c != "t_allowable_t_km2")

#: Area columns whose year-to-year change :func:`changes` reports.
_CHANGE_AREAS: Final = ("erosion_area_km2", *rates.GRADE_COLUMNS, "nodata_area_km2", "gap_area_km2")

STATUS_MET: Final = "met"
STATUS_NOT_MET: Final = "not met"
STATUS_ON_TRACK: Final = "on track"
STATUS_OFF_TRACK: Final = "off track"
STATUS_INSUFFICIENT: Final = "insufficient data"
STATUS_NO_TARGET: Final = "no target"
STATUSES: Final = (STATUS_MET, STATUS_NOT_MET, STATUS_ON_TRACK, STATUS_OFF_TRACK, STATUS_INSUFFICIENT, STATUS_NO_TARGET)

#: Chinese labels of the statuses (charts, reports).
STATUS_NAMES_ZH: Final = {
    STATUS_MET: "已达标",
    STATUS_NOT_MET: "未达标",
    STATUS_ON_TRACK: "按趋势可达标",
    STATUS_OFF_TRACK: "按趋势难达标",
    STATUS_INSUFFICIENT: "数据不足",
    STATUS_NO_TARGET: "无目标",
}

#: Tolerance of the "trend ≥ required gain" comparison, pp/yr: both sides are
#: computed, so an exact tie must not flip on the last bit of a float.
ON_TRACK_TOLERANCE_PP: Final = 1e-9

_LEVEL_ORDER: Final = {"county": 0, "region": 1}


# --------------------------------------------------------------------------- tables


def _codes_as_str(codes: pd.Series) -> pd.Series:
    """County codes as strings: ``140502`` read as an integer becomes ``"140502"``."""
    if pd.api.types.is_float_dtype(codes):
        codes = codes.astype("Int64")
    return codes.astype(str).str.strip()


def rates_by_year(rate_tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack per-year ``county_rates.csv`` tables into one long table.

    Parameters
    ----------
    rate_tables : sequence of DataFrame
        One table per year with at least the columns of :data:`RATE_COLUMNS`
        (the ``county_rates.csv`` contract).  Extra columns are kept.
        ``county_code`` may have been read as integers; it is turned into strings.

    Returns
    -------
    DataFrame
        All rows, ``year`` as int and ``county_code`` as str, sorted by level
        (counties, then the region), county code, then year; fresh index.

    Raises
    ------
    InputError
        No table, a table without a required column, or the same
        (county_code, year) more than once (e.g. one year's table passed twice).
    """
    if len(rate_tables) == 0:
        raise InputError("county rate tables", "no table was given.", "pass one county_rates.csv table per year.")
    for i, table in enumerate(rate_tables):
        missing = [c for c in RATE_COLUMNS if c not in table.columns]
        if missing:
            raise InputError(
                f"county rate table #{i + 1}",
                f"missing column(s) {', '.join(missing)}.",
                "pass the results/{year}/county_rates.csv tables unchanged (see docs/architecture.md).",
            )
    long = pd.concat([t for t in rate_tables], ignore_index=True)
    long["county_code"] = _codes_as_str(long["county_code"])
    long["year"] = long["year"].astype("int64")
    unknown_levels = sorted(set(long["level"]) - set(_LEVEL_ORDER))
    if unknown_levels:
        raise InputError(
            "county rate tables",
            f"unknown level value(s) {unknown_levels}.",
            "level must be 'county' or 'region' (county_rates.csv contract).",
        )
    dup = long.duplicated(["county_code", "year"], keep=False)
    if dup.any():
        pairs = sorted({(str(c), int(y)) for c, y in long.loc[dup, ["county_code", "year"]].itertuples(index=False)})
        shown = ", ".join(f"{c} in {y}" for c, y in pairs[:10])
        raise InputError(
            "county rate tables",
            f"the same county and year appear more than once: {shown}" + (" …" if len(pairs) > 10 else "") + ".",
            "pass each year's county_rates.csv exactly once (check the years in the config for duplicates).",
        )
    order = long["level"].map(_LEVEL_ORDER)
    long = long.assign(_order=order).sort_values(["_order", "county_code", "year"], kind="stable")
    return long.drop(columns="_order").reset_index(drop=True)


def changes(rates_long: pd.DataFrame) -> pd.DataFrame:
    """Change between consecutive years, per county and for the region.

    Pairs are consecutive *among the years present for that county*: if a
    county has 2021 and 2023 only, the pair is 2021→2023 (``years_apart`` = 2).

    Parameters
    ----------
    rates_long : DataFrame
        Output of :func:`rates_by_year`.

    Returns
    -------
    DataFrame
        One row per county and pair, columns ``level, county_code, county_name
        (of the later year), year_from, year_to, years_apart, rate_from_pct,
        rate_to_pct, rate_change_pp`` (percentage points, later − earlier), then
        ``erosion_area_change_km2``, ``area_grade1_change_km2`` …
        ``area_grade6_change_km2``, ``nodata_area_change_km2``,
        ``gap_area_change_km2`` (km², later − earlier; negative erosion change
        is improvement).  Counties with a single year give no row.
    """
    rows: list[pd.DataFrame] = []
    for _, g in rates_long.groupby(["level", "county_code"], sort=False):
        g = g.sort_values("year")
        if len(g) < 2:
            continue
        earlier, later = g.iloc[:-1].reset_index(drop=True), g.iloc[1:].reset_index(drop=True)
        out = pd.DataFrame(
            {
                "level": later["level"],
                "county_code": later["county_code"],
                "county_name": later["county_name"],
                "year_from": earlier["year"].astype("int64"),
                "year_to": later["year"].astype("int64"),
            }
        )
        out["years_apart"] = out["year_to"] - out["year_from"]
        out["rate_from_pct"] = earlier["rate_pct"].astype("float64")
        out["rate_to_pct"] = later["rate_pct"].astype("float64")
        out["rate_change_pp"] = out["rate_to_pct"] - out["rate_from_pct"]
        for col in _CHANGE_AREAS:
            out[col.replace("_km2", "_change_km2")] = later[col].astype("float64") - earlier[col].astype("float64")
        rows.append(out)
    if not rows:
        columns = [
            "level",
            "county_code",
            "county_name",
            "year_from",
            "year_to",
            "years_apart",
            "rate_from_pct",
            "rate_to_pct",
            "rate_change_pp",
            *(c.replace("_km2", "_change_km2") for c in _CHANGE_AREAS),
        ]
        return pd.DataFrame(columns=columns)
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------- trend


class Trend(NamedTuple):
    """An OLS line ``rate = slope · year + intercept`` (unpacks as a 3-tuple)."""

    slope_pp_per_year: float
    """Slope, percentage points per year; NaN with a single year."""
    stderr_pp_per_year: float | None
    """Standard error of the slope; ``None`` with fewer than three years."""
    intercept: float
    """Rate on the line at year 0 (``numpy.polyfit`` convention); NaN with a single year."""

    def at(self, year: float) -> float:
        """Rate on the fitted line at ``year`` (NaN if there is no line)."""
        return self.slope_pp_per_year * year + self.intercept


def trend(years: Sequence[float] | np.ndarray, rates: Sequence[float] | np.ndarray) -> Trend:
    """Ordinary least-squares trend of the rate over the years.

    Parameters
    ----------
    years, rates : array_like
        Same length, finite, years all different.

    Returns
    -------
    Trend
        ``(slope_pp_per_year, stderr_pp_per_year, intercept)``.
        slope = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)², intercept = ȳ − slope·x̄.
        stderr = s / √Σ(x−x̄)² with s² = SSR / (n − 2), given only when n ≥ 3
        (with n = 2 the line passes through both points and s is undefined).
        With n = 1 there is no trend: slope and intercept are NaN.

    Raises
    ------
    ValueError
        No value, lengths differ, non-finite values, or a repeated year.
    """
    x = np.asarray(years, dtype="float64")
    y = np.asarray(rates, dtype="float64")
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"years and rates must be 1-D and the same length, got shapes {x.shape} and {y.shape}")
    if x.size == 0:
        raise ValueError("trend needs at least one (year, rate) pair")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("years and rates must be finite (drop years without a rate first)")
    if np.unique(x).size != x.size:
        raise ValueError(f"repeated year in {x.tolist()}: one rate per year")
    n = x.size
    if n == 1:
        return Trend(math.nan, None, math.nan)
    dx = x - x.mean()
    sxx = float(np.sum(dx * dx))
    slope = float(np.sum(dx * (y - y.mean())) / sxx)
    intercept = float(y.mean() - slope * x.mean())
    stderr: float | None = None
    if n >= 3:
        residuals = y - (y.mean() + slope * dx)
        s2 = float(np.sum(residuals * residuals)) / (n - 2)
        stderr = math.sqrt(s2 / sxx)
    return Trend(slope, stderr, intercept)


# --------------------------------------------------------------------------- progress


def _status(latest_year: int, latest_rate: float, slope: float, target: float, year: int) -> str:
    """Status of one target year; see the module docstring for the rule."""
    if not math.isfinite(target):
        return STATUS_NO_TARGET
    if not math.isfinite(latest_rate):
        return STATUS_INSUFFICIENT
    if latest_rate >= target:
        return STATUS_MET
    if latest_year >= year:
        return STATUS_NOT_MET
    if not math.isfinite(slope):
        return STATUS_INSUFFICIENT
    required = (target - latest_rate) / (year - latest_year)
    if slope > 0 and slope >= required - ON_TRACK_TOLERANCE_PP:
        return STATUS_ON_TRACK
    return STATUS_OFF_TRACK


def progress(rates_long: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Latest rate, trend and progress toward each target year, per county and region.

    Parameters
    ----------
    rates_long : DataFrame
        Output of :func:`rates_by_year`.  Years whose ``rate_pct`` is not a
        finite number (a county entirely in a data gap) are left out.
    targets : DataFrame
        ``county_code, county_name, target_YYYY…`` (``config/targets.csv``),
        matched on ``county_code``; the region row matches the region's code.

    Returns
    -------
    DataFrame
        One row per county (by code) then the region, columns
        ``level, county_code, county_name`` (latest year's name), ``first_year,
        latest_year, n_years, latest_rate_pct, trend_pp_per_year,
        trend_stderr_pp_per_year`` (NaN when n < 3), ``fitted_latest_pct``
        (the fitted line at the latest year), then for each target year Y:

        ``target_{Y}_pct``
            the target (NaN if the table has none for this county).
        ``projected_{Y}_pct``
            the fitted OLS line evaluated at Y, i.e. ``fitted_latest_pct +
            trend · (Y − latest_year)`` — projected from the line, *not* from
            the latest observed rate.  NaN with a single year or when Y ≤ latest year.
        ``required_gain_{Y}_pp_per_year``
            ``(target − latest_rate) / (Y − latest_year)``, gain per year still
            needed from the latest observed rate; NaN when Y ≤ latest year.
        ``status_{Y}``
            one of :data:`STATUSES` (rule in the module docstring).

    Notes
    -----
    The status compares the trend with the gain needed *from the latest
    observed rate*; the projection starts from the *fitted line*.  When the
    latest year lies well below (above) the line the two can disagree, e.g.
    ``off track`` with a projection above the target.  Both are reported so
    that a reader can see why.
    """
    years = target_years(targets)
    tcodes = _codes_as_str(targets["county_code"])
    if tcodes.duplicated().any():
        raise InputError(
            "targets table",
            f"county code(s) {sorted(set(tcodes[tcodes.duplicated()]))} appear more than once.",
            "give one row per county (and one for the region).",
        )
    target_by_code = targets.assign(county_code=tcodes).set_index("county_code")

    rows: list[dict[str, object]] = []
    for (level, code), g in rates_long.groupby(["level", "county_code"], sort=False):
        g = g.sort_values("year")
        ok = g[np.isfinite(g["rate_pct"].astype("float64"))]
        row: dict[str, object] = {"level": level, "county_code": code, "county_name": g["county_name"].iloc[-1]}
        if ok.empty:
            latest_year, latest_rate, fit = int(g["year"].iloc[-1]), math.nan, Trend(math.nan, None, math.nan)
            first_year = latest_year
        else:
            x = ok["year"].to_numpy("float64")
            fit = trend(x, ok["rate_pct"].to_numpy("float64"))
            latest_year, latest_rate, first_year = int(x[-1]), float(ok["rate_pct"].iloc[-1]), int(x[0])
        row.update(
            first_year=first_year,
            latest_year=latest_year,
            n_years=len(ok),
            latest_rate_pct=latest_rate,
            trend_pp_per_year=fit.slope_pp_per_year,
            trend_stderr_pp_per_year=math.nan if fit.stderr_pp_per_year is None else fit.stderr_pp_per_year,
            fitted_latest_pct=fit.at(latest_year),
        )
        for y in years:
            target = math.nan
            if code in target_by_code.index:
                value = target_by_code.at[code, f"target_{y}"]
                target = float(value) if pd.notna(value) else math.nan
            ahead = y > latest_year
            row[f"target_{y}_pct"] = target
            row[f"projected_{y}_pct"] = fit.at(y) if ahead else math.nan
            row[f"required_gain_{y}_pp_per_year"] = (target - latest_rate) / (y - latest_year) if ahead else math.nan
            row[f"status_{y}"] = _status(latest_year, latest_rate, fit.slope_pp_per_year, target, y)
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out.assign(_order=out["level"].map(_LEVEL_ORDER)).sort_values(["_order", "county_code"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


# --------------------------------------------------------------------------- chart


_TEXT: Final = {
    "zh": {
        "observed": "监测值",
        "trend": "线性趋势（外推）",
        "target": "目标",
        "rate": "水土保持率（%）",
        "year": "年份",
        "title": "各县（市、区）水土保持率变化与目标进展",
        "demo": "演示数据 —— 非实际监测结果",
        "target_status": "{y}年目标 {v:.2f}：{s}",
        "slope": "趋势 {v:+.2f} 个百分点/年",
    },
    "en": {
        "observed": "observed",
        "trend": "linear trend (extrapolated)",
        "target": "target",
        "rate": "conservation rate (%)",
        "year": "year",
        "title": "Soil and water conservation rate by county: change and progress to targets",
        "demo": "DEMO DATA — not real monitoring results",
        "target_status": "{y} target {v:.2f}: {s}",
        "slope": "trend {v:+.2f} pp/yr",
    },
}


def _write_atomically(fig: Figure, out_png: Path, dpi: int) -> None:
    """Save a figure to a temporary PNG beside ``out_png``, then rename it."""
    out_png.parent.mkdir(parents=True, exist_ok=True)
    # a unique name beside the output (same file system, so the rename is atomic);
    # created by savefig itself, so it gets the usual permissions
    tmp = out_png.with_name(f".{out_png.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        fig.savefig(tmp, format="png", dpi=dpi)
        os.replace(tmp, out_png)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def plot_county_progress(
    rates_long: pd.DataFrame,
    targets: pd.DataFrame,
    out_png: str | os.PathLike[str],
    *,
    lang: str = "zh",
    demo: bool = False,
    ncols: int = 4,
    dpi: int = 150,
) -> Path:
    """Small-multiples chart of the rate by year, trend and targets.

    One panel per county (by code) and a last panel for the region: observed
    rate by year (line and points), the OLS trend from the first year extended
    dashed to the last target year, each target as a marker with its value,
    and the status of each target year (see :func:`progress`).  All panels
    share the y axis so that counties can be compared.

    Parameters
    ----------
    rates_long : DataFrame
        Output of :func:`rates_by_year`.
    targets : DataFrame
        Target table (``county_code, county_name, target_YYYY…``).
    out_png : path
        PNG written; saved to a temporary file then renamed, so a failure
        leaves no half-written chart.
    lang : {"zh", "en"}
        Language of labels and legend (county names stay as in the tables).
    demo : bool
        Add a "demo data" banner (config ``demo: true``).
    ncols : int
        Panels per row.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    Path
        ``out_png``.
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MultipleLocator

    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {sorted(_TEXT)}, got {lang!r}")
    text = _TEXT[lang]
    out_png = Path(out_png)
    table = progress(rates_long, targets)
    years_t = target_years(targets)

    all_years = rates_long["year"].astype(int)
    x_min, x_max = int(all_years.min()), max(max(years_t), int(all_years.max()))
    values = [rates_long["rate_pct"].astype("float64").to_numpy()]
    values += [table[f"target_{y}_pct"].to_numpy("float64") for y in years_t]
    values += [table[f"projected_{y}_pct"].to_numpy("float64") for y in years_t]
    finite = np.concatenate(values)
    finite = finite[np.isfinite(finite)]
    # room below the lowest value for the target/status box of each panel
    y_lo = max(0.0, math.floor((finite.min() - 12) / 5) * 5) if finite.size else 0.0
    y_hi = min(100.0, math.ceil((finite.max() + 4) / 5) * 5) if finite.size else 100.0

    n = len(table)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    # One font for every glyph, as on the maps: a name it cannot draw is refused, not printed as a box.
    check_drawable(table["county_name"].astype(str), "county_name in the county_rates.csv tables")
    rc = {**rc_params(use_cjk_font(set_default=False)), "font.size": 9}
    colours = {"observed": "#1f5fa8", "trend": "#1f5fa8", "target": "#d62728"}
    with rc_context(rc):
        fig = Figure(figsize=(3.6 * ncols, 3.1 * nrows + 1.0), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        for ax, (_, row) in zip(axes.flat, table.iterrows()):
            code = row["county_code"]
            g = rates_long[(rates_long["county_code"] == code) & (rates_long["level"] == row["level"])]
            g = g.sort_values("year")
            ax.plot(g["year"], g["rate_pct"], "-o", color=colours["observed"], lw=1.6, ms=4, zorder=3)
            if math.isfinite(row["trend_pp_per_year"]):
                fit = Trend(
                    row["trend_pp_per_year"],
                    None,
                    row["fitted_latest_pct"] - row["trend_pp_per_year"] * row["latest_year"],
                )
                xs = np.array([float(row["first_year"]), float(max(years_t))])
                ax.plot(xs, [fit.at(v) for v in xs], "--", color=colours["trend"], lw=1.0, alpha=0.7, zorder=2)
            # Targets as markers; their values and statuses in one box at the lower right,
            # where a rising trend leaves room, so no label can sit on a line or a marker.
            box_lines = []
            for y in years_t:
                target = row[f"target_{y}_pct"]
                status = row[f"status_{y}"]
                status_text = STATUS_NAMES_ZH[status] if lang == "zh" else status
                if math.isfinite(target):
                    ax.plot([y], [target], marker="D", ms=6, color=colours["target"], ls="none", zorder=4)
                    box_lines.append(text["target_status"].format(y=y, v=target, s=status_text))
            if math.isfinite(row["trend_pp_per_year"]):
                box_lines.append(text["slope"].format(v=row["trend_pp_per_year"]))
            ax.text(
                0.98,
                0.03,
                "\n".join(box_lines),
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=8,
                color="#333333",
                zorder=6,
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#cccccc", "alpha": 0.9},
            )
            title = f"{row['county_name']}（{code}）" if lang == "zh" else f"{row['county_name']} ({code})"
            ax.set_title(title, loc="left", fontsize=10)
            if row["level"] == "region":
                ax.set_facecolor("#eef3fa")
            ax.grid(True, which="major", color="#dddddd", lw=0.6)
            ax.xaxis.set_major_locator(MultipleLocator(5))
            ax.xaxis.set_minor_locator(MultipleLocator(1))
            ax.set_xlim(x_min - 0.8, x_max + 1.2)
            ax.set_ylim(y_lo, y_hi)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(text["rate"])
        for ax in axes[-1, :]:
            ax.set_xlabel(text["year"])
            ax.tick_params(labelbottom=True)
        # tick labels for panels above an empty slot in the last row
        for i in range(n, nrows * ncols):
            axes.flat[i - ncols].tick_params(labelbottom=True)
            axes.flat[i - ncols].set_xlabel(text["year"])
        handles = [
            Line2D([], [], color=colours["observed"], marker="o", lw=1.6, ms=4, label=text["observed"]),
            Line2D([], [], color=colours["trend"], ls="--", lw=1.0, label=text["trend"]),
            Line2D([], [], color=colours["target"], marker="D", ls="none", ms=6, label=text["target"]),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        title = text["title"]
        if demo:
            title = f"{title}\n{text['demo']}"
        fig.suptitle(title, fontsize=12, color="#b00000" if demo else "black")
        _write_atomically(fig, out_png, dpi)
    return out_png
