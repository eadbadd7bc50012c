"""Rule prepare_boundaries: all counties to the analysis CRS, repaired, with their areas."""

from swc_raster.logs import logged
from swc_raster.stages import prepare_boundaries

with logged(snakemake.log[0]):
    prepare_boundaries(snakemake.input.boundaries, **snakemake.params, out_gpkg=snakemake.output.counties)
