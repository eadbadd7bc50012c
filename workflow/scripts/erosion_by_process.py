"""Rule erosion_by_process: water, wind and total erosion area by grade (erosion_by_process.csv)."""

from swc_raster.logs import logged
from swc_raster.stages import erosion_by_process

i = snakemake.input
with logged(snakemake.log[0]):
    erosion_by_process(
        i.crosstab,
        i.get("process"),
        year=int(snakemake.wildcards.year),
        counties_gpkg=i.counties,
        **snakemake.params,
        out_csv=snakemake.output.table,
    )
