"""Rules mosaic_grade, mosaic_landcover and gather_transitions: batch rasters joined on the shared grid."""

from swc_raster.logs import logged
from swc_raster.pipeline import concat_csv, mosaic

with logged(snakemake.log[0]):
    mosaic(list(snakemake.input.rasters), snakemake.output.raster, grade_cog=snakemake.params.get("grade_cog", False))
    if "tables" in snakemake.input.keys():
        concat_csv(list(snakemake.input.tables), snakemake.output.table)
