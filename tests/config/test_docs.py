"""The documentation stays true to the repository.

- Every environment variable `config/settings.py` reads is a row of the settings table in docs/operations.md, and
  every row names a variable the code reads.
- No file of the repository (code, tests, Makefile, docs, README) refers to a Markdown document that does not exist.
- Every test the docs cite as `tests/<path>.py::test_<name>` exists.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"

# Folders that are not the project's own files: tools' caches, the virtualenv, and what the platform writes at run time.
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "var",
    "reports",
    "staticfiles",
}
# Reports written by `make loadtest`, `make bench-scaling` and `make bench-scale` (not committed): naming them is fine.
GENERATED_DOCUMENTS = {
    "reports/performance.md",
    "reports/scaling.md",
    "reports/soak.md",
    "reports/faults.md",
    "reports/scale.md",
}
# A path or file name ending in .md that is not part of a longer word, path or URL.
MD_REFERENCE = re.compile(r"(?<![\w./:-])((?:[\w.-]+/)*[\w-][\w.-]*\.md)(?![\w-])")
CITED_TEST = re.compile(r"\b(tests/[\w/]+\.py)::(test_\w+)")
TABLE_ROW_NAME = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|")


# --- Settings -----------------------------------------------------------------------------------------------------
def _is_os_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ" and _is_name(node.value, "os")) or _is_name(
        node, "environ"
    )


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _reads_environment(func: ast.AST) -> bool:
    """env_str(…), env_int(…), any env_<type>(…) or env(…); os.environ.get(…); os.getenv(…); env.<type>(…)."""
    if isinstance(func, ast.Name):
        return func.id == "env" or func.id.startswith("env_") or func.id == "getenv"
    if isinstance(func, ast.Attribute):
        if func.attr == "get" and _is_os_environ(func.value):
            return True
        if func.attr == "getenv" and _is_name(func.value, "os"):
            return True
        return _is_name(func.value, "env")
    return False


def environment_variables_read(source: str) -> set[str]:
    """Names of the environment variables a module reads by a literal name."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _reads_environment(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
        elif (
            isinstance(node, ast.Subscript)
            and _is_os_environ(node.value)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
    return names


def documented_settings(text: str) -> list[str]:
    """The variables named in the first cell of each row of the table under '## Settings'."""
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return [match.group(1) for line in section.splitlines() if (match := TABLE_ROW_NAME.match(line))]


def test_the_reader_finds_every_way_of_reading_the_environment():
    source = """
import os
from os import environ
A = env_str("A_STR")
B = env_bool("B_BOOL", True)
C = env_float("C_FLOAT", 1.5)
D = os.environ.get("D_ENVIRON_GET")
E = os.environ["E_ENVIRON_ITEM"]
F = os.getenv("F_GETENV")
G = env.int("G_ENVIRON_LIB", default=1)
H = environ.get("H_BARE_ENVIRON")
I = float(env_str("I_NESTED", "10"))
os.environ.setdefault("NOT_A_READ", "x")

def env_str(name, default=""):
    return os.environ.get(name, default)
"""
    assert environment_variables_read(source) == {
        "A_STR",
        "B_BOOL",
        "C_FLOAT",
        "D_ENVIRON_GET",
        "E_ENVIRON_ITEM",
        "F_GETENV",
        "G_ENVIRON_LIB",
        "H_BARE_ENVIRON",
        "I_NESTED",
    }


def test_every_setting_read_by_settings_py_is_in_the_operations_table():
    read = environment_variables_read((ROOT / "config" / "settings.py").read_text())
    assert len(read) > 40  # the reader still understands settings.py
    missing = sorted(read - set(documented_settings(OPERATIONS.read_text())))
    assert not missing, f"Add these to the settings table of docs/operations.md: {missing}"


def test_the_settings_table_names_each_variable_once():
    names = documented_settings(OPERATIONS.read_text())
    assert len(names) == len(set(names)), sorted({name for name in names if names.count(name) > 1})


def test_every_variable_in_the_settings_table_is_read_by_the_code():
    """A row must not outlive its setting: its name is read by settings.py, or appears in the code by its name."""
    read = environment_variables_read((ROOT / "config" / "settings.py").read_text())
    code = "\n".join(
        path.read_text()
        for path in _project_files()
        if path.suffix == ".py" and path.relative_to(ROOT).parts[0] not in {"tests", "bench"}
    )
    documented = documented_settings(OPERATIONS.read_text())
    stale = [name for name in documented if name not in read and f'"{name}"' not in code]
    assert not stale, f"docs/operations.md documents settings nothing reads: {stale}"


# --- References to Markdown documents --------------------------------------------------------------------------
def _project_files(root: Path = ROOT) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIP_DIRS for part in relative.parts[:-1]) or not path.is_file():
            continue
        if any(part.startswith(".") and part != ".ci" for part in relative.parts[:-1]):
            continue
        files.append(path)
    return files


def _text(path: Path) -> str | None:
    if path.stat().st_size > 2_000_000:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def missing_document_references(root: Path) -> list[str]:
    """`file:line: reference` for every *.md a file names that exists neither next to it, nor from the root, nor
    (for a bare file name) anywhere in the repository."""
    root = root.resolve()
    files = _project_files(root)
    documents = {path.relative_to(root).as_posix() for path in files if path.suffix == ".md"} | GENERATED_DOCUMENTS
    names = {Path(document).name for document in documents}
    problems = []
    for path in files:
        text = _text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for reference in MD_REFERENCE.findall(line):
                if not _resolves(reference, path, root, documents, names):
                    problems.append(f"{path.relative_to(root).as_posix()}:{number}: {reference}")
    return problems


def _resolves(reference: str, source: Path, root: Path, documents: set[str], names: set[str]) -> bool:
    for base in (source.parent, root):
        candidate = (base / reference).resolve()
        if candidate.is_relative_to(root) and candidate.relative_to(root).as_posix() in documents:
            return True
    return "/" not in reference and reference in names


def test_no_file_refers_to_a_missing_markdown_document():
    problems = missing_document_references(ROOT)
    assert not problems, "References to documents that are not in the repository:\n" + "\n".join(problems)


def test_the_reference_check_finds_a_missing_document(tmp_path):
    md = ".md"  # names are put together at run time so that this file itself names no document
    missing, guide, api = f"DESIGN{md}", f"guide{md}", f"api{md}"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / guide).write_text(f"See [the API]({api}#errors), ../README{md} and {missing}.\n")
    (tmp_path / "docs" / api).write_text("# API\n")
    (tmp_path / f"README{md}").write_text(f"Start with docs/{guide} (https://example.com/OTHER{md} is a URL).\n")
    (tmp_path / "app.py").write_text(f'"""Rules in {missing} and docs/{missing}; files may be "{md}" or ".txt"."""\n')
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "notes.txt").write_text(f"{missing}\n")  # run-time output is not checked
    assert missing_document_references(tmp_path) == [
        f"app.py:1: {missing}",
        f"app.py:1: docs/{missing}",
        f"docs/{guide}:1: {missing}",
    ]


# --- Tests the docs cite -------------------------------------------------------------------------------------------
def test_every_test_the_docs_cite_exists():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    cited, missing = 0, []
    for page in pages:
        for path, name in CITED_TEST.findall(page.read_text()):
            cited += 1
            test_file = ROOT / path
            defined = test_file.is_file() and re.search(
                rf"^\s*(async\s+)?def {name}\(", test_file.read_text(), flags=re.MULTILINE
            )
            if not defined:
                missing.append(f"{page.relative_to(ROOT)}: {path}::{name}")
    assert cited > 20  # docs/security.md cites its proofs
    assert not missing, "Cited tests that do not exist:\n" + "\n".join(missing)


# --- Links between the pages ----------------------------------------------------------------------------------------
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]*)\)")


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_links_between_the_pages_reach_a_page_and_a_heading():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in MARKDOWN_LINK.findall(page.read_text()):
            if "://" in target:
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.is_file():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text()):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "Broken links:\n" + "\n".join(broken)
