"""Rule gis_outputs: counties with every attribute as a GeoPackage for QGIS."""

from swc_raster.logs import logged
from swc_raster.stages import gis_outputs

i = snakemake.input
with logged(snakemake.log[0]):
    gis_outputs(
        i.rates, i.comparison, i.counties, process_csv=i.process, **snakemake.params, out_gpkg=snakemake.output.gpkg
    )
