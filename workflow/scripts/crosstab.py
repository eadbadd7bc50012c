"""Rule crosstab: one batch's county × land cover × grade areas, window by window on all threads."""

from swc_raster.logs import logged
from swc_raster.pipeline import tabulate_batch

with logged(snakemake.log[0]):
    tabulate_batch(snakemake.config, snakemake.input.landcover, snakemake.input.erosion, snakemake.input.source,
                   snakemake.input.counties, snakemake.input.grid, snakemake.output.crosstab,
                   mem_mb=snakemake.resources.mem_mb, workers=snakemake.threads)
