"""Rule mosaic_grade: the batches' grade rasters of one year as one COG for maps and QGIS."""

from swc_raster.logs import logged
from swc_raster.stages import mosaic_grade

with logged(snakemake.log[0]):
    mosaic_grade(list(snakemake.input.rasters), **snakemake.params, out_raster=snakemake.output.raster)
