# Every data check of a year's rasters against the boundaries (the gate of counting), and the
# year's land cover on the batch's grid for the published land-cover raster (maps and GIS only:
# counting reads the rasters as delivered).


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
    # The land-cover and erosion scans run side by side (swc_raster.validate.data.year_data).
    threads: 2
    resources:
        mem_mb=mem_mb(2000),
    params:
        year_entry=year_entry,
        boundaries_settings=BOUNDARY_SETTINGS,
        analysis_crs=SETTINGS.analysis.crs,
        validation_rules=VALIDATION_RULES,
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
