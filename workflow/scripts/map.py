"""Rule map: one of the year's maps (rate, target gap, erosion grade, land cover), PNG and PDF."""

from swc_raster.logs import logged
from swc_raster.pipeline import draw_map

with logged(snakemake.log[0]):
    draw_map(snakemake.config, snakemake.wildcards.kind, int(snakemake.wildcards.year), dict(snakemake.input.items()),
             snakemake.output.png, snakemake.output.pdf)
