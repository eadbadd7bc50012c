"""The tables the config names: the land-cover legend (read by :mod:`swc_raster.legend`) and the targets."""

from __future__ import annotations

import csv
import re
from collections import Counter
from typing import Any

from swc_raster.errors import FileProblem, InputError, InputFileError, ValidationFailed
from swc_raster.legend import is_product_legend, legend_path, read_legend
from swc_raster.names import normalise_code, normalise_name
from swc_raster.validate.boundaries import BoundaryCodes
from swc_raster.validate.context import Context, check_file, fmt_list


def legend_codes(ctx: Context) -> set[int] | None:
    """The legend's codes, read and checked by :func:`swc_raster.legend.read_legend`; ``None`` when unusable.

    Every problem the legend reader finds (code 0 or above 65535, duplicates, missing names…)
    becomes a validation problem here, so a legend that would stop the run later stops it now.
    """
    given = ctx.cfg.get("landcover_legend_codes")
    if given is not None:  # a workflow rule passes the codes it declares (read by the one legend reader)
        return {int(c) for c in given}
    rel = ctx.cfg.get("landcover_legend")
    if not rel:
        ctx.add(
            "config: landcover_legend",
            "no land-cover legend is configured.",
            "add `landcover_legend: config/landcover_legend.csv` (columns code,name_zh,name_en).",
        )
        return None
    label = f"landcover_legend ({rel})"
    path = legend_path(rel) if is_product_legend(rel) else check_file(ctx, label, rel)
    if path is None:
        return None
    try:
        legend = read_legend(path, label)
    except ValidationFailed as exc:
        ctx.problems.extend(exc.problems)
        return None
    except InputFileError as exc:
        ctx.problems.extend(FileProblem(p.input, p.problem, p.fix) for p in exc.problems)
        return None
    except InputError as exc:
        ctx.problems.extend(exc.problems)
        return None
    return set(legend.codes)


def _read_csv(ctx: Context, label: str, rel: Any, required: tuple[str, ...]) -> list[dict[str, str]] | None:
    path = check_file(ctx, label, rel)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = [f.strip() for f in (reader.fieldnames or [])]
            rows = [
                {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
                for row in reader
            ]
    except UnicodeDecodeError:
        ctx.add(
            label,
            "the file is not UTF-8 text (Excel often saves CSV as GBK).",
            f'save it as "CSV UTF-8" in Excel, or convert it: `iconv -f GBK -t UTF-8 {rel} > fixed.csv`.',
        )
        return None
    except (OSError, csv.Error) as exc:
        ctx.add(
            label,
            f"the file cannot be read as CSV ({exc}).",
            "export it again as comma-separated UTF-8 text.",
            FileProblem,
        )
        return None
    missing = [c for c in required if c not in fields]
    if missing:
        ctx.add(
            label,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {', '.join(fields) or 'none'}).",
            f"the first line must be the header `{','.join(required)},target_<year>…` (comma-separated).",
        )
        return None
    return rows


def read_targets(ctx: Context) -> tuple[str, list[dict[str, str]]] | None:
    rel = ctx.cfg.get("targets")
    if not rel:
        ctx.add(
            "config: targets",
            "no targets table is configured.",
            "add `targets: config/targets.csv` (columns county_code,county_name,target_<year>…).",
        )
        return None
    label = f"targets ({rel})"
    rows = _read_csv(ctx, label, rel, ("county_code", "county_name"))
    return None if rows is None else (label, rows)


def check_targets(
    ctx: Context, label: str, rows: list[dict[str, str]], boundary: BoundaryCodes | None, region_code: str
) -> None:
    """The targets table on its own (codes, region row, percentages) and against the boundaries' counties.

    The comparison with the boundaries is skipped when their code field does not hold GB/T 2260
    codes: that problem is the boundaries', reported there.
    """
    tcodes = [(normalise_code(r.get("county_code")), r.get("county_name", "")) for r in rows]
    dup = sorted(c for c, n in Counter(c for c, _ in tcodes if c).items() if n > 1)
    if dup:
        ctx.add(label, f"duplicate county codes: {fmt_list(dup)}.", "keep one row per county.")
    if any(c == "" for c, _ in tcodes):
        ctx.add(label, "a row has an empty county_code.", "fill in the GB/T 2260 code of every row.")
    if region_code and region_code not in {c for c, _ in tcodes}:
        ctx.add(
            label,
            f"no row for the region ({region_code}, region.code in the config).",
            f"add a row `{region_code},{ctx.section('region').get('name') or '全市'},<target>,…` "
            "with the region's targets.",
        )
    _check_percentages(ctx, label, rows)
    if boundary is None or not boundary.codes_ok:
        return
    _check_against_boundaries(ctx, label, tcodes, boundary, region_code)


def _check_percentages(ctx: Context, label: str, rows: list[dict[str, str]]) -> None:
    target_cols = [k for k in (rows[0].keys() if rows else []) if re.fullmatch(r"target_\d{4}", k)]
    bad = []
    for i, r in enumerate(rows, start=2):
        for k in target_cols:
            s = r.get(k, "")
            if s == "":
                continue
            try:
                v = float(s)
                if not (0.0 <= v <= 100.0):
                    raise ValueError
            except ValueError:
                bad.append(f"line {i} {k}={s!r}")
    if bad:
        ctx.add(
            label,
            f"targets must be percentages between 0 and 100: {fmt_list(bad)}.",
            "write targets as numbers like 67.61 (no % sign).",
        )


def _check_against_boundaries(
    ctx: Context, label: str, tcodes: list[tuple[str, str]], boundary: BoundaryCodes, region_code: str
) -> None:
    bnames = {c: n for c, n in boundary.items if c}
    tnames = {c: n for c, n in tcodes if c and c != region_code}
    missing = [c for c in tnames if c not in bnames]
    if missing:
        ctx.add(
            label,
            "target counties not in the boundaries: " + fmt_list(f"{tnames[c]} ({c})" for c in missing) + ".",
            "correct the county_code in the targets table (GB/T 2260, as in the boundaries' code field), "
            "or add the county to the boundaries.",
        )
    extra = [c for c in bnames if c not in tnames]
    if extra:
        ctx.add(
            label,
            "boundary counties missing from the targets table: " + fmt_list(f"{bnames[c]} ({c})" for c in extra) + ".",
            "add a row for each of them (targets may be left empty), or remove them from the boundaries.",
        )
    differ = [
        f"{c}: {tnames[c]!r} vs {bnames[c]!r}"
        for c in tnames
        if c in bnames and normalise_name(tnames[c]) != normalise_name(bnames[c]) and tnames[c] and bnames[c]
    ]
    if differ:
        ctx.add(
            label,
            "county names differ between the targets table and the boundaries for the same code: "
            + fmt_list(differ)
            + " — is a code attached to the wrong county?",
            "check the codes; if they are right, use the boundaries' names in the targets table.",
        )
