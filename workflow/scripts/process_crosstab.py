"""Rule process_crosstab: one batch's county × wind grade × water grade areas (the by-process count)."""

from swc_raster.logs import logged
from swc_raster.stages import process_crosstab

i = snakemake.input
with logged(snakemake.log[0]):
    process_crosstab(
        counties_gpkg=i.counties,
        grid_json=i.grid,
        **snakemake.params,
        out_crosstab=snakemake.output.crosstab,
        mem_mb=snakemake.resources.mem_mb,
        workers=snakemake.threads,
    )
