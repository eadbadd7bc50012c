"""Rule demo_factors: the synthetic Jincheng demo's CSLE input rasters of one year."""

from pathlib import Path

from swc_raster.demo import DEMO_FACTOR_FILES, write_demo_factors
from swc_raster.logs import logged

with logged(snakemake.log[0]) as log:
    out_dir = Path(snakemake.output.dem).parent
    expected = {str(out_dir / name) for name, _, _ in DEMO_FACTOR_FILES.values()}
    if expected != {str(Path(p)) for p in snakemake.output}:
        raise RuntimeError(f"rule outputs {list(snakemake.output)} do not match the demo's files {sorted(expected)}")
    summary = write_demo_factors(snakemake.input.boundaries, int(snakemake.wildcards.year), str(out_dir))
    log.info("demo CSLE factor rasters written: %s", summary)
