"""Rule draw_map: one of the year's maps (rate, target gap, erosion grade, land cover), PNG and PDF."""

from swc_raster.logs import logged
from swc_raster.stages import draw_map

w = snakemake.wildcards
with logged(snakemake.log[0]):
    draw_map(
        w.kind,
        dict(snakemake.input.items()),
        year=int(w.year),
        **snakemake.params,
        out_png=snakemake.output.png,
        out_pdf=snakemake.output.pdf,
    )
