"""The dependency lock files, the pre-commit configuration and the licence, as the repository ships them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LOCKS = {"runtime": "requirements.txt", "dev": "requirements-dev.txt", "load": "requirements-load.txt"}
INPUTS = {"runtime": "requirements.in", "dev": "requirements-dev.in", "load": "requirements-load.in"}
LOAD_TOOLING = {"locust", "matplotlib", "py-spy", "gunicorn", "websocket-client"}
DEV_TOOLING = {"pytest", "pytest-django", "ruff", "factory-boy", "pip-tools", "pre-commit", "websockets"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """{package: version} of the `name==version` lines of a requirements file (extras dropped)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            found[normalize(match[1])] = match[2]
    return found


def lock_entries(path: Path) -> list[str]:
    """One string per requirement of a pip-compile lock (its continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    return [line for line in text.splitlines() if line and not line.startswith(("#", " "))]


@pytest.mark.parametrize("kind", LOCKS)
def test_locks_pin_every_package_with_hashes_and_no_local_index(kind):
    entries = lock_entries(ROOT / LOCKS[kind])
    assert len(entries) > 40
    for entry in entries:
        assert re.match(r"^[a-z0-9][a-z0-9._-]*==\S+ ", entry), entry
        assert "--hash=sha256:" in entry, entry
    text = (ROOT / LOCKS[kind]).read_text()
    assert "--index-url" not in text and "--extra-index-url" not in text and "--find-links" not in text
    assert "file://" not in text and "/opt/" not in text


@pytest.mark.parametrize("kind", LOCKS)
def test_each_lock_holds_its_inputs_at_their_pinned_versions(kind):
    locked = pins(ROOT / LOCKS[kind])
    wanted = pins(ROOT / INPUTS[kind])
    if kind != "runtime":
        wanted |= pins(ROOT / INPUTS["runtime"])  # dev and load are complete: the runtime and their tools
    assert {name: locked.get(name) for name in wanted} == wanted


def test_runtime_lock_has_no_test_lint_or_load_tooling():
    runtime = set(pins(ROOT / LOCKS["runtime"]))
    assert not runtime & (LOAD_TOOLING | DEV_TOOLING)
    assert not set(pins(ROOT / LOCKS["dev"])) & LOAD_TOOLING
    assert set(pins(ROOT / LOCKS["load"])) >= LOAD_TOOLING


def test_locks_agree_on_every_shared_package():
    """One virtualenv can install all three: a package in two locks has one version."""
    runtime, dev, load = (pins(ROOT / LOCKS[kind]) for kind in ("runtime", "dev", "load"))
    assert {name: dev[name] for name in runtime} == runtime
    assert {name: load[name] for name in runtime} == runtime
    assert {name: load[name] for name in set(dev) & set(load)} == {name: dev[name] for name in set(dev) & set(load)}


def test_pre_commit_config_is_valid_and_runs_the_ci_checks():
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = [
        hook
        for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
        for hook in repo["hooks"]
    ]
    entries = " | ".join(hook["entry"] for hook in hooks)
    assert "ruff check" in entries and "ruff format --check" in entries
    assert "manage.py makemigrations --check --dry-run" in entries
    # ruff in the hooks is the ruff of the dev requirements.
    ruff = pins(ROOT / LOCKS["dev"])["ruff"]
    for hook in hooks:
        if hook["entry"].startswith("ruff"):
            assert hook["additional_dependencies"] == [f"ruff=={ruff}"], hook


def test_mit_licence():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 THE_BOT contributors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
