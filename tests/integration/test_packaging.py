"""Packaging (issue 27): ranges in pyproject.toml and exact pins in requirements.lock; the core install is the
library and the CLI's analysis commands, `[service]` adds serve / worker / users / keys, `[dev]` the tests.

The slow test proves it in a fresh virtual environment: the project built from a copy of the checkout and
installed without extras (under the lock's constraints), its analysis commands run on a real clip, the service
commands refused in one line; then `[service]` installed and `serve --help` and `users list` work."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from posecoach.cli.app import main
from posecoach.cli.extras import SERVICE_HINT, SERVICE_MODULES
from tests.conftest import data_file

ROOT = Path(__file__).resolve().parents[2]
CLIP = "misc_exercise_clips/rjsong/jumpingjacks.mp4"  # 8.7 s, 4 jumping jacks
MLKIT = "poses/mlkit_fitness/android/vision-quickstart/app/src/main/assets/pose/fitness_pose_samples.csv"
SERVICE_ERROR = f"error: {SERVICE_HINT}"


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements(group: str) -> list[Requirement]:
    project = _project()
    lines = project["dependencies"] if group == "core" else project["optional-dependencies"][group]
    return [Requirement(line) for line in lines]


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        name, _, version = line.partition("==")
        if line.strip() and not line.startswith("#"):
            pins[canonicalize_name(name)] = Version(version)
    return pins


@pytest.mark.parametrize("group", ["core", "service", "dev"])
def test_pyproject_gives_ranges_that_the_lock_satisfies(group: str) -> None:
    lock = _lock()
    for req in _requirements(group):
        if req.name == "posecoach":  # dev = posecoach[service] + the test tools
            assert req.extras == {"service"}
            continue
        ops = {spec.operator for spec in req.specifier}
        assert "==" not in ops and "<" in ops and (">=" in ops or "~=" in ops), f"{req}: give a range"
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is not pinned in requirements.lock"
        assert req.specifier.contains(lock[name], prereleases=True), f"lock {name}=={lock[name]} not in {req}"


def test_the_core_install_leaves_the_service_out() -> None:
    core = {canonicalize_name(r.name) for r in _requirements("core")}
    service = {canonicalize_name(r.name) for r in _requirements("service")}
    assert not core & service
    assert {"fastapi", "sqlalchemy", "uvicorn", "boto3", "psycopg", "dramatiq", "reportlab"} <= service
    # every module the CLI names as "the [service] extra" comes with it (listed, or required by one listed)
    brought = service | {canonicalize_name(Requirement(r).name) for d in service for r in requires(d) or []}
    dists = packages_distributions()
    for module in SERVICE_MODULES:
        assert {canonicalize_name(d) for d in dists[module]} & brought, f"{module} is not in [service]"


def test_importing_the_library_and_the_cli_imports_no_service_module() -> None:
    code = ("import sys, posecoach, posecoach.cli.app as app; app._register(); "
            "from posecoach.cli.extras import SERVICE_MODULES; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & SERVICE_MODULES))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.strip() == "[]", run.stdout


def test_serve_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # `import uvicorn` now fails as on the core install
    monkeypatch.delenv("POSECOACH_DEBUG", raising=False)
    assert main(["serve"]) == 1
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert lines == [f"{SERVICE_ERROR} (no module named 'uvicorn')"], captured.err
    assert "Traceback" not in captured.out + captured.err


# The fresh virtual environment ----------------------------------------------------------------------------------
def _env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME",
                                                            "POSECOACH_DEBUG")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    return env


def _run(env: dict[str, str], cwd: Path, *args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    run = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout, stdin=subprocess.DEVNULL)
    err = "".join(ln for ln in run.stderr.splitlines(keepends=True) if not ln.startswith("WARNING: Location"))
    print(f"$ {' '.join(map(str, args))}  -> exit {run.returncode}\n{run.stdout[-1500:]}{err[-1500:]}")
    return run


def _ok(env: dict[str, str], cwd: Path, *args: str | Path, timeout: float = 600) -> str:
    run = _run(env, cwd, *args, timeout=timeout)
    assert run.returncode == 0, f"{args}: exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run.stdout


def _refused(env: dict[str, str], cwd: Path, *args: str) -> None:
    run = _run(env, cwd, "posecoach", *args, timeout=120)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert run.returncode == 1 and len(lines) == 1 and lines[0].startswith(SERVICE_ERROR), run
    assert "Traceback" not in run.stdout + run.stderr


def _copy_project(to: Path) -> Path:
    """The files a build reads, copied so that building leaves the shared checkout untouched."""
    to.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE"):
        shutil.copy2(ROOT / name, to / name)
    shutil.copytree(ROOT / "src", to / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    return to


@pytest.mark.slow
def test_a_fresh_core_install_analyses_and_refuses_the_service_until_the_extra(tmp_path: Path) -> None:
    clip, table = data_file(CLIP), data_file(MLKIT)
    project = _copy_project(tmp_path / "project")
    venv, work = tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
    env = _env(venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
           "-c", ROOT / "requirements.lock"]

    _ok(env, work, *pip, project)  # the core install, no extras
    installed = {canonicalize_name(re.split(r"==| @ ", line)[0]) for line in
                 _ok(env, work, venv / "bin" / "python", "-m", "pip", "freeze").splitlines()}
    service = {canonicalize_name(r.name) for r in _requirements("service")}
    assert "posecoach" in installed and not installed & (service | {"starlette", "pytest"}), installed & service
    assert _ok(env, work, "posecoach", "--version").strip() == "posecoach 0.1.0"
    _ok(env, work, "python", "-c", "import sys, posecoach, posecoach.cli.app as a; a._register(); "
        "assert not {m.split('.')[0] for m in sys.modules} & {'fastapi', 'sqlalchemy', 'uvicorn', 'dramatiq'}")

    # the analysis commands, on a real clip (poses estimated twice: by `pose` and by `analyze`)
    out = _ok(env, work, "posecoach", "analyze", clip, "--json", "analysis.json")
    assert "Jumping jack" in out and (work / "analysis.json").is_file()
    _ok(env, work, "posecoach", "pose", clip, "--npz", "poses.npz")
    assert "no fall" in _ok(env, work, "posecoach", "falls", "poses.npz", "--json", "falls.json")
    _ok(env, work, "posecoach", "compare", "poses.npz", "poses.npz", "--json", "compare.json")
    _ok(env, work, "posecoach", "posture", "label", table, "-d", "postures", "--group-pattern",
        r"^(?:frame__)?([^_]+(?:_[^_]+)?)")
    _ok(env, work, "posecoach", "posture", "train", "postures", "-o", "fitness.posture", "--folds", "3")
    _ok(env, work, "posecoach", "posture", "predict", "fitness.posture", "poses.npz", "--json", "postures.json")
    assert all((work / f).is_file() for f in ("falls.json", "compare.json", "postures.json"))

    # the service's commands: one line saying how to get them
    for command in (["serve"], ["worker"], ["users", "list"], ["keys", "list", "someone"]):
        _refused(env, work, *command)
    assert "--port" in _ok(env, work, "posecoach", "serve", "--help")  # its help needs nothing

    _ok(env, work, *pip, f"{project}[service]")
    assert "--port" in _ok(env, work, "posecoach", "serve", "--help")
    env["POSECOACH_DATA_DIR"] = str(tmp_path / "service-data")
    assert "no accounts yet" in _ok(env, work, "posecoach", "users", "list")  # SQLite made and migrated
