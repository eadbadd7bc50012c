"""Rule prepare_boundaries: counties to the analysis CRS with zone ids, and the grid."""

from swc_raster.logs import logged
from swc_raster.pipeline import prepare_boundaries

with logged(snakemake.log[0]):
    prepare_boundaries(snakemake.config, snakemake.output.counties, snakemake.output.grid, snakemake.output.zones)
