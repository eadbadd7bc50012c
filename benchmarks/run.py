"""Benchmark of the zonal engine against the I/O floor, exactextract and rasterstats.

    .venv/bin/python benchmarks/run.py --scale shanxi      # 117 counties, 30 m, ~270 Mpx
    .venv/bin/python benchmarks/run.py --scale jincheng    # 6 counties, 30 m and 10 m (fast)
    .venv/bin/python benchmarks/run.py --scale all

Every method runs in its own subprocess (``run.py _method ...``) so that its
wall time and peak memory are its own; the parent samples the RSS (and PSS) of
the subprocess tree with psutil.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import numpy as np  # noqa: E402
from inputs import LEGEND, OUT, Case, build_combined, generate  # noqa: E402

N_CLASSES = len(LEGEND) + 1  # index 0 = unclassified
N_GRADES = 8
SCALES = {
    "shanxi": [Case("shanxi-30m", "shanxi", 30.0)],
    "jincheng": [Case("jincheng-30m", "jincheng", 30.0), Case("jincheng-10m", "jincheng", 10.0)],
}
SCALES["all"] = SCALES["jincheng"] + SCALES["shanxi"]
METHODS = [
    "floor",
    "floor-threads",
    "floor-inside",
    "engine",
    "combine",
    "exactextract",
    "exactextract-2p",
    "rasterstats",
]
REFERENCE = "exactextract"


# =========================================================================== methods (run in a subprocess)


_LOADED: dict = {}


def _counties(case: Case):
    """The counties (read before the timer starts, see run_method)."""
    if "counties" not in _LOADED:
        import geopandas as gpd

        _LOADED["counties"] = gpd.read_file(case.counties_path, layer="counties")
    return _LOADED["counties"]


def _grid(case: Case):
    if "grid" not in _LOADED:
        from swc_raster.grid import AnalysisGrid

        _LOADED["grid"] = AnalysisGrid.from_json(case.grid_path)
    return _LOADED["grid"]


def _warm_up(case: Case) -> None:
    """Untimed: read the inputs' small files, import what every method needs, open each raster once."""
    import rasterio

    import swc_raster.zonal  # noqa: F401

    _counties(case)
    _grid(case)
    for path in (case.landcover, case.erosion, case.combined):
        if path.exists():
            with rasterio.open(path) as src:
                src.read(1, window=((0, 1), (0, 1)))


# ---- (a) the I/O floor: decode both rasters, window by window, nothing else

_FLOOR: dict = {}


def _floor_init(lc: str, erosion: str) -> None:
    import rasterio

    from swc_raster.zonal import GDAL_CACHE_MB  # imported by the parent already: workers are forked

    _FLOOR["env"] = rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB).__enter__()  # as the engine's workers
    _FLOOR.update(lc=rasterio.open(lc), erosion=rasterio.open(erosion))


def _floor_read(win) -> int:
    a = _FLOOR["lc"].read(1, window=win)
    b = _FLOOR["erosion"].read(1, window=win)
    return int(a[0, 0]) + int(b[-1, -1])  # touch the data; nothing else


def _floor(case: Case, windows: list, workers: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    import rasterio  # noqa: F401  (as the engine: the parent has imported everything before forking)

    import swc_raster.zonal  # noqa: F401

    with ProcessPoolExecutor(
        workers, initializer=_floor_init, initargs=(str(case.landcover), str(case.erosion))
    ) as pool:
        list(pool.map(_floor_read, windows, chunksize=max(1, len(windows) // (8 * workers))))


def method_floor(case: Case, args) -> None:
    """Decode both rasters, all of them, with ``workers`` processes over the engine's windows."""
    _floor(case, _grid(case).windows(args.window), args.workers)
    return None


def method_floor_inside(case: Case, args) -> None:
    """Decode only the 512-cell tiles that meet a county, as the engine does (it skips the others unread)."""
    import shapely

    from swc_raster.zonal import TILE

    grid = _grid(case)
    tiles = grid.windows(min(TILE, args.window))
    t = grid.transform
    x0 = np.array([t.c + w.col_off * t.a for w in tiles])
    y1 = np.array([t.f + w.row_off * t.e for w in tiles])
    boxes = shapely.box(
        x0, y1 + np.array([w.height * t.e for w in tiles]), x0 + np.array([w.width * t.a for w in tiles]), y1
    )
    hit = np.unique(shapely.STRtree(_counties(case).geometry.values).query(boxes, predicate="intersects")[0])
    _floor(case, [tiles[i] for i in hit], args.workers)
    return None


def method_floor_threads(case: Case, args) -> None:
    """Decode both rasters with ``workers`` threads (one dataset handle per thread)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import rasterio

    from swc_raster.zonal import GDAL_CACHE_MB

    local = threading.local()

    def read(win):
        if not hasattr(local, "lc"):
            local.lc, local.erosion = rasterio.open(case.landcover), rasterio.open(case.erosion)
        return int(local.lc.read(1, window=win)[0, 0]) + int(local.erosion.read(1, window=win)[0, 0])

    windows = _grid(case).windows(args.window)
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(read, windows))
    return None


# ---- (b) the engine


def method_engine(case: Case, args) -> np.ndarray:
    from inputs import T_ALLOWABLE, footprint

    from swc_raster.zonal import crosstab

    counties, grid = _counties(case), _grid(case)
    t_by_zone = np.full(int(counties.zone.max()) + 1, T_ALLOWABLE)
    da = crosstab(
        case.landcover,
        case.erosion,
        counties,
        LEGEND,
        grid,
        t_by_zone,
        footprint=footprint(grid, case),
        window_size=args.window,
        workers=args.workers,
    )
    return da.values  # (county, land-cover index, grade), km²


# ---- (c) exactextract on the combined class raster (built by the "combine" method)


def method_combine(case: Case, args) -> None:
    build_combined(case)
    return None


def _combined_to_array(values_by_county: list[dict[int, float]], cell_km2: float) -> np.ndarray:
    out = np.zeros((len(values_by_county), N_CLASSES, N_GRADES))
    lut = np.zeros(256, dtype=int)
    lut[LEGEND] = np.arange(1, len(LEGEND) + 1)
    for i, values in enumerate(values_by_county):
        for v, cells in values.items():
            out[i, lut[int(v) // 8], int(v) % 8] += cells * cell_km2
    return out


def _ee_chunk(combined: str, counties_wkb: list[bytes], crs: str) -> list[dict[int, float]]:
    import geopandas as gpd
    import shapely
    from exactextract import exact_extract

    vec = gpd.GeoDataFrame({"i": range(len(counties_wkb))}, geometry=shapely.from_wkb(counties_wkb), crs=crs)
    df = exact_extract(combined, vec, ["count", "unique", "frac"], output="pandas")
    return [
        {int(v): float(f) * float(c) for v, f in zip(u, fr)} for c, u, fr in zip(df["count"], df["unique"], df["frac"])
    ]


def method_exactextract(case: Case, args) -> np.ndarray:
    """Fractional coverage: area of value v in a county = frac(v) × count (Σ coverage fractions)."""
    import shapely

    counties = _counties(case)
    wkb = shapely.to_wkb(counties.geometry.values).tolist()
    values = _ee_chunk(str(case.combined), wkb, counties.crs.to_wkt())
    return _combined_to_array(values, _grid(case).cell_area_km2)


def method_exactextract_2p(case: Case, args) -> np.ndarray:
    """exactextract on ``workers`` processes, counties dealt out largest first."""
    from concurrent.futures import ProcessPoolExecutor

    import shapely

    counties = _counties(case)
    order = np.argsort(-counties.geometry.area.to_numpy())
    parts = [order[k :: args.workers] for k in range(args.workers)]
    wkb = shapely.to_wkb(counties.geometry.values)
    crs = counties.crs.to_wkt()
    values: list[dict] = [{}] * len(counties)
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [pool.submit(_ee_chunk, str(case.combined), wkb[p].tolist(), crs) for p in parts]
        for p, fut in zip(parts, futures):
            for i, v in zip(p, fut.result()):
                values[i] = v
    return _combined_to_array(values, _grid(case).cell_area_km2)


# ---- (d) rasterstats, categorical, on the combined raster


def method_rasterstats(case: Case, args) -> np.ndarray:
    from rasterstats import zonal_stats

    counties = _counties(case)
    stats = zonal_stats(counties, str(case.combined), categorical=True, nodata=255, all_touched=False)
    return _combined_to_array([{int(k): float(v) for k, v in s.items()} for s in stats], _grid(case).cell_area_km2)


def run_method(name: str, case: Case, args) -> None:
    import resource

    fn = globals()["method_" + name.replace("-", "_")]

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    _warm_up(case)
    c0, t0 = cpu(), time.perf_counter()
    result = fn(case, args)
    seconds = time.perf_counter() - t0
    cpu_seconds = cpu() - c0  # worker processes count once they have been joined
    out = case.dir / "runs"
    out.mkdir(exist_ok=True)
    if result is not None:
        np.save(out / f"{name}.npy", result)
    info = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    (out / f"{name}.json").write_text(json.dumps(info))


# =========================================================================== the parent


def monitor(cmd: list[str], interval: float = 0.05) -> dict:
    """Run ``cmd``; return its wall time and the peak RSS / PSS (MB) summed over its process tree."""
    import psutil

    t0 = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=HERE.parent)
    peak_rss = peak_pss = 0
    last_pss = 0.0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = pss = 0
        want_pss = time.perf_counter() - last_pss > 0.25
        for p in procs:
            try:
                if want_pss:
                    m = p.memory_full_info()
                    rss += m.rss
                    pss += m.pss
                else:
                    rss += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak_rss = max(peak_rss, rss)
        if want_pss:
            peak_pss, last_pss = max(peak_pss, pss), time.perf_counter()
        time.sleep(interval)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return {
        "process_seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss / 2**20,
        "peak_pss_mb": peak_pss / 2**20,
    }


def rates(areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """County land area (km²) and rate (%): 100 (1 − grades 2–6 / (land − grade 7))."""
    by_grade = areas.sum(axis=1)
    land = by_grade.sum(axis=1)
    eroded = by_grade[:, 2:7].sum(axis=1)
    return land, 100.0 * (1.0 - eroded / (land - by_grade[:, 7]))


FLOORS = ("floor", "floor-threads")
NO_RESULT = ("floor", "floor-threads", "floor-inside", "combine")


def bench_case(case: Case, args) -> list[dict]:
    """Run every method ``args.repeat`` times (interleaved), keep the best wall time and the largest peak memory."""
    meta = generate(case)
    runs: dict[str, list[dict]] = {m: [] for m in args.methods}
    for rep in range(args.repeat):
        for name in args.methods:
            if name in ("exactextract", "exactextract-2p", "rasterstats") and not case.combined.exists():
                raise SystemExit(f"{case.combined} is missing: run the 'combine' method first")
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "_method",
                name,
                case.name,
                "--window",
                str(args.window),
                "--workers",
                str(args.workers),
            ]
            mon = monitor(cmd)
            info = json.loads((case.dir / "runs" / f"{name}.json").read_text())
            runs[name].append({**info, **mon})
            print(
                f"[{case.name}] run {rep + 1}/{args.repeat} {name:16s} {info['seconds']:8.2f} s  "
                f"cpu {info['cpu_seconds']:7.2f} s  "
                f"peak RSS {mon['peak_rss_mb']:6.0f} MB   PSS {mon['peak_pss_mb']:6.0f} MB",
                flush=True,
            )
    rows = []
    for name, rs in runs.items():
        secs = sorted(r["seconds"] for r in rs)
        rows.append(
            {
                "case": case.name,
                "method": name,
                "seconds": secs[0],
                "median_seconds": secs[len(secs) // 2],
                "all_seconds": [r["seconds"] for r in rs],
                "runs": len(rs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                "peak_pss_mb": max(r["peak_pss_mb"] for r in rs),
                "process_seconds": min(r["process_seconds"] for r in rs),
                "cpu_seconds": min(r["cpu_seconds"] for r in rs),
            }
        )
    # compare results (the last run of each method)
    results = {
        r["method"]: np.load(case.dir / "runs" / f"{r['method']}.npy") for r in rows if r["method"] not in NO_RESULT
    }
    ref_path = case.dir / "runs" / f"{REFERENCE}.npy"
    ref = results.get(REFERENCE, np.load(ref_path) if ref_path.exists() else None)
    by_name = {r["method"]: r for r in rows}
    floor = min((by_name[f]["seconds"] for f in FLOORS if f in by_name), default=None)
    inside = by_name.get("floor-inside", {}).get("seconds")
    floor_cpu = min((by_name[f]["cpu_seconds"] for f in FLOORS if f in by_name), default=None)
    for r in rows:
        r["cpu_ratio_to_floor"] = r["cpu_seconds"] / floor_cpu if floor_cpu else None
        r["ratio_to_floor"] = r["seconds"] / floor if floor else None
        r["ratio_to_floor_inside"] = r["seconds"] / inside if inside else None
        if r["method"] in results and ref is not None:
            land_r, rate_r = rates(ref)
            land, rate = rates(results[r["method"]])
            d = np.abs(rate - rate_r)
            k = int(np.nanargmax(d))
            r["max_rate_diff_pp"] = float(d[k])
            r["max_rate_diff_county"] = k + 1
            r["max_land_diff_pct"] = float(np.max(np.abs(land / land_r - 1)) * 100)
            r["mean_rate_pct"] = float(np.mean(rate))
    if "engine" in results and ref is not None:
        meta.pop("engine_equals_rasterstats_cells", None)
        meta["engine_vs_exactextract_max_abs_km2"] = float(np.abs(results["engine"] - ref).max())
    (case.dir / "results.json").write_text(json.dumps({"meta": meta, "repeat": args.repeat, "rows": rows}, indent=1))
    return rows


def fmt_table(rows: list[dict]) -> str:
    head = (
        "| case | method | wall s (best) | wall s (median) | CPU s | peak RSS MB (tree) | peak PSS MB | × floor "
        "| × floor-inside | CPU × floor | max rate diff vs exactextract, pp | max land diff % |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def f(v, spec):
        return format(v, spec) if v is not None else ""

    for r in rows:
        lines.append(
            f"| {r['case']} | {r['method']} | {r['seconds']:.2f} | {r['median_seconds']:.2f} | {r['cpu_seconds']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {r['peak_pss_mb']:.0f} | {f(r.get('ratio_to_floor'), '.2f')} | "
            f"{f(r.get('ratio_to_floor_inside'), '.2f')} | {f(r.get('cpu_ratio_to_floor'), '.2f')} | "
            f"{f(r.get('max_rate_diff_pp'), '.4f')} | {f(r.get('max_land_diff_pct'), '.3f')} |"
        )
    return "\n".join(lines)


def write_results(cases: list[Case]) -> str:
    """benchmarks/out/results.md from every case's latest results.json."""
    import rasterio

    parts = [
        "# swc-raster zonal benchmark\n",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}, "
        f"rasterio {rasterio.__version__} / GDAL {rasterio.__gdal_version__}.  Written {time.strftime('%Y-%m-%d %H:%M')}.\n",
        "Each method runs in its own subprocess, the methods interleaved, `repeat` times; `wall s` is the method's own "
        "call timed inside its subprocess (best and median of the runs); peak memory is the largest over the runs, "
        "sampled every 50 ms over the subprocess tree (RSS summed over processes counts shared pages once per "
        "process; PSS splits them).  `× floor` = best wall / best of `floor` (processes) and `floor-threads`, both "
        "decoding the whole of both rasters with as many workers as the engine; `× floor-inside` = best wall / "
        "`floor-inside`, which decodes only the 512-cell tiles that meet a county (the engine skips the others "
        "unread).  Rate diff = max over counties of |rate − exactextract's rate| (rate = 100·(1 − grades 2–6 / "
        "(land − grade 7))); land diff = max |county land / exactextract's − 1|.  `exactextract` excludes building "
        "the combined class raster (`combine`), which it and rasterstats both use.\n",
    ]
    for case in cases:
        path = case.dir / "results.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        m = data["meta"]
        parts.append(
            f"\n## {case.name}: {m['width']} × {m['height']} = {m['mpx']:.1f} Mpx, {m['counties']} counties; "
            f"inputs {m['landcover_mb']:.0f} MB + {m.get('erosion_mb', 0):.0f} MB (DEFLATE, 512² tiles); "
            f"repeat {data.get('repeat', 1)}\n"
        )
        parts.append(fmt_table(data["rows"]) + "\n")
        if "engine_vs_exactextract_max_abs_km2" in m:
            parts.append(
                "Engine areas vs exactextract's, every county × land cover × grade: largest difference "
                f"{m['engine_vs_exactextract_max_abs_km2']:.1e} km² (both weigh boundary cells by their coverage).\n"
            )
    text = "\n".join(parts)
    (OUT / "results.md").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_method":
        p = argparse.ArgumentParser()
        p.add_argument("_", choices=["_method"])
        p.add_argument("method", choices=METHODS)
        p.add_argument("case")
        p.add_argument("--window", type=int, default=2048)
        p.add_argument("--workers", type=int, default=2)
        a = p.parse_args(argv)
        case = next(c for c in SCALES["all"] if c.name == a.case)
        run_method(a.method, case, a)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=sorted(SCALES), default="jincheng")
    p.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated subset of {','.join(METHODS)} (default: all, in this order)",
    )
    p.add_argument("--window", type=int, default=2048, help="window size (cells a side) for the engine and the floor")
    p.add_argument("--workers", type=int, default=2, help="worker processes/threads for the engine and the floor")
    p.add_argument(
        "--repeat", type=int, default=3, help="runs of each method (interleaved); the best wall time is reported"
    )
    args = p.parse_args(argv)
    args.methods = [m for m in METHODS if m in args.methods.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in SCALES[args.scale]:
        rows += bench_case(case, args)
    print()
    print(fmt_table(rows))
    write_results(SCALES["all"])
    print(f"\nwritten {OUT / 'results.md'}")


if __name__ == "__main__":
    main()
