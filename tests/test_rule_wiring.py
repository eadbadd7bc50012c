"""Each rule's script calls the stage function of the same name, which accepts every declared param.

A rule whose params and stage signature drift apart fails only when that job runs; this reads the
rule files and the scripts and checks the wiring of every rule at once, in a second.
"""

from __future__ import annotations

import inspect
import re

import pytest

from swc_raster import stages
from tests._rasters import ROOT

RULES = ROOT / "workflow" / "rules"
SCRIPTS = ROOT / "workflow" / "scripts"
# Rules that make the demo's inputs call the demo generator, not a stage.
DEMO_RULES = {"demo_rasters", "demo_factors", "demo_polygons"}


def _rules() -> dict[str, dict]:
    """rule name → {"params": [...], "script": name} from workflow/rules/*.smk."""
    found = {}
    for path in sorted(RULES.glob("*.smk")):
        for block in re.split(r"\n(?=rule )", path.read_text(encoding="utf-8")):
            head = re.match(r"rule (\w+):", block)
            if not head:
                continue
            params = re.search(r"\n    params:\n((?:        .*\n)+)", block + "\n")
            keys = re.findall(r"^        (\w+)=", params.group(1), flags=re.M) if params else []
            script = re.search(r'"\.\./scripts/(\w+)\.py"', block)
            found[head.group(1)] = {"params": keys, "script": script.group(1) if script else None}
    return found


RULE_TABLE = _rules()


def test_every_rule_runs_a_script_named_after_it():
    assert len(RULE_TABLE) >= 20
    for rule, info in RULE_TABLE.items():
        assert info["script"] == rule, f"rule {rule} runs scripts/{info['script']}.py"
        assert (SCRIPTS / f"{rule}.py").is_file()


@pytest.mark.parametrize("rule", sorted(set(RULE_TABLE) - DEMO_RULES))
def test_the_stage_function_takes_every_declared_param(rule):
    script = (SCRIPTS / f"{rule}.py").read_text(encoding="utf-8")
    called = re.search(r"from swc_raster\.stages import (\w+)", script).group(1)
    assert called == rule, f"scripts/{rule}.py calls stages.{called}"
    function = getattr(stages, called)
    accepted = {name for name, p in inspect.signature(function).parameters.items() if p.kind is not p.VAR_POSITIONAL}
    declared = RULE_TABLE[rule]["params"]
    assert set(declared) <= accepted, f"{rule}: params {sorted(set(declared) - accepted)} not taken by stages.{called}"
    if declared:
        assert "**snakemake.params" in script, f"scripts/{rule}.py does not pass the declared params"
    # No hidden inputs: scripts never read the config.
    assert "snakemake.config" not in script


def test_stage_functions_never_read_the_config():
    source = inspect.getsource(stages)
    assert "snakemake" not in source.replace("Snakemake", "")
    assert "config[" not in source and "cfg[" not in source
