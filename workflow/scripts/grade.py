"""Rule grade: SL 190 grades of one batch's erosion with each county's T."""

from swc_raster.logs import logged
from swc_raster.stages import grade

i = snakemake.input
with logged(snakemake.log[0]):
    grade(i.erosion, counties_gpkg=i.counties, grid_json=i.grid, **snakemake.params, out_grade=snakemake.output.grade)
