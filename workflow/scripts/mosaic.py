"""Rules mosaic_grade and gather_transitions: batch rasters joined on the shared grid (and tables stacked)."""

from swc_raster.logs import logged
from swc_raster.pipeline import concat_csv, mosaic

with logged(snakemake.log[0]):
    mosaic(list(snakemake.input.rasters), snakemake.output.raster)
    if "tables" in snakemake.input.keys():
        concat_csv(list(snakemake.input.tables), snakemake.output.table)
