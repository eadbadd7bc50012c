# Rates per county and region, and the comparison with the plan's targets.


rule county_rates:
    input:
        crosstab="results/{year}/crosstab.nc",
        counties="results/common/counties.gpkg",
    output:
        rates=report(
            "results/{year}/county_rates.csv",
            category="Tables",
            labels={"year": "{year}", "table": "county rates"},
        ),
    log:
        "logs/{year}/county_rates.log",
    benchmark:
        "results/benchmarks/county_rates/{year}.tsv"
    conda:
        SWC_ENV
    params:
        t_by_county=T_BY_COUNTY,
        region_code=SETTINGS.region.code,
        region_name=SETTINGS.region.name,
        demo=SETTINGS.demo,
    script:
        "../scripts/county_rates.py"


# Each county's rate at each alternative T (allowable_loss.sensitivity_t_km2), from the areas the
# crosstab rule counted in the same pass as the grades; raster years with a modulus only.
rule t_sensitivity:
    input:
        sensitivity=batch_files("results/{year}/{batch}/t_sensitivity_areas.csv"),
        crosstab="results/{year}/crosstab.nc",
        counties="results/common/counties.gpkg",
    output:
        table=report(
            "results/{year}/t_sensitivity.csv",
            category="Tables",
            labels={"year": "{year}", "table": "rate sensitivity to T"},
        ),
    log:
        "logs/{year}/t_sensitivity.log",
    benchmark:
        "results/benchmarks/t_sensitivity/{year}.tsv"
    wildcard_constraints:
        year="|".join(SENSITIVITY_YEARS) or "(?!)",
    conda:
        SWC_ENV
    params:
        t_sensitivity=T_SENSITIVITY,
        region_code=SETTINGS.region.code,
        region_name=SETTINGS.region.name,
        demo=SETTINGS.demo,
    script:
        "../scripts/t_sensitivity.py"


rule compare_targets:
    input:
        rates="results/{year}/county_rates.csv",
        counties="results/common/counties.gpkg",
        targets=SETTINGS.targets,
    output:
        comparison=report(
            "results/{year}/target_comparison.csv",
            category="Tables",
            labels={"year": "{year}", "table": "rates against targets"},
        ),
    log:
        "logs/{year}/compare_targets.log",
    benchmark:
        "results/benchmarks/compare_targets/{year}.tsv"
    conda:
        SWC_ENV
    params:
        region_code=SETTINGS.region.code,
        demo=SETTINGS.demo,
    script:
        "../scripts/compare_targets.py"
