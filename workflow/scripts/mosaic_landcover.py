"""Rule mosaic_landcover: the batches' aligned land cover of one year as one COG with class names."""

from swc_raster.logs import logged
from swc_raster.stages import mosaic_landcover

with logged(snakemake.log[0]):
    mosaic_landcover(
        list(snakemake.input.rasters),
        legend_csv=snakemake.input.legend,
        **snakemake.params,
        out_raster=snakemake.output.raster,
    )
