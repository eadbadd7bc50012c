"""Rule grade: SL 190 grades of one year's erosion with each county's T."""

from swc_raster.logs import logged
from swc_raster.pipeline import grade_year

with logged(snakemake.log[0]):
    grade_year(snakemake.input.erosion, snakemake.input.source, snakemake.input.counties, snakemake.input.grid,
               snakemake.output.grade)
