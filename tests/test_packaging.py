"""The wheel works on its own: built, checked, installed into a fresh virtual environment
outside the repository, and used there as a user would, one process per command."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
# What a build needs of the repository: the rest (.venv, outputs, caches) stays behind.
LEFT_OUT = shutil.ignore_patterns(
    ".venv", ".git", "site", "build", "dist", "*.egg-info", "__pycache__", "test-artifacts",
    "demo_out", "runs", ".pytest_cache",
)  # fmt: skip


def run(*command, cwd, timeout=900, env=None):
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert result.returncode == 0, f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """`python -m build --wheel` of a copy of the sources (the working tree stays untouched)."""
    source = tmp_path_factory.mktemp("source") / "depnet_tf"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, cwd=source)
    (path,) = dist.glob("depnet_tf-*.whl")
    return path


def test_the_wheel_holds_the_package_and_its_configs(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    configs = sorted(n for n in names if n.startswith("depnet_tf/configs/") and n.endswith(".yaml"))
    assert len(configs) == 11 and "depnet_tf/configs/paper.yaml" in configs
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/"))]
    run(os.path.join(BIN, "check-wheel-contents"), wheel, cwd=wheel.parent)
    run(os.path.join(BIN, "twine"), "check", "--strict", wheel, cwd=wheel.parent)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [
        line for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist: keras")
    ]  # fmt: skip
    # Keras before 3.14 has published safe_mode bypasses; our commands load users' files.
    assert requires and ">=3.14" in requires[0]


@pytest.mark.large
def test_an_installed_wheel_runs_outside_the_repository(wheel, tmp_path):
    """A fresh venv, the wheel installed non-editable with pip, every command run from a
    folder outside the repository. pip resolves the wheel's declared dependencies against
    this test environment's packages (a `.pth` line makes them visible), so nothing is
    downloaded; the package itself comes only from the wheel."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    ).stdout.strip()  # fmt: skip
    with open(os.path.join(site, "depnet-test-dependencies.pth"), "w") as file:
        file.write(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--no-index", "--quiet", wheel, cwd=tmp_path)
    run(python, "-m", "pip", "check", cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = run(python, "-c", "import depnet_tf; print(depnet_tf.__file__)", cwd=work).stdout
    assert where.startswith(str(venv)) and ROOT not in where
    depnet = venv / "bin" / "depnet"
    assert "depnet_tf 0.1.0" in run(depnet, "--version", cwd=work).stdout
    listed = run(depnet, "configs", cwd=work).stdout
    assert "paper" in listed and "avec2014-depnet" in listed
    shown = run(depnet, "configs", "show", "avec2014-depnet", cwd=work).stdout
    assert "base_lr: 1.0e-05" in shown and "arch: depnet" in shown
    run(
        depnet, "-q", "demo", "--out", "demo", "--videos", 8, "--frames", 6, "--epochs", 1,
        "--image-size", 32, cwd=work,
    )  # fmt: skip
    # The paper's shipped config, by name, on the demo's manifest and cache.
    run(
        depnet, "-q", "train", "--config", "paper",
        "--set", "model.image_size=32", "--set", "model.fc_units=8",
        "--set", f"model.backbone_weights={work / 'demo' / 'backbone.weights.h5'}",
        "--set", "data.manifest=demo/manifest.csv", "--set", "data.cache=demo/cache",
        "--set", "data.val_split=null", "--set", "data.clips_per_video=2",
        "--set", "train.max_epochs=1", "--set", "train.out_dir=paper-run", cwd=work,
    )  # fmt: skip
    assert (work / "paper-run" / "model.keras").is_file()
    assert "base_lr: 1.0e-05" in (work / "paper-run" / "config.yaml").read_text()
