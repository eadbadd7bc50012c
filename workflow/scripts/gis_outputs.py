"""Rule gis_outputs: counties with every attribute as a GeoPackage for QGIS."""

from swc_raster.logs import logged
from swc_raster.pipeline import write_gis

i = snakemake.input
with logged(snakemake.log[0]):
    write_gis(i.rates, i.comparison, i.counties, snakemake.output.gpkg)
