"""Rule year_report: the self-contained HTML assessment report of one year."""

from swc_raster.logs import logged
from swc_raster.stages import year_report

with logged(snakemake.log[0]):
    year_report(
        dict(snakemake.input.items()),
        year=int(snakemake.wildcards.year),
        **snakemake.params,
        out_html=snakemake.output.html,
    )
