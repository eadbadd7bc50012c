"""Rule demo_rasters: the synthetic Jincheng demo rasters of one year."""

from swc_raster.demo import write_demo_year
from swc_raster.logs import logged

with logged(snakemake.log[0]) as log:
    summary = write_demo_year(
        snakemake.input.boundaries, int(snakemake.wildcards.year), snakemake.output.landcover, snakemake.output.erosion
    )
    log.info("demo rasters written: %s", summary)
