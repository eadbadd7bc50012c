"""Rule summarise_years: rates by year, changes, progress toward the targets, and the chart."""

from swc_raster.logs import logged
from swc_raster.pipeline import summarise_years

with logged(snakemake.log[0]):
    summarise_years(snakemake.config, list(snakemake.input.rates), snakemake.output.rates, snakemake.output.changes,
                    snakemake.output.progress, snakemake.output.chart)
