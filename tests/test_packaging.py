"""The pip and conda dependency lists must name the same packages and lower bounds."""

import re
import tomllib

import yaml

from tests._rasters import ROOT


def _parse(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_side = dict(_parse(s) for s in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda_side.update(_parse(s) for s in dep["pip"] if not s.startswith("-e"))
        elif not dep.startswith(("python", "pip")):
            conda_side.update([_parse(dep)])
    assert conda_side == pip_side
