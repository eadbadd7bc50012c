"""The cluster path on a real SLURM: the split demo through snakemake-executor-plugin-slurm.

A throwaway single-node cluster with job accounting (``tests/slurm/cluster.sh``, Debian's
slurm-wlm, slurmdbd, munge and MariaDB) runs the demo cut to one year and split into two batches
(``tests/slurm/config.yaml``) with the repository's SLURM workflow profile and the test site's
profile (``tests/slurm/profile``). Two cluster runs, as a site would live through them:

1. a job of the rule ``crosstab`` is killed with ``scancel`` while it counts; Snakemake
   (``--retries 0``) reports it and stops after the other batch;
2. the rerun, in which the first attempt of the rule ``county_rates`` gets 50 MB, so SLURM kills it for
   memory, and ``--retries 1`` resubmits it with 1000 MB.

The outputs of the two runs together must equal, value for value, those of a local run of the
same config. The local run makes the demo's input rasters; the cluster runs get copies of them,
so all three runs read the same inputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio

from tests._tools import need_tool

pytestmark = pytest.mark.workflow

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "tests/slurm/cluster.sh"
CONFIG = ROOT / "tests/slurm/config.yaml"
YEAR = "2023"
TARGETS = [
    f"results/{YEAR}/county_rates.csv",
    f"results/{YEAR}/erosion_by_landcover.csv",
    f"results/{YEAR}/erosion_grade.tif",
]
CANCELLED_RULE = "crosstab"  # counts for seconds before it writes: killed mid-run, on the path to the rates
STARVED_RULE = "county_rates"  # one job: its first attempt gets too little memory
STARVED_MEM = f"{STARVED_RULE}:mem_mb=50 if attempt == 1 else 1000"
RUN_TIMEOUT_S = 900  # a run of this size takes a few minutes; a hang (a lost job state) fails the test
SNAKEMAKE = [
    sys.executable,
    "-m",
    "snakemake",
    *TARGETS,
    "--snakefile",
    str(ROOT / "Snakefile"),
    "--configfile",
    str(CONFIG),
]
ON_CLUSTER = [
    "--profile",
    str(ROOT / "tests/slurm/profile"),
    "--workflow-profile",
    str(ROOT / "workflow/profiles/slurm"),
]
TIMES: dict[str, float] = {}


def need_root() -> None:
    """slurmd starts jobs as the submitting user, so the throwaway cluster needs root."""
    if os.geteuid() == 0:
        return
    message = "the throwaway SLURM cluster (tests/slurm/cluster.sh) needs root"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def workdir(parent: Path, name: str, inputs_from: Path | None = None) -> Path:
    """A run directory with the repository's boundaries and config tables (and the demo rasters of a local run)."""
    path = parent / name
    path.mkdir()
    for folder in ("boundaries", "config"):
        (path / folder).symlink_to(ROOT / folder)
    if inputs_from is not None:
        shutil.copytree(inputs_from / "resources", path / "resources")
    return path


def snakemake(path: Path, *extra: str) -> subprocess.Popen:
    """Start Snakemake in ``path``; its output goes to ``path/run.log``."""
    log = open(path / "run.log", "w")  # noqa: SIM115 -- the child process writes to it after we return
    return subprocess.Popen([*SNAKEMAKE, *extra], cwd=path, stdout=log, stderr=subprocess.STDOUT, text=True)


def finish(run: subprocess.Popen, path: Path, label: str, started: float) -> tuple[int, str]:
    try:
        code = run.wait(timeout=max(1.0, RUN_TIMEOUT_S - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()
        pytest.fail(
            f"{label}: Snakemake still running after {RUN_TIMEOUT_S} s (a job state it never saw?):\n"
            + (path / "run.log").read_text()[-4000:]
        )
    TIMES[label] = time.monotonic() - started
    return code, (path / "run.log").read_text()


def submitted(log: str, rule: str) -> list[tuple[int, str]]:
    """(SLURM job id, SLURM log path) of every job of ``rule`` the executor submitted, from Snakemake's output."""
    pattern = rf"submitted with SLURM jobid (\d+) \(log: (\S*/rule_{rule}/\S*\.log)\)"
    return [(int(job), path) for job, path in re.findall(pattern, log)]


def job_outputs(log: str, rule: str, slurm_log: str) -> list[str]:
    """The outputs of the job of ``rule`` whose SLURM log is ``slurm_log`` (…/rule_<rule>/<wildcards>/<id>.log).

    The job is found by its wildcard values (the log folder's name, joined by "_"): the order in which
    Snakemake prints jobs need not be the order in which they are submitted.
    """
    values = Path(slurm_log).parent.name.split("_")
    for block in re.finditer(rf"^rule {rule}:\n(.*?)^\S", log, flags=re.M | re.S):
        line = re.search(r"^\s+output: (.*)$", block.group(1), flags=re.M)
        outputs = [p.strip() for p in line.group(1).split(",")]
        if all(v in Path(outputs[0]).parts for v in values):
            return outputs
    raise AssertionError(f"no job of rule {rule} with wildcards {values} in Snakemake's output")


def sacct(job: int) -> dict[str, str]:
    """SLURM's own record of a job (accounting database), independent of Snakemake."""
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", str(job), "-o", "State,Comment"], capture_output=True, text=True, check=True
    ).stdout.strip()
    state, comment = out.split("|", 1)
    return {"state": state.split()[0], "comment": comment}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    for tool in ("sbatch", "slurmctld", "slurmd", "slurmdbd", "munged", "mariadbd"):
        need_tool(tool)
    need_root()
    was_running = subprocess.run([CLUSTER, "status"], capture_output=True).returncode == 0
    log = tmp_path_factory.mktemp("cluster") / "cluster.log"
    started = time.monotonic()
    with open(log, "w") as out:
        result = subprocess.run([CLUSTER, "start"], stdout=out, stderr=subprocess.STDOUT)
    TIMES["cluster start"] = time.monotonic() - started
    assert result.returncode == 0, log.read_text()
    yield
    if not was_running:
        subprocess.run([CLUSTER, "stop"], capture_output=True)
    print("\ntimes (s):", json.dumps({k: round(v, 1) for k, v in TIMES.items()}))


@pytest.fixture(scope="module")
def local(cluster, tmp_path_factory) -> Path:
    """The same config on this machine without SLURM (the default profile), as a user runs it."""
    path = workdir(tmp_path_factory.mktemp("slurm"), "local")
    started = time.monotonic()
    run = snakemake(path, "--cores", "2", "--workflow-profile", str(ROOT / "workflow/profiles/default"))
    code, log = finish(run, path, "local run", started)
    assert code == 0, log[-4000:]
    return path


@pytest.fixture(scope="module")
def cancelled(local) -> dict:
    """Cluster run 1: the first ``crosstab`` job is cancelled (scancel) while it counts."""
    path = workdir(local.parent, "cluster", inputs_from=local)
    started = time.monotonic()
    run = snakemake(path, *ON_CLUSTER, "--retries", "0")
    job, outputs = None, []
    while run.poll() is None and job is None and time.monotonic() - started < RUN_TIMEOUT_S:
        time.sleep(0.05)
        log = (path / "run.log").read_text()
        if not submitted(log, CANCELLED_RULE):
            continue
        candidate, slurm_log = submitted(log, CANCELLED_RULE)[0]
        outputs = job_outputs(log, CANCELLED_RULE, slurm_log)
        state = subprocess.run(["squeue", "-h", "-j", str(candidate), "-o", "%T"], capture_output=True, text=True)
        if state.stdout.strip() == "RUNNING":
            # Mid-run: its Python is starting or counting (seconds of work). Stop it first (SIGSTOP), so
            # it cannot finish between our look and the cancel, then cancel it.
            time.sleep(0.3)
            subprocess.run(["scontrol", "suspend", str(candidate)], capture_output=True)
            subprocess.run(["scancel", str(candidate)], check=True)
            job = candidate
    code, log = finish(run, path, "cluster run 1 (scancel)", started)
    assert job is not None, f"the {CANCELLED_RULE} job ended before it could be cancelled:\n" + log[-4000:]
    folder = path / Path(outputs[0]).parent
    names = {Path(o).stem for o in outputs}
    left = sorted(f.name for f in folder.iterdir() if any(n in f.name for n in names)) if folder.is_dir() else []
    return {"path": path, "code": code, "log": log, "job": job, "outputs": outputs, "left": left}


@pytest.fixture(scope="module")
def rerun(cancelled) -> dict:
    """Cluster run 2: the rerun, with a first ``county_rates`` attempt that SLURM kills for memory."""
    path = cancelled["path"]
    started = time.monotonic()
    run = snakemake(path, *ON_CLUSTER, "--retries", "1", "--set-resources", STARVED_MEM)
    code, log = finish(run, path, "cluster run 2 (rerun with retry)", started)
    return {"path": path, "code": code, "log": log}


def test_cancelled_job_is_reported_and_leaves_no_complete_looking_output(cancelled):
    log, job = cancelled["log"], cancelled["job"]
    assert cancelled["code"] != 0
    assert sacct(job)["state"] == "CANCELLED"
    assert f"Error in rule {CANCELLED_RULE}:" in log
    assert f"SLURM-job '{job}' failed, SLURM status is: 'CANCELLED'" in log
    for output in cancelled["outputs"]:
        assert not (cancelled["path"] / output).exists(), output
    # Whatever the killed job left is a hidden temporary, never a file under an output's name.
    assert all(name.startswith(".") and ".partial" in name for name in cancelled["left"]), cancelled["left"]


def test_job_killed_for_memory_is_reported_with_rule_slurm_job_and_log(rerun):
    log = rerun["log"]
    job, slurm_log = submitted(log, STARVED_RULE)[0]
    record = sacct(job)
    assert record["state"] == "FAILED" and f"rule_{STARVED_RULE}" in record["comment"]
    assert re.search(rf"Error in rule {STARVED_RULE}:\n\s+message: SLURM-job '{job}' failed", log)
    assert f"log: logs/{YEAR}/{STARVED_RULE}.log, {slurm_log}" in log
    assert "exceeded memory limit" in Path(slurm_log).read_text()


def test_retry_with_more_memory_recovers_the_killed_job(rerun):
    assert rerun["code"] == 0, rerun["log"][-4000:]
    jobs = submitted(rerun["log"], STARVED_RULE)
    assert [sacct(job)["state"] for job, _ in jobs] == ["FAILED", "COMPLETED"]
    assert "mem_mb=1000" in rerun["log"].split(f"SLURM-job '{jobs[0][0]}' failed")[1]


def test_rerun_after_cancel_leaves_no_temporary_files(rerun):
    assert rerun["code"] == 0, rerun["log"][-4000:]
    leftovers = [p for p in (rerun["path"] / "results").rglob("*") if ".partial" in p.name]
    assert leftovers == []


def test_cluster_ran_the_batches_as_separate_slurm_jobs(cancelled, rerun):
    logs = cancelled["log"] + rerun["log"]
    crosstab_jobs = [job for job, _ in submitted(logs, "crosstab") if job != cancelled["job"]]
    assert len(crosstab_jobs) >= 2  # one per batch (the cancelled one redone): the split reached the cluster
    assert all(sacct(job)["state"] == "COMPLETED" for job in crosstab_jobs)


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"county_code": str}, keep_default_na=False)


@pytest.mark.parametrize("table", ["county_rates.csv", "erosion_by_landcover.csv"])
def test_cluster_tables_equal_the_local_run(local, rerun, table):
    assert rerun["code"] == 0, rerun["log"][-4000:]
    on_cluster = read_table(rerun["path"] / "results" / YEAR / table)
    here = read_table(local / "results" / YEAR / table)
    assert len(here) > 6  # six counties (and the region, or their classes): a real table
    pd.testing.assert_frame_equal(on_cluster, here, check_exact=True)


def test_cluster_grade_raster_equals_the_local_run(local, rerun):
    assert rerun["code"] == 0, rerun["log"][-4000:]
    with (
        rasterio.open(rerun["path"] / "results" / YEAR / "erosion_grade.tif") as a,
        rasterio.open(local / "results" / YEAR / "erosion_grade.tif") as b,
    ):
        assert (a.crs, a.transform, a.nodata, a.dtypes) == (b.crs, b.transform, b.nodata, b.dtypes)
        grades_a, grades_b = a.read(1), b.read(1)
    assert len(np.unique(grades_b)) > 3  # several grades, not a blank raster
    np.testing.assert_array_equal(grades_a, grades_b)
