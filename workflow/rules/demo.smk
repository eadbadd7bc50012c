# The embedded demo: synthetic land-cover and erosion rasters over Jincheng's real counties.
# Only paths under resources/demo/ match, so a user's own rasters are never overwritten.


rule demo_rasters:
    input:
        boundaries="boundaries/jincheng_counties.gpkg",
    output:
        landcover="resources/demo/{year}/landcover.tif",
        erosion="resources/demo/{year}/erosion.tif",
    log:
        "logs/demo/{year}.log",
    conda:
        SWC_ENV
    script:
        "../scripts/demo_rasters.py"
