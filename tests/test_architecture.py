"""The package's declared import layers hold, and no module imports itself back."""

import os
import subprocess
import sys

import grimp
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_no_import_cycles():
    graph = grimp.build_graph("depnet_tf")
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and imported.startswith("depnet_tf"):
                chain = graph.find_shortest_chain(importer=imported, imported=module)
                assert chain is None, f"import cycle: {module} -> {' -> '.join(chain)}"


def test_import_contract_is_kept():
    linter = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    if not os.path.exists(linter):
        pytest.skip("import-linter is not installed")
    result = subprocess.run([linter], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
