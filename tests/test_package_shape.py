"""The shape of the package (issue 17): few public names, core apart from lessons, graders named
check_*, and every exported callable validating its arguments through @accepts."""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import threadkit as tk
import threadkit.lessons
from test_validation import CASES

PACKAGE = Path(tk.__file__).parent
CORE_FILES = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
CORE_MODULES = [importlib.import_module(f"threadkit.{p.stem}") for p in CORE_FILES if p.stem.startswith("_")]
LESSONS = [importlib.import_module(f"threadkit.lessons.{module.name}")
           for module in pkgutil.iter_modules(threadkit.lessons.__path__)]


def exported(module):
    return [(f"{module.__name__}.{name}", getattr(module, name)) for name in getattr(module, "__all__", [])]


def clashes(names):
    folded = {}
    for name in names:
        folded.setdefault(name.lower().replace("_", ""), []).append(name)
    return [group for group in folded.values() if len(group) > 1]


def test_at_most_50_public_names_assembled_from_the_core_modules():
    assert len(tk.__all__) <= 50
    assembled = [name for module in CORE_MODULES for name in getattr(module, "__all__", [])]
    assert sorted(tk.__all__) == sorted(["kinds", "traced", *assembled])
    assert len(set(tk.__all__)) == len(tk.__all__)


def public_attributes():
    return {name for name, value in vars(tk).items() if not name.startswith("_")
            and not (inspect.ismodule(value) and value.__name__.startswith("threadkit._"))}


def test_the_package_has_no_public_attribute_outside_all():
    assert public_attributes() == {*tk.__all__, "lessons"}


def test_every_name_in_all_is_an_attribute():
    assert {*tk.__all__, "lessons"} <= public_attributes()


@pytest.mark.parametrize("module", [tk, *LESSONS], ids=lambda m: m.__name__)
def test_no_two_public_names_differ_only_in_case_or_underscores(module):
    assert clashes(module.__all__) == []


def test_the_clash_finder_finds_clashes():
    assert clashes(["python_build", "PythonBuild", "mark", "MARK", "draw"]) == [["python_build", "PythonBuild"],
                                                                                ["mark", "MARK"]]


def imported_modules(path):
    """Every module a file imports, as written (``.lessons.start``, ``..x``, ``os``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found += [base] + [base + ("" if base.endswith(".") else ".") + alias.name for alias in node.names]
    return found


def imports_lessons(path):
    return [m for m in imported_modules(path) if m.startswith((".lessons", "threadkit.lessons"))]


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_the_core_never_imports_the_lessons(path):
    assert imports_lessons(path) == []


def test_the_lessons_import_finder_sees_every_spelling(tmp_path):
    for source in ["from .lessons import start", "from .lessons.pools import FakeWeb", "from . import lessons",
                   "import threadkit.lessons.races", "from threadkit.lessons import queues"]:
        (tmp_path / "m.py").write_text(f"def f():\n    {source}\n")
        assert imports_lessons(tmp_path / "m.py"), source


def lesson_graders():
    return [(name, obj) for lesson in LESSONS for name, obj in vars(lesson).items()
            if name.startswith("check_") and not name.startswith("_") and callable(obj)
            and getattr(obj, "__module__", None) == lesson.__name__]


def test_every_public_check_in_the_lessons_is_a_grader():
    graders = lesson_graders()
    assert len(graders) >= 6  # one exercise per notebook
    assert [name for name, obj in graders if not getattr(obj, "is_grader", False)] == []


def defined_names(path):
    """Names a module defines at its top level: functions, classes and assigned names."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.Assign):
            yield from (target.id for target in node.targets if isinstance(target, ast.Name))


def core_check_names():
    return [f"{p.name}: {name}" for p in CORE_FILES for name in defined_names(p) if name.startswith("check_")]


def test_no_core_module_defines_a_check_name():
    assert core_check_names() == []


def callables_exported():
    return [(name, obj) for module in CORE_MODULES + LESSONS for name, obj in exported(module)
            if callable(obj) and not (isinstance(obj, type) and issubclass(obj, BaseException))]


def parameters(obj):
    target = obj.__init__ if isinstance(obj, type) else obj
    return [p for p in inspect.signature(target).parameters.values() if p.name != "self"]


ROWS = {case[0].split()[0] for case in CASES}
#: Exported callables that accept any value, so there is nothing to refuse.
ACCEPTS_ANYTHING = {"threadkit.lessons.comparison.fail_unpicklably"}


def unvalidated():
    return sorted(name for name, obj in callables_exported()
                  if parameters(obj) and not getattr(obj.__init__ if isinstance(obj, type) else obj, "validates", ())
                  and name.rsplit(".", 1)[1] not in ROWS and name not in ACCEPTS_ANYTHING)


def test_every_exported_callable_validates_its_arguments():
    assert unvalidated() == []


@pytest.mark.parametrize("module", ["_build", "_checking", "_workloads", "lessons.start"])
def test_these_modules_validate_every_exported_callable(module):
    assert [name for name in unvalidated() if name.startswith(f"threadkit.{module}.")] == []


def test_a_callable_without_validation_is_found(monkeypatch):
    name = "threadkit._workloads.handoff_round_trip_us"
    assert name not in unvalidated()
    monkeypatch.delattr(tk.handoff_round_trip_us, "validates")
    assert name in unvalidated()


@pytest.mark.parametrize("name, obj", [(n, o) for n, o in callables_exported() if getattr(o, "validates", ())],
                         ids=lambda x: x if isinstance(x, str) else "")
def test_a_wrong_typed_argument_is_refused_by_name(name, obj):
    """Validation runs before the body, so one wrong argument alone is refused, naming it."""
    params = {p.name: p for p in inspect.signature(obj).parameters.values()}
    for argument in obj.validates:
        if params[argument].kind == params[argument].VAR_POSITIONAL:
            continue  # a *args spec is exercised in test_validation
        positional_only = params[argument].kind == params[argument].POSITIONAL_ONLY
        assert not positional_only or list(params).index(argument) == 0, "only a first one is tried"
        with pytest.raises((TypeError, ValueError), match=f"^{argument} must be "):
            obj(object()) if positional_only else obj(**{argument: object()})


#: The size issue 17 set for the whole package (`wc -l threadkit/*.py threadkit/*/*.py`).
MAX_PACKAGE_LINES = 4500


def test_the_package_stays_small():
    files = [*PACKAGE.glob("*.py"), *PACKAGE.glob("*/*.py")]
    assert not list(PACKAGE.glob("*/*/*.py")), "no deeper folders: they would escape the count"
    lines = sum(len(path.read_text().splitlines()) for path in files)
    assert lines <= MAX_PACKAGE_LINES, f"threadkit has {lines} lines (at most {MAX_PACKAGE_LINES})"
