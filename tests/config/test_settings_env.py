"""Every environment variable the code reads is read in config/settings.py, declared there as a setting of the same
name, and listed in `.env.example`; a `.env` file fills in what the environment does not set, but never in tests."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.settings import load_dotenv_file

ROOT = Path(settings.BASE_DIR)
SETTINGS_FILE = ROOT / "config" / "settings.py"
ENV_HELPERS = {"env_str", "env_int", "env_bool", "env_list", "env_float"}
# Read from the environment by Django itself, not by our code; documented in .env.example all the same.
DJANGO_OWN = {"DJANGO_SUPERUSER_PASSWORD"}
# Variables settings.py looks at that are not settings: how the .env file is chosen.
NOT_SETTINGS = {"THEBOT_DOTENV"}


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def environment_reads(tree: ast.AST) -> dict[str, str]:
    """{variable: how it is read} for env_*("X"), os.environ.get("X"), os.getenv("X") and os.environ["X"]."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value
            func = node.func
            if isinstance(func, ast.Name) and func.id in ENV_HELPERS:
                found[name] = func.id
            elif isinstance(func, ast.Attribute) and func.attr in {"get", "setdefault"} and _is_os_environ(func.value):
                found[name] = "os.environ"
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
            ):
                found[name] = "os.getenv"
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.slice, ast.Constant):
            found[node.slice.value] = "os.environ"
    return found


def example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def module_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


SETTINGS_TREE = ast.parse(SETTINGS_FILE.read_text())
READS = environment_reads(SETTINGS_TREE)


def test_settings_reads_are_found():
    # The parser sees every kind of read (a guard against a silently empty list).
    assert {"env_str", "env_int", "env_bool", "env_list", "env_float", "os.environ"} <= set(READS.values())
    assert {"SECRET_KEY", "DATABASE_URL", "CHAT_SEND_PER_SECOND", "THEBOT_DOTENV"} <= set(READS)


def test_every_variable_read_by_settings_is_in_env_example():
    missing = sorted(set(READS) - example_names())
    assert not missing, f"add to .env.example (with default and a one-line comment): {missing}"


def test_env_example_names_only_variables_that_are_read():
    stale = sorted(example_names() - set(READS) - DJANGO_OWN)
    assert not stale, f".env.example lists variables no code reads: {stale}"


def test_every_variable_is_declared_as_a_setting_of_the_same_name():
    declared = module_level_names(SETTINGS_TREE)
    undeclared = sorted(name for name in set(READS) - NOT_SETTINGS if name not in declared)
    assert not undeclared, f"declare NAME = env_...('NAME', default) in config/settings.py: {undeclared}"
    for name in set(READS) - NOT_SETTINGS:
        assert hasattr(settings, name), name


def project_modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "bench"} or "migrations" in relative.parts:
            continue
        yield relative, ast.parse(path.read_text())


def test_settings_are_read_only_through_declared_settings():
    """No getattr on `settings` (with a default: a setting declared nowhere) in the code, and no environment read
    outside config/settings.py (besides the DJANGO_SETTINGS_MODULE default of the entry points)."""
    problems = []
    for relative, tree in project_modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "settings"
            ):
                problems.append(f"{relative}:{node.lineno} getattr on settings")
        if relative != Path("config/settings.py"):
            reads = set(environment_reads(tree)) - {"DJANGO_SETTINGS_MODULE"}
            problems.extend(f"{relative}: reads {name} from the environment" for name in sorted(reads))
    assert not problems, problems


# --- .env -------------------------------------------------------------------------------------------------


def settings_in_subprocess(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, operator, sys, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({n: operator.attrgetter(n)(settings) for n in sys.argv[1:]}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *names],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def clean_env():
    """The environment without the variables these tests set, and without pytest's marker."""
    drop = {"PYTEST_VERSION", "THEBOT_DOTENV", "TOKEN_TTL_HOURS", "CHAT_SEND_PER_SECOND", "CACHE_KEY_PREFIX"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def test_dotenv_fills_in_what_the_environment_does_not_set(tmp_path, clean_env):
    dotenv = tmp_path / "thebot.env"
    dotenv.write_text("# a comment\nTOKEN_TTL_HOURS=5\nCHAT_SEND_PER_SECOND=7\nCACHE_KEY_PREFIX='from-file'\n")
    env = {**clean_env, "THEBOT_DOTENV": str(dotenv), "CHAT_SEND_PER_SECOND": "9"}

    values = settings_in_subprocess(env, "TOKEN_TTL_HOURS", "CHAT_SEND_PER_SECOND", "CACHE_KEY_PREFIX", "DOTENV_FILE")

    assert values == {
        "TOKEN_TTL_HOURS": 5,
        "CHAT_SEND_PER_SECOND": 9,  # the environment wins over the file
        "CACHE_KEY_PREFIX": "from-file",
        "DOTENV_FILE": str(dotenv),
    }


def test_dotenv_is_skipped_when_turned_off(tmp_path, clean_env):
    dotenv = tmp_path / "thebot.env"
    dotenv.write_text("TOKEN_TTL_HOURS=5\n")
    # Off: nothing is read (the default path too).
    assert settings_in_subprocess({**clean_env, "THEBOT_DOTENV": "0"}, "TOKEN_TTL_HOURS", "DOTENV_FILE") == {
        "TOKEN_TTL_HOURS": 168,
        "DOTENV_FILE": None,
    }


def test_dotenv_of_the_project_is_not_read_by_the_test_suite(monkeypatch):
    # pytest sets PYTEST_VERSION for its session and the processes it starts: the project's .env is skipped.
    assert os.environ.get("PYTEST_VERSION")
    monkeypatch.delenv("THEBOT_DOTENV", raising=False)
    assert load_dotenv_file() is None
    assert settings.DOTENV_FILE is None
    # A missing file named explicitly is no error either.
    monkeypatch.setenv("THEBOT_DOTENV", str(ROOT / "var" / "no-such.env"))
    assert load_dotenv_file() is None
