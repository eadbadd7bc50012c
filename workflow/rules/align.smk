# The checks of a year's rasters that need no pixel values (headers, CRS, data type, coverage of
# each county), and the year's land cover on the batch's grid for the published land-cover raster
# (maps and GIS only: counting reads the rasters as delivered).  The values are checked by the
# counting pass (rule crosstab) on the cells it reads, and judged by gather_crosstab.


rule validate_year:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
        wind=wind_input,
        boundaries=SETTINGS.boundaries.path,
    output:
        report="results/{year}/validation.json",
    log:
        "logs/{year}/validate_year.log",
    benchmark:
        "results/benchmarks/validate_year/{year}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(1000),
    params:
        year_entry=year_entry,
        boundaries_settings=BOUNDARY_SETTINGS,
        analysis_crs=SETTINGS.analysis.crs,
        # the unit check is made on the values, by gather_crosstab (here for a year with erosion layers)
        validation_rules=year_validation_rules,
        legend_codes=LEGEND_CODES,
    script:
        "../scripts/validate_year.py"


rule align:
    input:
        landcover=landcover_input,
        grid="results/common/{batch}/grid.json",
        validation="results/{year}/validation.json",
    output:
        landcover="results/{year}/{batch}/aligned/landcover.tif",
    log:
        "logs/{year}/{batch}/align.log",
    benchmark:
        "results/benchmarks/align/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime_min_for,
    params:
        landcover_resampling=SETTINGS.analysis.landcover_resampling,
    script:
        "../scripts/align.py"
