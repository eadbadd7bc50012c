# Every input of a year checked (values, units, coverage, legend), then both rasters
# onto the batch's part of the one equal-area analysis grid.


rule validate_inputs:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
        boundaries=config["boundaries"]["path"],
        targets=config["targets"],
        legend=config["landcover_legend"],
    output:
        report="results/{year}/validation.json",
    log:
        "logs/{year}/validate_inputs.log",
    benchmark:
        "results/benchmarks/validate_inputs/{year}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=2000,
    script:
        "../scripts/validate_inputs.py"


rule align:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
        grid="results/common/{batch}/grid.json",
        validation="results/{year}/validation.json",
    output:
        landcover=temp("results/{year}/{batch}/aligned/landcover.tif"),
        erosion=temp("results/{year}/{batch}/aligned/erosion_t_km2.tif"),
    log:
        "logs/{year}/{batch}/align.log",
    benchmark:
        "results/benchmarks/align/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb_for,
        runtime=runtime_min_for,
    params:
        erosion_unit=erosion_unit,
    script:
        "../scripts/align.py"
