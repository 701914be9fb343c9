"""The test tree mirrors the design (issue 17): one factory per model, in the factories module of the app that owns
the model (tests/<app>/factories.py), shared by every test package; rows of a model that has a factory or a builder
there are made by it, not again by hand elsewhere; the password hasher is set once for the whole run
(tests/conftest.py), never swapped by a test module. Read from the source (ast), nothing imported."""

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# The one module that sets the run's password hashers (in pytest_configure, before any test runs).
HASHERS_SET_IN = "tests/conftest.py"
THIS = "tests/test_test_tree.py"  # names the setting to look for it
ROW_MAKERS = {"create", "create_user", "create_superuser", "bulk_create", "get_or_create", "update_or_create"}
# Modules that make rows of a model with a factory through the manager on purpose: the manager is what they test.
MANAGER_UNDER_TEST = {
    ("tests/accounts/test_models.py", "User"): "the user manager's and the model's own checks",
    ("tests/admin/test_admin_access.py", "User"): "a bulk insert (the demo seeder's path) follows the staff rule",
}


def _modules() -> dict[str, ast.Module]:
    return {
        path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(), filename=str(path))
        for path in sorted(TESTS.rglob("*.py"))
    }


def _model_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rsplit(".", 1)[-1]  # "app_label.Model"
    return None


def factories_of(tree: ast.Module) -> list[tuple[str, str]]:
    """(factory class, model name) of every class declaring `class Meta: model = …` (its own, not inherited:
    a subclass without one, such as StudentFactory(UserFactory), is a preset of the same factory). A serializer's
    or a form's `Meta` names a model too: only classes built on a factory (a base named `…Factory`) count."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef) or not any(ast.unparse(base).endswith("Factory") for base in node.bases):
            continue
        for meta in node.body:
            if isinstance(meta, ast.ClassDef) and meta.name == "Meta":
                for statement in meta.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and any(isinstance(target, ast.Name) and target.id == "model" for target in statement.targets)
                        and (model := _model_name(statement.value))
                    ):
                        found.append((node.name, model))
    return found


def rows_made_by_hand(tree: ast.Module) -> list[tuple[str, int]]:
    """(model name, line) of every `Model.objects.create(…)` and the like."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ROW_MAKERS
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "objects"
            and isinstance(node.func.value.value, ast.Name)
        ):
            found.append((node.func.value.value.id, node.lineno))
    return found


def hasher_swaps(tree: ast.Module) -> list[int]:
    """Lines that set PASSWORD_HASHERS: `settings.PASSWORD_HASHERS = …`, `override_settings(PASSWORD_HASHERS=…)`,
    `setattr(settings, "PASSWORD_HASHERS", …)` or a settings dict with that key. Reading it is fine."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "PASSWORD_HASHERS" and isinstance(node.ctx, ast.Store):
            lines.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg == "PASSWORD_HASHERS":
            lines.append(node.value.lineno)
        elif isinstance(node, ast.Constant) and node.value == "PASSWORD_HASHERS":
            lines.append(node.lineno)
    return lines


def _is_factories_module(path: str) -> bool:
    return path.endswith("/factories.py")


def duplicate_factories(modules: dict[str, ast.Module]) -> list[str]:
    by_model = defaultdict(list)
    for path, tree in modules.items():
        for factory, model in factories_of(tree):
            by_model[model].append(f"{path}::{factory}")
    return [f"{model}: {', '.join(places)}" for model, places in sorted(by_model.items()) if len(places) > 1]


def misplaced_factories(modules: dict[str, ast.Module]) -> list[str]:
    return [
        f"{path}::{factory} ({model})"
        for path, tree in modules.items()
        if not _is_factories_module(path)
        for factory, model in factories_of(tree)
    ]


def built_models(modules: dict[str, ast.Module]) -> dict[str, str]:
    """Model name → the factories module whose factory or builder makes its rows."""
    owners = {}
    for path, tree in modules.items():
        if _is_factories_module(path):
            owners |= {model: path for _, model in factories_of(tree)}
            owners |= {model: path for model, _ in rows_made_by_hand(tree)}
    return owners


def rows_built_another_way(modules: dict[str, ast.Module]) -> list[str]:
    owners = built_models(modules)
    return [
        f"{path}:{line} makes {model} rows by hand; use {owners[model]}"
        for path, tree in modules.items()
        if not _is_factories_module(path)
        for model, line in rows_made_by_hand(tree)
        if model in owners and (path, model) not in MANAGER_UNDER_TEST
    ]


def swapped_hashers(modules: dict[str, ast.Module]) -> list[str]:
    return [
        f"{path}:{line} sets PASSWORD_HASHERS"
        for path, tree in modules.items()
        if path not in (HASHERS_SET_IN, THIS)
        for line in hasher_swaps(tree)
    ]


def test_one_factory_per_model_in_the_factories_module_of_its_app():
    modules = _modules()
    assert duplicate_factories(modules) == []
    assert misplaced_factories(modules) == []
    # The check sees the factories it guards (a parser that found nothing would pass anything).
    owners = built_models(modules)
    assert owners["Enrollment"] == "tests/materials/factories.py"
    assert owners["User"] == "tests/accounts/factories.py"


def test_rows_of_a_model_with_a_factory_are_made_by_it():
    assert rows_built_another_way(_modules()) == []


def test_no_test_module_swaps_the_password_hashers():
    modules = _modules()
    assert swapped_hashers(modules) == []
    assert hasher_swaps(modules[HASHERS_SET_IN]), "tests/conftest.py sets the run's hashers once"


SECOND_ENROLLMENT_FACTORY = """
class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment
"""
SWAPS = """
@pytest.fixture(autouse=True)
def fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

def test_a():
    with override_settings(PASSWORD_HASHERS=[]):
        pass
"""


def test_the_checks_catch_what_they_guard():
    modules = _modules()
    modules["tests/chat/factories.py"] = ast.parse(SECOND_ENROLLMENT_FACTORY)
    modules["tests/chat/test_rooms.py"] = ast.parse(
        SECOND_ENROLLMENT_FACTORY + "\nEnrollment.objects.create(student=s, teacher=t, subject=m)\n" + SWAPS
    )

    assert any(line.startswith("Enrollment: ") for line in duplicate_factories(modules))
    assert misplaced_factories(modules) == ["tests/chat/test_rooms.py::EnrollmentFactory (Enrollment)"]
    assert rows_built_another_way(modules) == [
        "tests/chat/test_rooms.py:6 makes Enrollment rows by hand; use tests/materials/factories.py"
    ]
    assert swapped_hashers(modules) == [
        "tests/chat/test_rooms.py:10 sets PASSWORD_HASHERS",
        "tests/chat/test_rooms.py:13 sets PASSWORD_HASHERS",
    ]
