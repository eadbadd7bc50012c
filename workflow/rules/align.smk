# Every data check of a year's rasters against the boundaries, then both rasters onto the
# batch's part of the one equal-area analysis grid.


rule validate_year:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
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
        erosion=erosion_input,
        grid="results/common/{batch}/grid.json",
        validation="results/{year}/validation.json",
    output:
        # Kept (not temporary): an edit of T or of the publishing settings then regrades and recounts
        # from them without warping the sources again.
        landcover="results/{year}/{batch}/aligned/landcover.tif",
        erosion="results/{year}/{batch}/aligned/erosion_t_km2.tif",
    log:
        "logs/{year}/{batch}/align.log",
    benchmark:
        "results/benchmarks/align/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(2000),
        runtime=runtime_min_for,
    params:
        erosion_unit=erosion_unit,
        landcover_resampling=SETTINGS.analysis.landcover_resampling,
        erosion_resampling=SETTINGS.analysis.erosion_resampling,
    script:
        "../scripts/align.py"
