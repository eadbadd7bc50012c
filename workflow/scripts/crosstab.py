"""Rule crosstab: county × land cover × grade areas, window by window on all threads."""

from swc_raster.logs import logged
from swc_raster.pipeline import tabulate_year
from swc_raster.zonal import window_for_memory

with logged(snakemake.log[0]):
    tabulate_year(snakemake.config, int(snakemake.wildcards.year), snakemake.input.landcover, snakemake.input.grade,
                  snakemake.input.counties, snakemake.input.grid, snakemake.output.crosstab, snakemake.output.table,
                  window_size=window_for_memory(snakemake.resources.mem_mb, snakemake.threads),
                  workers=snakemake.threads)
