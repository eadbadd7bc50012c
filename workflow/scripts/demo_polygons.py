"""Rule demo_polygons: one demo year delivered as polygons (erosion patches and survey land use)."""

from pathlib import Path

from swc_raster.demo import DEMO_POLYGON_FILES, write_demo_polygons
from swc_raster.logs import logged

with logged(snakemake.log[0]) as log:
    out_dir = Path(snakemake.output.patches).parent
    expected = {str(out_dir / name) for name, _, _ in DEMO_POLYGON_FILES.values()}
    if expected != {str(Path(p)) for p in snakemake.output}:
        raise RuntimeError(f"rule outputs {list(snakemake.output)} do not match the demo's files {sorted(expected)}")
    summary = write_demo_polygons(snakemake.input.boundaries, int(snakemake.wildcards.year), str(out_dir))
    log.info("demo polygon year written: %s", summary)
