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
    conda:
        SWC_ENV
    script:
        "../scripts/summarise_years.py"


rule transitions:
    input:
        grade_from="results/{year_from}/erosion_grade.tif",
        grade_to="results/{year_to}/erosion_grade.tif",
        zones="results/common/zones.tif",
        counties="results/common/counties.gpkg",
    output:
        table="results/summary/transitions_{year_from}_{year_to}.csv",
        change_map="results/summary/change_{year_from}_{year_to}.tif",
    log:
        "logs/summary/transitions_{year_from}_{year_to}.log",
    wildcard_constraints:
        year_from="|".join(YEAR_LABELS),
        year_to="|".join(YEAR_LABELS),
    conda:
        SWC_ENV
    resources:
        mem_mb=1000,
    script:
        "../scripts/transitions.py"
