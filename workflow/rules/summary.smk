# Several years: rates by year, what changed, progress toward the targets, grade transitions.


rule summarise_years:
    input:
        rates=expand("results/{year}/county_rates.csv", year=YEAR_LABELS),
        targets=config["targets"],
    output:
        rates="results/summary/rates_by_year.csv",
        changes="results/summary/changes.csv",
        progress="results/summary/progress.csv",
        chart="results/summary/progress_by_county.png",
    log:
        "logs/summary/summarise_years.log",
    benchmark:
        "results/benchmarks/summarise_years/all.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/summarise_years.py"


rule transitions:
    input:
        grade_from="results/{year_from}/{batch}/erosion_grade.tif",
        grade_to="results/{year_to}/{batch}/erosion_grade.tif",
        zones="results/common/{batch}/zones.tif",
        counties="results/common/{batch}/counties.gpkg",
    output:
        table=temp("results/summary/{batch}/transitions_{year_from}_{year_to}.csv"),
        change_map=temp("results/summary/{batch}/change_{year_from}_{year_to}.tif"),
    log:
        "logs/summary/{batch}/transitions_{year_from}_{year_to}.log",
    benchmark:
        "results/benchmarks/transitions/{year_from}_{year_to}/{batch}.tsv"
    wildcard_constraints:
        year_from="|".join(YEAR_LABELS),
        year_to="|".join(YEAR_LABELS),
    conda:
        SWC_ENV
    resources:
        mem_mb=1000,
        runtime=runtime_min_for,
    script:
        "../scripts/transitions.py"


rule gather_transitions:
    input:
        rasters=batch_files("results/summary/{batch}/change_{year_from}_{year_to}.tif"),
        tables=batch_files(
            "results/summary/{batch}/transitions_{year_from}_{year_to}.csv"
        ),
    output:
        raster="results/summary/change_{year_from}_{year_to}.tif",
        table="results/summary/transitions_{year_from}_{year_to}.csv",
    log:
        "logs/summary/gather_transitions_{year_from}_{year_to}.log",
    benchmark:
        "results/benchmarks/gather_transitions/{year_from}_{year_to}.tsv"
    wildcard_constraints:
        year_from="|".join(YEAR_LABELS),
        year_to="|".join(YEAR_LABELS),
    conda:
        SWC_ENV
    script:
        "../scripts/gather_transitions.py"
