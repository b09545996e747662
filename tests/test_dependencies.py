"""Areas depend one way. Every module under peerapp/ is parsed (not imported) and
every import it makes, at the top or inside a function, is checked against the
graph below: the one place that says which area may import which.

An earlier area that needs an answer from a later one declares a
``peerapp.providers.Question`` and ``peerapp.connect_areas()`` plugs the answer in.
No module looks an area up by name (importlib, __import__) or guards an import
with ``except ImportError``: every area is always there.
"""
from __future__ import annotations

import ast
from pathlib import Path

PEERAPP = Path(__file__).resolve().parent.parent / "peerapp"

# Each area and the areas it builds on directly (the arrows run from these to it):
# training -> workforce -> referrals -> matching; wrap -> workforce; outcomes,
# presence, readiness, reports and rights on top. An area may import those it
# builds on, and the ones they build on, and the house.
BUILDS_ON: dict[str, set[str]] = {
    "training": set(),
    "wrap": set(),
    "workforce": {"training", "wrap"},
    "referrals": {"workforce"},
    "matching": {"referrals"},
    "outcomes": {"matching"},
    "presence": {"matching"},
    "readiness": {"matching"},
    "reports": {"outcomes", "presence", "readiness"},
    "rights": {"outcomes", "presence", "readiness"},
}
# Everything else under peerapp/ (peerapp/*.py, auth, admin, home, migrations) is the
# house: it imports no area. These modules are the explicit lists of areas
# (area_blueprints(), connect_areas(), area_seeders()) and may import any.
LISTS_OF_AREAS = {"peerapp/__init__.py", "peerapp/demo.py"}
# The migrations runner loads its own migration modules by number, not an area.
MAY_IMPORT_BY_NAME = {"peerapp/migrations/__init__.py"}


def may_import() -> dict[str, set[str]]:
    """The transitive closure of BUILDS_ON: every area an area may import."""
    closure: dict[str, set[str]] = {}

    def below(area: str, seen: tuple[str, ...] = ()) -> set[str]:
        assert area not in seen, f"the graph has a cycle: {' -> '.join(seen + (area,))}"
        if area not in closure:
            found: set[str] = set()
            for earlier in BUILDS_ON[area]:
                found |= {earlier} | below(earlier, seen + (area,))
            closure[area] = found
        return closure[area]

    for area in BUILDS_ON:
        below(area)
    return closure


def node_of(module: str) -> str:
    """'training' for peerapp.training.models; 'house' for peerapp.forms, peerapp.auth..."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in BUILDS_ON else "house"


def _imported(path: str, tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every import of a peerapp module, relative ones resolved."""
    parts = path[:-3].split("/")
    package = parts[:-1]  # a module's package; an __init__.py's is its own folder
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                if node.module:
                    found.append((node.lineno, ".".join(base + [node.module])))
                else:  # from .. import clock, history: each name is a module
                    found += [(node.lineno, ".".join(base + [alias.name])) for alias in node.names]
            else:
                found.append((node.lineno, node.module or ""))
    return [(line, module) for line, module in found if module == "peerapp" or module.startswith("peerapp.")]


def problems_in(path: str, source: str) -> list[str]:
    """What is wrong with one module's imports (``path`` relative to the repository)."""
    tree = ast.parse(source, filename=path)
    allowed = may_import()
    here = node_of(path[:-3].replace("/", "."))
    found = []
    if path not in LISTS_OF_AREAS:
        for line, module in _imported(path, tree):
            there = node_of(module)
            if there == "house" or there == here:
                continue
            if here == "house" or there not in allowed[here]:
                found.append(f"{path}:{line}: {here} imports {module} ({there} is not one of the areas "
                             f"{here} builds on: {sorted(allowed.get(here, ())) or 'none'})")
    for node in ast.walk(tree):
        if path not in MAY_IMPORT_BY_NAME:
            if isinstance(node, ast.Import) and any(a.name == "importlib" for a in node.names):
                found.append(f"{path}:{node.lineno}: imports importlib (import areas plainly, by their names)")
            if isinstance(node, ast.ImportFrom) and node.module == "importlib" and any(
                    a.name in ("import_module", "__import__") for a in node.names):
                found.append(f"{path}:{node.lineno}: imports importlib.import_module")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
                found.append(f"{path}:{node.lineno}: calls __import__")
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
                found.append(f"{path}:{node.lineno}: guards an import with except ImportError "
                             "(every area is always installed)")
    return found


def test_every_import_runs_the_allowed_way():
    paths = sorted(PEERAPP.rglob("*.py"))
    assert len(paths) > 50
    found = []
    for file in paths:
        path = file.relative_to(PEERAPP.parent).as_posix()
        found += problems_in(path, file.read_text())
    assert not found, "\n".join(found)


def test_the_graph_has_no_cycle_and_names_every_area():
    may_import()
    areas = {p.name for p in PEERAPP.iterdir() if (p / "__init__.py").exists()}
    assert set(BUILDS_ON) <= areas
    assert areas - set(BUILDS_ON) == {"admin", "auth", "data", "home", "migrations"}, \
        "a new area: add it to BUILDS_ON with the areas it builds on"


def test_the_check_finds_each_kind_of_wrong_import():
    # An earlier area importing a later one, at the top or inside a function.
    assert problems_in("peerapp/workforce/models.py", "from ..referrals.models import caseload\n")
    assert problems_in("peerapp/workforce/models.py",
                       "def f():\n    from peerapp.referrals import models\n")
    assert problems_in("peerapp/training/rights.py", "from ..workforce.models import PeerRole\n")
    assert problems_in("peerapp/wrap/sharing.py", "from ..workforce import models\n")
    assert problems_in("peerapp/outcomes/change.py", "from ..reports.figures import Table\n")
    assert problems_in("peerapp/training/rights.py", "from ..rights.registry import Person\n")
    # The house imports no area.
    assert problems_in("peerapp/history.py", "def kind():\n    from .rights import registry\n")
    assert problems_in("peerapp/forms.py", "from . import training\n")
    # Looking an area up by name, and guarding an import.
    assert problems_in("peerapp/reports/figures.py", "import importlib\n")
    assert problems_in("peerapp/reports/figures.py", "x = __import__('peerapp.outcomes')\n")
    assert problems_in("peerapp/workforce/onboarding.py",
                       "try:\n    from ..wrap import rights\nexcept ImportError:\n    pass\n")
    # The allowed way passes: a later area imports earlier ones, and the house.
    assert not problems_in("peerapp/matching/engine.py",
                           "from ..referrals import eligibility\nfrom ..training.models import Cohort\n"
                           "from .. import clock, history\nfrom peerapp.workforce.models import PeerRole\n")
    assert not problems_in("peerapp/reports/figures.py", "from ..outcomes import change\n")
    assert not problems_in("peerapp/workforce/onboarding.py", "from ..wrap.rights import erase_plan\n")
    assert not problems_in("peerapp/__init__.py", "from .rights.registry import load_areas\n")


RIGHTS_QUESTIONS = {"subject_data": "subject_data", "erase": "erase", "name_of": "name_of",
                    "names_of": "names_of", "find": "find", "past_retention": "past_retention"}


def test_every_areas_rights_answers_are_listed_by_name():
    """The rights registry names each area's answers one by one (no look-up by
    name); an answer left out of the list would silently miss a person's records
    in subject access or erasure."""
    import importlib

    from peerapp.rights.registry import load_areas
    listed = load_areas()
    missing = []
    for folder in sorted(PEERAPP.iterdir()):
        if not (folder / "rights.py").exists() or folder.name == "rights":
            continue
        module = importlib.import_module(f"peerapp.{folder.name}.rights")
        for name, field in RIGHTS_QUESTIONS.items():
            if callable(getattr(module, name, None)) and getattr(module, name) not in getattr(listed, field):
                missing.append(f"{folder.name}.rights.{name}")
        missing += [f"{folder.name}.rights.NAME_MENTIONS {m}" for m in getattr(module, "NAME_MENTIONS", ())
                    if m not in listed.name_mentions]
    assert not missing, "add to peerapp.rights.registry.load_areas(): " + ", ".join(missing)
