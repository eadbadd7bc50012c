# Optional upstream branch (issue 7): a year with a `csle:` block gets its erosion modulus
# A = R·K·L·S·B·E·T computed on the DEM's grid; A then goes through the same
# validation, alignment and grading as any erosion raster (erosion_input in common.smk).


rule csle_erosion:
    input:
        unpack(csle_inputs),
    output:
        R="results/{year}/csle/R.tif",
        K="results/{year}/csle/K.tif",
        LS="results/{year}/csle/LS.tif",
        B="results/{year}/csle/B.tif",
        E="results/{year}/csle/E.tif",
        T="results/{year}/csle/T.tif",
        A=report(
            "results/{year}/csle/A_t_km2.tif",
            category="CSLE",
            labels={
                "year": "{year}",
                "output": "CSLE erosion modulus A, t/km2/a (COG)",
            },
        ),
        means=report(
            "results/{year}/csle/county_factor_means.csv",
            category="CSLE",
            labels={"year": "{year}", "output": "CSLE factor means by county"},
        ),
    log:
        "logs/{year}/csle_erosion.log",
    benchmark:
        "results/benchmarks/csle_erosion/{year}.tsv"
    wildcard_constraints:
        year="|".join(CSLE_YEARS) or "(?!)",
    conda:
        SWC_ENV
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/csle_erosion.py"
