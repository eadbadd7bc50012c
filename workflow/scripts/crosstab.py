"""Rule crosstab: one batch's county × land cover × grade areas, window by window on all threads."""

from swc_raster.logs import logged
from swc_raster.pipeline import tabulate_batch
from swc_raster.zonal import window_for_memory

with logged(snakemake.log[0]):
    tabulate_batch(snakemake.config, snakemake.input.landcover, snakemake.input.grade, snakemake.input.counties,
                   snakemake.input.grid, snakemake.output.crosstab,
                   window_size=window_for_memory(snakemake.resources.mem_mb, snakemake.threads),
                   workers=snakemake.threads)
