"""Rule batch_zones: each cell's zone id on the batch's grid (for the transition tables)."""

from swc_raster.logs import logged
from swc_raster.stages import batch_zones

i = snakemake.input
with logged(snakemake.log[0]):
    batch_zones(i.counties, i.grid, out_zones=snakemake.output.zones)
