# Rates per county and region, and the comparison with the plan's targets.


rule rates:
    input:
        crosstab="results/{year}/crosstab.nc",
        counties="results/common/counties.gpkg",
    output:
        rates="results/{year}/county_rates.csv",
    log:
        "logs/{year}/rates.log",
    benchmark:
        "results/benchmarks/rates/{year}.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/rates.py"


rule compare_targets:
    input:
        rates="results/{year}/county_rates.csv",
        counties="results/common/counties.gpkg",
        targets=config["targets"],
    output:
        comparison="results/{year}/target_comparison.csv",
    log:
        "logs/{year}/compare_targets.log",
    benchmark:
        "results/benchmarks/compare_targets/{year}.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/compare_targets.py"
