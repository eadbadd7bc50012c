# Erosion by process (水力 / 风力 / 合计) and grade.  A year with a wind layer counts county × wind
# grade × water grade beside the year's cross-tab (its own job, on the other core); a water-only
# year's table comes from the cross-tab alone.


rule process_crosstab:
    input:
        erosion=erosion_input,
        wind=wind_input,
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
    output:
        crosstab="results/{year}/{batch}/process_crosstab.nc",
    log:
        "logs/{year}/{batch}/process_crosstab.log",
    benchmark:
        "results/benchmarks/process_crosstab/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime_min_for,
    params:
        t_by_county=t_of_batch,
        erosion_layers=erosion_layers_of,
        erosion_resampling=SETTINGS.analysis.erosion_resampling,
    script:
        "../scripts/process_crosstab.py"


rule gather_process_crosstab:
    input:
        crosstabs=batch_files("results/{year}/{batch}/process_crosstab.nc"),
        counties="results/common/counties.gpkg",
    output:
        crosstab="results/{year}/process_crosstab.nc",
    log:
        "logs/{year}/gather_process_crosstab.log",
    benchmark:
        "results/benchmarks/gather_process_crosstab/{year}.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/gather_process_crosstab.py"


rule erosion_by_process:
    input:
        unpack(process_input),
        crosstab="results/{year}/crosstab.nc",
        counties="results/common/counties.gpkg",
    output:
        table=report(
            "results/{year}/erosion_by_process.csv",
            category="Tables",
            labels={"year": "{year}", "table": "erosion by process and grade"},
        ),
    log:
        "logs/{year}/erosion_by_process.log",
    benchmark:
        "results/benchmarks/erosion_by_process/{year}.tsv"
    conda:
        SWC_ENV
    params:
        region_code=SETTINGS.region.code,
        region_name=SETTINGS.region.name,
        demo=SETTINGS.demo,
    script:
        "../scripts/erosion_by_process.py"
