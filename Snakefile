# swc-raster: county soil and water conservation rates (水土保持率) and targets.
# Run the demo:  snakemake --cores 2        (see README.md)
# Your own data: snakemake --cores 2 --configfile path/to/your_config.yaml

from snakemake.utils import min_version

min_version("9.0")


# The demo config applies only when no config is given on the command line, so a
# user's --configfile is never silently merged with the demo's settings.
if not config:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/csle.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/align.smk"
include: "workflow/rules/zonal.smk"
include: "workflow/rules/process.smk"
include: "workflow/rules/vector.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/publish.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
