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
    benchmark:
        "results/benchmarks/demo_rasters/{year}.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/demo_rasters.py"


# The demo's CSLE inputs of one year (DEM, R, K, vegetation cover, E of its terraces), for years whose
# config computes the erosion with the CSLE branch; the land cover is demo_rasters'.
rule demo_factors:
    input:
        boundaries="boundaries/jincheng_counties.gpkg",
    output:
        dem=DEMO_INPUT.format(year="{year}", kind="dem"),
        r=DEMO_INPUT.format(year="{year}", kind="R"),
        k=DEMO_INPUT.format(year="{year}", kind="K"),
        fvc=DEMO_INPUT.format(year="{year}", kind="fvc"),
        e=DEMO_INPUT.format(year="{year}", kind="E"),
    log:
        "logs/demo/{year}_factors.log",
    benchmark:
        "results/benchmarks/demo_factors/{year}.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/demo_factors.py"


# A demo year delivered as polygons (erosion patches with an SL 190 grade, survey land use with
# GB/T 21010 codes), for years whose config gives `erosion_patches` and `landuse_polygons`.
rule demo_polygons:
    input:
        boundaries="boundaries/jincheng_counties.gpkg",
    output:
        patches="resources/demo/{year}/erosion_patches.gpkg",
        landuse="resources/demo/{year}/landuse.gpkg",
    log:
        "logs/demo/{year}_polygons.log",
    benchmark:
        "results/benchmarks/demo_polygons/{year}.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/demo_polygons.py"
