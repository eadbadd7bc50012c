"""Rule prepare_boundaries: all counties to the analysis CRS, repaired, with zone ids and T."""

from swc_raster.logs import logged
from swc_raster.pipeline import prepare_boundaries

with logged(snakemake.log[0]):
    prepare_boundaries(snakemake.config, snakemake.output.counties)
