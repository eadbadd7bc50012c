"""The pip and conda dependency lists must name the same packages and lower bounds."""

import re
import tomllib

import pytest
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


@pytest.mark.workflow
def test_an_installed_wheel_validates_a_config(tmp_path):
    """The schema ships inside the package: a wheel installed in a fresh venv checks a config on its own."""
    import subprocess
    import sys
    import venv

    wheels = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels), str(ROOT)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("swc_raster-*.whl")
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    # Only what config checking needs: the rest of the stack is not required to read a config.
    for args in (["--no-deps", str(wheel)], ["jsonschema", "pyyaml"]):
        done = subprocess.run([python, "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    good = ROOT / "config/config.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        good.read_text(encoding="utf-8").replace("erosion_unit: t/km2/a", "erosion_units: t/km2/a", 1), encoding="utf-8"
    )
    script = (
        "import sys\n"
        "from swc_raster.config import load_settings\n"
        "from swc_raster.errors import ValidationFailed\n"
        "import swc_raster.config as c\n"
        "assert 'site-packages' in c.__file__, c.__file__\n"
        "s = load_settings(sys.argv[1])\n"
        "print(s.region.code, s.allowable_loss.t_for('140502'), sorted(s.years))\n"
        "try:\n"
        "    load_settings(sys.argv[2])\n"
        "except ValidationFailed as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([python, "-c", script, str(good), str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines()[0] == "140500 200.0 [2020, 2021, 2022, 2023, 2024]"
    assert "config: years[1].erosion_units" in out.stdout  # years[0] is the demo's polygon year
    assert "$schema" not in out.stdout and "properties" not in out.stdout  # says where, does not dump the schema
