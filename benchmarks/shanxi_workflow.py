"""The whole workflow — validation to report — on all 117 county-level units of Shanxi at 30 m.

    .venv/bin/python benchmarks/shanxi_workflow.py            # make inputs (cached), run, summarise
    .venv/bin/python benchmarks/shanxi_workflow.py --dry-run  # only show the jobs

Inputs: the real boundaries (``../shared/data/shanxi_counties.gpkg``) and two years (2023,
2024) of synthetic land cover and erosion modulus on the Albers 30 m grid, made by the
benchmark's generator (``inputs.py``; 2024 has ≈ 6 % less erosion and new pixel noise).
The file has no GB/T 2260 codes, so the counties get six-digit stand-in codes ``140101…`` (city,
district order); the targets are stand-ins too (65 % for 2025, 75 % for 2035 everywhere):
the Shanxi plan's county targets are not in the shared data.

Everything goes to ``benchmarks/out/shanxi-workflow/`` (git-ignored): the config, the
boundaries, the targets, Snakemake's results/ and logs/, and ``summary.md`` with the wall
time and each rule's largest peak memory (Snakemake's benchmark files).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from inputs import ALBERS, DATA, OUT, ROOT, Case, generate, load_counties  # noqa: E402

WORK = OUT / "shanxi-workflow"
YEARS = {
    2023: Case("shanxi-workflow-2023", "shanxi", 30.0, gap_strip_m=0.0),
    2024: Case("shanxi-workflow-2024", "shanxi", 30.0, gap_strip_m=0.0, log_a0_shift=-0.06, noise_seed=1),
}
TARGETS = (65.0, 75.0)  # stand-ins for 2025 and 2035, %


def write_boundaries_and_targets() -> tuple[Path, Path]:
    """Shanxi's counties with stand-in codes and names (district; city + district where a name repeats)."""
    counties = load_counties("shanxi").to_crs("EPSG:4326")
    source = gpd.read_file(DATA / "shanxi_counties.gpkg", layer="counties")
    district = dict(zip(source["city"] + source["district"], source["district"]))
    short = counties["county_name"].map(district)
    repeated = short.duplicated(keep=False)
    counties["county_name"] = short.where(~repeated, counties["county_name"])
    # six-digit stand-ins (the header check refuses codes that are not GB/T 2260-like)
    counties["county_code"] = [f"{140100 + i:06d}" for i in range(1, len(counties) + 1)]
    counties["county_name_en"] = counties["county_code"]
    path = WORK / "shanxi_counties.gpkg"
    counties[["county_code", "county_name", "county_name_en", "geometry"]].to_file(path, layer="counties")
    targets = WORK / "targets.csv"
    with targets.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["county_code", "county_name", "target_2025", "target_2035"])
        for code, name in zip(counties.county_code, counties.county_name):
            out.writerow([code, name, *TARGETS])
        out.writerow(["140000", "全省", *TARGETS])
    return path, targets


def write_config(boundaries: Path, targets: Path) -> Path:
    cfg = {
        "region": {"code": "140000", "name": "山西省", "name_en": "Shanxi"},
        "boundaries": {
            "path": str(boundaries),
            "layer": "counties",
            "code_field": "county_code",
            "name_field": "county_name",
            "name_en_field": "county_name_en",
        },
        "targets": str(targets),
        "landcover_legend": str(ROOT / "config/landcover_legend.csv"),
        "analysis": {"crs": ALBERS, "resolution_m": 30},
        "allowable_loss": {"default_t_km2": 200, "by_county": {}},
        "demo": True,  # synthetic rasters: the report says so
        "years": [
            {"year": y, "landcover": str(c.landcover), "erosion": str(c.erosion), "erosion_unit": "t/km2/a"}
            for y, c in YEARS.items()
        ],
    }
    path = WORK / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def peak_memory_by_rule() -> pd.DataFrame:
    """Largest max_rss (MB) and longest wall time (s) of each rule, from results/benchmarks/**.tsv."""
    rows = []
    folder = WORK / "results" / "benchmarks"
    for tsv in folder.rglob("*.tsv"):  # results/benchmarks/<rule>/...tsv
        df = pd.read_csv(tsv, sep="\t")
        rows.append(
            {
                "rule": tsv.relative_to(folder).parts[0],
                "s": float(df["s"].max()),
                "max_rss_mb": float(df["max_rss"].max()),
            }
        )
    if not rows:
        return pd.DataFrame(columns=["rule", "jobs", "longest s", "peak RSS MB"])
    df = pd.DataFrame(rows)
    return (
        df.groupby("rule")
        .agg(jobs=("s", "size"), longest_s=("s", "max"), peak_rss_mb=("max_rss_mb", "max"))
        .reset_index()
        .rename(columns={"longest_s": "longest s", "peak_rss_mb": "peak RSS MB"})
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    for case in YEARS.values():
        generate(case)
    config = write_config(*write_boundaries_and_targets())
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(WORK),
        "--configfile",
        str(config),
        "--cores",
        str(args.cores),
        *(["--dry-run"] if args.dry_run else []),
    ]
    print(" ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - t0
    if args.dry_run:
        return
    mem = peak_memory_by_rule()
    rates = pd.read_csv(WORK / "results" / "2024" / "county_rates.csv", dtype={"county_code": str})
    text = (
        f"# Shanxi, 117 counties, 30 m, 2023–2024: the whole workflow\n\n"
        f"`{' '.join(cmd[1:])}` — {seconds / 60:.1f} min on {args.cores} cores.\n\n"
        f"Rates 2024 (synthetic data): region {rates.rate_pct.iloc[-1]:.2f} %, counties "
        f"{rates.rate_pct.iloc[:-1].min():.2f}–{rates.rate_pct.iloc[:-1].max():.2f} %.\n\n"
        f"Peak memory and time per rule (Snakemake benchmark files):\n\n{mem.to_markdown(index=False)}\n"
    )
    (WORK / "summary.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
