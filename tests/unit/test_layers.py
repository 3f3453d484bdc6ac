"""The package's shape: no import cycles (scripts/import_cycles.py) and the layer contracts of pyproject.toml
(import-linter), so that a new cycle or an upward import fails the tests, not only `make lint`."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_cycles", REPO / "scripts" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


import_cycles = _checker()


def test_no_module_imports_itself_through_others() -> None:
    cycles = import_cycles.find_cycles("posecoach")
    assert not cycles, "\n".join(c.describe() for c in cycles)


def test_no_subpackages_import_each_other() -> None:
    """posecoach.analysis, posecoach.service, ... (and the top-level modules) form no cycle either."""
    cycles = import_cycles.find_cycles("posecoach", depth=2)
    assert not cycles, "\n".join(c.describe() for c in cycles)


def test_no_packages_import_each_other_at_any_depth() -> None:
    """Nor do the packages inside them (posecoach.analysis.falls, posecoach.service.storage, ...)."""
    cycles = [c for depth in range(3, 8) for c in import_cycles.find_cycles("posecoach", depth=depth)]
    assert not cycles, "\n".join(c.describe() for c in cycles)


def test_the_checker_sees_a_cycle_hidden_by_a_lazy_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "cyclic_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic_pkg.b import helper\n\nVALUE = helper()\n")
    (package / "b.py").write_text(textwrap.dedent("""
        def helper() -> int:
            return 1


        def late() -> int:
            from cyclic_pkg.a import VALUE  # lazy: the import cycle is still there

            return VALUE
    """))
    (package / "c.py").write_text("from cyclic_pkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        cycles = import_cycles.find_cycles("cyclic_pkg")
    finally:
        for name in [n for n in sys.modules if n.startswith("cyclic_pkg")]:
            del sys.modules[name]
    assert [c.modules for c in cycles] == [("cyclic_pkg.a", "cyclic_pkg.b")]
    assert cycles[0].path in (("cyclic_pkg.a", "cyclic_pkg.b", "cyclic_pkg.a"),
                              ("cyclic_pkg.b", "cyclic_pkg.a", "cyclic_pkg.b"))
    assert any("lazy" in line for line in cycles[0].lines)


def test_the_layer_contracts_hold() -> None:
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0
