"""Multi-year monitoring: stacking, changes, trend, progress toward targets, chart.

Expected values are worked out by hand in the comments; numpy.polyfit and
scipy.stats.linregress serve as a second, independent implementation.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from swc_raster.errors import InputError
from swc_raster.progress import (
    RATE_COLUMNS,
    changes,
    plot_county_progress,
    progress,
    rates_by_year,
    trend,
)

AREA_COLS = [f"area_grade{g}_km2" for g in range(1, 7)]


def county_row(
    year: int,
    code: str,
    name: str,
    rate: float,
    *,
    land: float = 100.0,
    level: str = "county",
    gap: float = 0.0,
    nodata: float = 0.0,
) -> dict[str, object]:
    """A county_rates.csv row with the given rate (erosion split 40/30/15/10/5 % over grades 2–6)."""
    erosion = (land - gap) * (1 - rate / 100)
    split = np.array([0.4, 0.3, 0.15, 0.1, 0.05]) * erosion
    grade1 = land - gap - nodata - erosion
    return {
        "year": year,
        "level": level,
        "county_code": code,
        "county_name": name,
        "t_allowable_t_km2": 200.0,
        "land_area_km2": land,
        "erosion_area_km2": erosion,
        "rate_pct": rate,
        **dict(zip(AREA_COLS, [grade1, *split])),
        "nodata_area_km2": nodata,
        "gap_area_km2": gap,
    }


def year_table(year: int, rates: dict[str, float], region_rate: float | None = None) -> pd.DataFrame:
    rows = [county_row(year, code, f"县{code[-2:]}", r) for code, r in rates.items()]
    if region_rate is not None:
        rows.append(county_row(year, "140500", "全市", region_rate, land=100.0 * len(rates), level="region"))
    return pd.DataFrame(rows)


TARGETS = pd.DataFrame(
    {
        "county_code": ["140502", "140521", "140500"],
        "county_name": ["城区", "沁水县", "全市"],
        "target_2025": [65.0, 70.0, 67.0],
        "target_2035": [81.5, 80.0, 81.0],
    }
)


# --------------------------------------------------------------------------- rates_by_year


def test_rates_by_year_stacks_and_sorts():
    tables = [
        year_table(y, {"140521": 70.0 + i, "140502": 60.0 + i}, 65.0 + i) for i, y in enumerate([2023, 2021, 2022])
    ]
    long = rates_by_year(tables)
    assert list(long["county_code"]) == ["140502"] * 3 + ["140521"] * 3 + ["140500"] * 3
    assert list(long["year"]) == [2021, 2022, 2023] * 3
    assert set(RATE_COLUMNS) <= set(long.columns) and "t_allowable_t_km2" in long.columns


def test_rates_by_year_codes_read_as_integers_become_strings():
    t = year_table(2021, {"140502": 60.0})
    t["county_code"] = t["county_code"].astype(int)
    assert rates_by_year([t])["county_code"].tolist() == ["140502"]


def test_duplicate_county_year_is_rejected():
    t = year_table(2021, {"140502": 60.0, "140521": 70.0})
    with pytest.raises(InputError, match="140502 in 2021"):
        rates_by_year([t, t.copy()])
    with pytest.raises(InputError, match="more than once"):
        rates_by_year([pd.concat([t, t.iloc[[0]]])])


def test_missing_column_and_no_table():
    t = year_table(2021, {"140502": 60.0}).drop(columns="gap_area_km2")
    with pytest.raises(InputError, match="gap_area_km2"):
        rates_by_year([t])
    with pytest.raises(InputError, match="no table"):
        rates_by_year([])


# --------------------------------------------------------------------------- changes


def test_changes_between_consecutive_years():
    long = rates_by_year(
        [
            year_table(2021, {"140502": 60.0}),
            year_table(2022, {"140502": 61.0}),
            year_table(2024, {"140502": 64.0}),
        ]
    )
    ch = changes(long)
    assert ch[["year_from", "year_to", "years_apart"]].values.tolist() == [[2021, 2022, 1], [2022, 2024, 2]]
    # rate 60 → 61 → 64: +1 pp then +3 pp
    assert ch["rate_change_pp"].tolist() == pytest.approx([1.0, 3.0])
    # land 100 km², no gap: erosion = 100 − rate → 40 → 39 → 36 km²: −1 then −3 km²
    assert ch["erosion_area_change_km2"].tolist() == pytest.approx([-1.0, -3.0])
    # grade 2 holds 40 % of erosion: 16 → 15.6 → 14.4 km²; grade 1 = rate: +1, +3
    assert ch["area_grade2_change_km2"].tolist() == pytest.approx([-0.4, -1.2])
    assert ch["area_grade1_change_km2"].tolist() == pytest.approx([1.0, 3.0])
    # each grade's change sums to the erosion change (grades 2–6) and to zero overall
    grades26 = ch[[f"area_grade{g}_change_km2" for g in range(2, 7)]].sum(axis=1)
    assert grades26.tolist() == pytest.approx(ch["erosion_area_change_km2"].tolist())
    assert len(changes(rates_by_year([year_table(2021, {"140502": 60.0})]))) == 0


# --------------------------------------------------------------------------- trend


def test_trend_by_hand():
    # years 2021–2024, rates 60, 61, 63, 64
    # x̄ = 2022.5, ȳ = 62; x − x̄ = −1.5, −0.5, 0.5, 1.5; y − ȳ = −2, −1, 1, 2
    # Sxy = 3 + 0.5 + 0.5 + 3 = 7; Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5; slope = 7/5 = 1.4
    # intercept = 62 − 1.4 × 2022.5 = −2769.5
    # fitted 59.9, 61.3, 62.7, 64.1; residuals 0.1, −0.3, 0.3, −0.1; SSR = 0.2
    # s² = 0.2 / (4 − 2) = 0.1; stderr = √(0.1 / 5) = √0.02
    years, rates = [2021, 2022, 2023, 2024], [60.0, 61.0, 63.0, 64.0]
    slope, stderr, intercept = trend(years, rates)
    assert slope == pytest.approx(1.4, abs=1e-12)
    assert intercept == pytest.approx(62 - 1.4 * 2022.5, abs=1e-9)
    assert stderr == pytest.approx(math.sqrt(0.02), abs=1e-12)
    # second library
    lr = stats.linregress(years, rates)
    assert slope == pytest.approx(lr.slope) and intercept == pytest.approx(lr.intercept)
    assert stderr == pytest.approx(lr.stderr)
    coef, cov = np.polyfit(years, rates, 1, cov=True)
    assert stderr == pytest.approx(math.sqrt(cov[0, 0]))
    assert trend(years, rates).at(2035) == pytest.approx(64.1 + 1.4 * 11)


def test_trend_small_n():
    # two years: exact line, no stderr (s² would divide by n − 2 = 0)
    slope, stderr, intercept = trend([2023, 2024], [62.0, 64.0])
    assert slope == pytest.approx(2.0) and stderr is None and intercept == pytest.approx(62 - 2 * 2023)
    # one year: no trend
    slope, stderr, intercept = trend([2024], [64.0])
    assert math.isnan(slope) and stderr is None and math.isnan(intercept)
    # a perfect line has stderr 0
    assert trend([2020, 2021, 2022], [1.0, 2.0, 3.0]).stderr_pp_per_year == pytest.approx(0.0, abs=1e-12)


def test_trend_bad_input():
    with pytest.raises(ValueError, match="repeated year"):
        trend([2021, 2021, 2022], [1, 2, 3])
    with pytest.raises(ValueError, match="same length"):
        trend([2021, 2022], [1.0])
    with pytest.raises(ValueError, match="finite"):
        trend([2021, 2022], [1.0, float("nan")])
    with pytest.raises(ValueError, match="at least one"):
        trend([], [])


# --------------------------------------------------------------------------- progress


def four_years() -> pd.DataFrame:
    return rates_by_year(
        [
            year_table(y, {"140502": r, "140521": 75.0 - 0.5 * i}, region_rate=60.0 + 2 * i)
            for i, (y, r) in enumerate(zip([2021, 2022, 2023, 2024], [60.0, 61.0, 63.0, 64.0]))
        ]
    )


def test_progress_by_hand():
    p = progress(four_years(), TARGETS).set_index("county_code")
    assert list(p.index) == ["140502", "140521", "140500"]  # counties by code, then the region
    a = p.loc["140502"]
    assert (a["first_year"], a["latest_year"], a["n_years"], a["latest_rate_pct"]) == (2021, 2024, 4, 64.0)
    assert a["trend_pp_per_year"] == pytest.approx(1.4)
    assert a["trend_stderr_pp_per_year"] == pytest.approx(math.sqrt(0.02))
    assert a["fitted_latest_pct"] == pytest.approx(64.1)
    # 2025: target 65; projection from the fitted line = 64.1 + 1.4 × 1 = 65.5
    # required gain = (65 − 64) / (2025 − 2024) = 1.0 pp/yr; 1.4 ≥ 1.0 → on track
    assert a["target_2025_pct"] == 65.0
    assert a["projected_2025_pct"] == pytest.approx(65.5)
    assert a["required_gain_2025_pp_per_year"] == pytest.approx(1.0)
    assert a["status_2025"] == "on track"
    # 2035: target 81.5; projection 64.1 + 1.4 × 11 = 79.5; required (81.5 − 64)/11 = 17.5/11 ≈ 1.591 > 1.4
    assert a["projected_2035_pct"] == pytest.approx(79.5)
    assert a["required_gain_2035_pp_per_year"] == pytest.approx(17.5 / 11)
    assert a["status_2035"] == "off track"
    # 140521: rates 75, 74.5, 74, 73.5 — falling (−0.5 pp/yr) but already above 70 in 2024 → met;
    # for 2035 (target 80): required (80 − 73.5)/11 > 0 and trend < 0 → off track
    b = p.loc["140521"]
    assert b["trend_pp_per_year"] == pytest.approx(-0.5)
    assert b["status_2025"] == "met"
    assert b["required_gain_2025_pp_per_year"] == pytest.approx(-3.5)
    assert b["status_2035"] == "off track"
    # region row is the region row of each year (60, 62, 64, 66), not recomputed: slope 2
    r = p.loc["140500"]
    assert r["level"] == "region" and r["latest_rate_pct"] == 66.0
    assert r["trend_pp_per_year"] == pytest.approx(2.0)
    # 2035: required (81 − 66)/11 ≈ 1.364 ≤ 2 → on track
    assert r["status_2035"] == "on track"


def _one_county(rates: dict[int, float], t2025: float, t2035: float = 90.0) -> pd.Series:
    long = rates_by_year([year_table(y, {"140502": r}) for y, r in rates.items()])
    targets = pd.DataFrame(
        {"county_code": ["140502"], "county_name": ["城区"], "target_2025": [t2025], "target_2035": [t2035]}
    )
    return progress(long, targets).iloc[0]


def test_status_boundaries():
    # 2023: 62, 2024: 64 → slope exactly 2 pp/yr
    two = {2023: 62.0, 2024: 64.0}
    assert _one_county(two, 64.0)["status_2025"] == "met"  # latest == target → met
    assert _one_county(two, 64.01)["status_2025"] == "on track"  # needs 0.01 pp/yr
    assert _one_county(two, 66.0)["status_2025"] == "on track"  # needs exactly 2 = trend
    assert _one_county(two, 66.01)["status_2025"] == "off track"  # needs 2.01 > 2
    # 2035 target 86: needs (86 − 64)/11 = 2 exactly (computed in floats) → on track
    assert _one_county(two, 60.0, 86.0)["status_2035"] == "on track"
    assert _one_county(two, 60.0, 86.02)["status_2035"] == "off track"
    # flat trend and not met: off track (trend must be > 0)
    assert _one_county({2023: 64.0, 2024: 64.0}, 64.5)["status_2025"] == "off track"
    # falling trend but met: met
    assert _one_county({2023: 70.0, 2024: 65.0}, 64.0)["status_2025"] == "met"


def test_single_year():
    row = _one_county({2024: 64.0}, 65.0)
    assert row["status_2025"] == "insufficient data"
    assert math.isnan(row["trend_pp_per_year"]) and math.isnan(row["projected_2025_pct"])
    assert row["required_gain_2025_pp_per_year"] == pytest.approx(1.0)
    assert _one_county({2024: 64.0}, 63.0)["status_2025"] == "met"


def test_target_year_passed():
    # latest year 2025 ≥ 2025: only met / not met, no projection or required gain
    row = _one_county({2024: 60.0, 2025: 64.0}, 65.0)
    assert row["status_2025"] == "not met"
    assert math.isnan(row["projected_2025_pct"]) and math.isnan(row["required_gain_2025_pp_per_year"])
    assert _one_county({2024: 60.0, 2026: 65.0}, 65.0)["status_2025"] == "met"
    # 2035 still ahead: from 2026 (65) with slope 2.5: required (90 − 65)/9 ≈ 2.78 → off track
    assert _one_county({2024: 60.0, 2026: 65.0}, 65.0)["status_2035"] == "off track"


def test_missing_target_and_nan_rate():
    long = rates_by_year(
        [year_table(2023, {"140502": 60.0, "140599": 50.0}), year_table(2024, {"140502": 61.0, "140599": float("nan")})]
    )
    p = progress(long, TARGETS).set_index("county_code")
    assert p.loc["140599", "status_2025"] == "no target"
    # the NaN year is left out: one usable year
    assert p.loc["140599", "n_years"] == 1 and p.loc["140599", "latest_year"] == 2023
    with pytest.raises(InputError, match="target_YYYY"):
        progress(long, TARGETS[["county_code", "county_name"]])


# --------------------------------------------------------------------------- chart

JINCHENG = {
    "140502": ("城区", 72.0, 1.2),
    "140521": ("沁水县", 70.0, 1.3),
    "140522": ("阳城县", 66.0, 0.4),
    "140524": ("陵川县", 60.0, 0.9),
    "140525": ("泽州县", 58.0, 1.6),
    "140581": ("高平市", 55.5, 2.4),
}


def jincheng_long() -> pd.DataFrame:
    tables = []
    for i, year in enumerate([2021, 2022, 2023, 2024]):
        rows = [
            county_row(year, code, name, min(80.0, start + step * i)) for code, (name, start, step) in JINCHENG.items()
        ]
        rows.append(
            county_row(
                year, "140500", "全市", float(np.mean([r["rate_pct"] for r in rows])), land=600.0, level="region"
            )
        )
        tables.append(pd.DataFrame(rows))
    return rates_by_year(tables)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plot_renders_chinese_without_missing_glyphs(tmp_path, lang):
    targets = pd.read_csv(Path(__file__).parents[1] / "config" / "targets.csv", dtype={"county_code": str})
    out = tmp_path / "charts" / f"progress_{lang}.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = plot_county_progress(jincheng_long(), targets, out, lang=lang, demo=True)
    glyph = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert glyph == []
    assert result == out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left


def test_plot_single_year_does_not_fail(tmp_path):
    long = rates_by_year([year_table(2024, {"140502": 64.0, "140521": 72.0}, region_rate=68.0)])
    out = plot_county_progress(long, TARGETS, tmp_path / "one.png")
    assert out.stat().st_size > 0
