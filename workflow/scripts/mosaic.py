"""Rules mosaic_grade and mosaic_landcover: batch rasters joined on the shared grid."""

from swc_raster.logs import logged
from swc_raster.pipeline import mosaic

with logged(snakemake.log[0]):
    mosaic(list(snakemake.input.rasters), snakemake.output.raster, grade_cog=snakemake.params.get("grade_cog", False))
