"""The whole job — rasters as delivered to county_rates.csv and erosion_by_landcover.csv — on Shanxi.

    .venv/bin/python benchmarks/whole_job.py                 # both cases, 2 interleaved repeats
    .venv/bin/python benchmarks/whole_job.py --repeat 3 --cases same-grid

Side by side, in one run, each in its own subprocess tree (wall time, CPU time of the tree,
peak RSS summed over the tree, sampled every 50 ms):

(a) ``decode``: both rasters decoded once, block by block, one process each;
(b) ``script``: what an analyst writes with rasterio + exactextract: land cover reprojected onto
    the erosion grid when it is elsewhere (WarpedVRT, nearest), a combined class raster
    ``8 · land cover + grade`` (SL 190, T = 200) written strip by strip, ``exact_extract`` with
    fractional coverage; areas = Σ coverage × map cell area;
(c) ``workflow``: ``snakemake --cores 2`` asked for the two CSVs only, from an empty results folder.

Cases (``delivered.py``): ``same-grid`` (both rasters on the CGCS2000 GK grid EPSG:4546, 30 m) and
``mixed-grid`` (land cover on lon/lat 0.00025°).  Reported: best wall time per method, ratios,
the largest |rate difference| workflow − script (pp) and the largest |land area / geodesic
polygon area − 1|.  Results go to ``benchmarks/out/whole-job/results.md``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import numpy as np  # noqa: E402
from delivered import generate, paths  # noqa: E402
from inputs import OUT, ROOT  # noqa: E402

WORK = OUT / "whole-job"
CASES = {"same-grid": "landcover_gk", "mixed-grid": "landcover_ll"}
T = 200.0


# =========================================================================== methods (subprocesses)


def _decode_one(path: str) -> None:
    import rasterio

    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(path) as src:
        for _, win in src.block_windows(1):
            src.read(1, window=win)


def method_decode(case: str) -> None:
    from concurrent.futures import ProcessPoolExecutor

    p = paths()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_decode_one, [str(p["erosion"]), str(p[CASES[case]])]))


def method_script(case: str) -> None:
    """The hand-written job: combined classes on the erosion grid, then exactextract."""
    import geopandas as gpd
    import rasterio
    from exactextract import exact_extract
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT
    from rasterio.windows import Window

    from swc_raster.grading import grade_modulus

    p = paths()
    out = WORK / case / "script"
    out.mkdir(parents=True, exist_ok=True)
    combined = out / "combined.tif"
    with rasterio.open(p["erosion"]) as ero, rasterio.open(p[CASES[case]]) as lc_src:
        lc = (
            lc_src
            if lc_src.crs == ero.crs and lc_src.transform == ero.transform
            else WarpedVRT(
                lc_src,
                crs=ero.crs,
                transform=ero.transform,
                width=ero.width,
                height=ero.height,
                resampling=Resampling.nearest,
                nodata=0,
            )
        )
        profile = ero.profile | {"dtype": "uint8", "nodata": 255, "compress": "deflate", "predictor": 2}
        with rasterio.open(combined, "w", **profile, num_threads=2) as dst:
            for r in range(0, ero.height, 1024):
                win = Window(0, r, ero.width, min(1024, ero.height - r))
                a = ero.read(1, window=win).astype("float64")
                a[a == -9999.0] = np.nan
                dst.write(lc.read(1, window=win) * np.uint8(8) + grade_modulus(a, T), 1, window=win)
        counties = gpd.read_file(WORK / "counties.gpkg", layer="counties").to_crs(ero.crs.to_wkt())
        cell_km2 = abs(ero.transform.a * ero.transform.e) / 1e6
    df = exact_extract(str(combined), counties, ["count", "unique", "frac"], output="pandas")
    areas = np.zeros((len(counties), 9 * 8))
    for i, (c, u, fr) in enumerate(zip(df["count"], df["unique"], df["frac"])):
        for v, f in zip(u, fr):
            areas[i, int(v)] += float(f) * float(c) * cell_km2
    np.save(out / "areas.npy", areas)
    (out / "codes.json").write_text(json.dumps(list(counties.county_code)))


def method_workflow(case: str) -> None:
    work = WORK / case / "workflow"
    for sub in ("results", ".snakemake", "logs"):
        shutil.rmtree(work / sub, ignore_errors=True)
    with (work / "snakemake.log").open("w") as log:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "results/2023/county_rates.csv",
                "results/2023/erosion_by_landcover.csv",
                "--snakefile",
                str(ROOT / "Snakefile"),
                "--cores",
                "2",
                "--directory",
                str(work),
                "--configfile",
                str(work / "config.yaml"),
            ],
            check=True,
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


# =========================================================================== setup and the parent


def setup(case: str) -> None:
    """Counties (stand-in codes), targets and the workflow's config for ``case``."""
    import csv

    import yaml
    from inputs import load_counties

    p = paths()
    WORK.mkdir(parents=True, exist_ok=True)
    if not (WORK / "counties.gpkg").exists():
        # the shared file has no GB/T 2260 codes: six-digit stand-ins 140101… in city/district order
        counties = load_counties("shanxi").to_crs("EPSG:4326")
        counties["county_code"] = [f"{140100 + i:06d}" for i in range(1, len(counties) + 1)]
        counties["county_name_en"] = counties["county_code"]
        counties[["county_code", "county_name", "county_name_en", "geometry"]].to_file(
            WORK / "counties.gpkg", layer="counties"
        )
        with (WORK / "targets.csv").open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["county_code", "county_name", "target_2025", "target_2035"])
            for code, name in zip(counties.county_code, counties.county_name):
                out.writerow([code, name, 65.0, 75.0])
            out.writerow(["140000", "全省", 65.0, 75.0])
    work = WORK / case / "workflow"
    work.mkdir(parents=True, exist_ok=True)
    cfg = {
        "region": {"code": "140000", "name": "山西省", "name_en": "Shanxi"},
        "boundaries": {"path": str(WORK / "counties.gpkg"), "layer": "counties", "name_en_field": "county_name_en"},
        "targets": str(WORK / "targets.csv"),
        "landcover_legend": str(ROOT / "config/landcover_legend.csv"),
        "analysis": {"grid": "source"},
        "allowable_loss": {"default_t_km2": T},
        "years": [
            {"year": 2023, "landcover": str(p[CASES[case]]), "erosion": str(p["erosion"]), "erosion_unit": "t/km2/a"}
        ],
    }
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")


def measure(method: str, case: str) -> dict:
    from run import monitor

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    info = monitor([sys.executable, str(Path(__file__).resolve()), "_method", method, case])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    info["cpu_seconds"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return info


def compare(case: str) -> dict:
    """Largest rate difference against the script (pp) and land area against geodesic polygon areas."""
    import geopandas as gpd
    import pandas as pd
    from pyproj import Geod

    work = WORK / case
    rates = pd.read_csv(
        work / "workflow/results/2023/county_rates.csv", dtype={"county_code": str}, encoding="utf-8-sig"
    )
    rates = rates[rates.level == "county"].set_index("county_code")
    areas = np.load(work / "script/areas.npy").reshape(-1, 9, 8).sum(axis=1)
    codes = json.loads((work / "script/codes.json").read_text())
    land, gap = areas.sum(axis=1), areas[:, 7]
    script_rate = pd.Series(100 * (land - gap - areas[:, 2:7].sum(axis=1)) / (land - gap), index=codes)
    counties = gpd.read_file(WORK / "counties.gpkg", layer="counties").set_index("county_code")
    geod = Geod(ellps="GRS80")
    geodesic = pd.Series(
        [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in counties.geometry.to_crs(4490)], index=counties.index
    )
    return {
        "rate_diff_pp": float((rates.rate_pct - script_rate.reindex(rates.index)).abs().max()),
        "land_vs_geodesic": float((rates.land_area_km2 / geodesic.reindex(rates.index) - 1).abs().max()),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args(argv)
    generate()
    cases = args.cases.split(",")
    for case in cases:
        setup(case)
    runs: dict = {case: {m: [] for m in ("decode", "script", "workflow")} for case in cases}
    for rep in range(args.repeat):
        for case in cases:
            for method in ("decode", "script", "workflow"):
                info = measure(method, case)
                runs[case][method].append(info)
                print(
                    f"[{rep + 1}/{args.repeat}] {case:10s} {method:8s} wall {info['process_seconds']:6.1f} s  "
                    f"cpu {info['cpu_seconds']:6.1f} s  peak RSS {info['peak_rss_mb']:6.0f} MB",
                    flush=True,
                )
    lines = [
        "| case | method | wall s (best) | CPU s | peak RSS MB | × decode | script ÷ method |",
        "|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for case in cases:
        best = {m: min(r, key=lambda i: i["process_seconds"]) for m, r in runs[case].items()}
        dec, scr = best["decode"]["process_seconds"], best["script"]["process_seconds"]
        for m, i in best.items():
            lines.append(
                f"| {case} | {m} | {i['process_seconds']:.1f} | {i['cpu_seconds']:.1f} | {i['peak_rss_mb']:.0f} | "
                f"{i['process_seconds'] / dec:.2f} | {scr / i['process_seconds']:.2f} |"
            )
        summary[case] = {"best": best, "all": runs[case], **compare(case)}
    lines.append("")
    for case in cases:
        lines.append(
            f"- {case}: max |rate − script rate| = {summary[case]['rate_diff_pp']:.4f} pp; "
            f"max |land area / geodesic area − 1| = {100 * summary[case]['land_vs_geodesic']:.4f} %"
        )
    text = "\n".join(lines)
    print(text)
    (WORK / "results.md").write_text(text + "\n")
    (WORK / "results.json").write_text(json.dumps(summary, indent=1, default=float))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_method":
        globals()["method_" + sys.argv[2]](sys.argv[3])
    else:
        main()
