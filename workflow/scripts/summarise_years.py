"""Rule summarise_years: rates by year, changes, progress toward the targets, and the chart."""

from swc_raster.logs import logged
from swc_raster.stages import summarise_years

o = snakemake.output
with logged(snakemake.log[0]):
    summarise_years(
        list(snakemake.input.rates),
        targets_csv=snakemake.input.targets,
        **snakemake.params,
        out_rates=o.rates,
        out_changes=o.changes,
        out_progress=o.progress,
        out_chart=o.chart,
    )
