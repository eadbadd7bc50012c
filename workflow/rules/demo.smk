# The embedded demo: synthetic land-cover and erosion rasters over Jincheng's real counties.
# Only paths under resources/demo/ match, so a user's own rasters are never overwritten.


rule demo_rasters:
    input:
        boundaries="boundaries/jincheng_counties.gpkg",
    output:
        landcover=DEMO_INPUT.format(year="{year}", kind="landcover"),
        erosion=DEMO_INPUT.format(year="{year}", kind="erosion"),
    log:
        "logs/demo/{year}.log",
    conda:
        SWC_ENV
    script:
        "../scripts/demo_rasters.py"
