"""The documentation site: built strictly from docs/ and the docstrings, opened in Chromium."""

import os
import subprocess
import sys

import pytest

from tests.browser import open_browser
from tests.conftest import artifact

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MKDOCS = os.path.join(os.path.dirname(sys.executable), "mkdocs")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`mkdocs build --strict`, as `make docs` runs it, into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [MKDOCS, "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_the_readme_is_short_and_every_page_it_links_exists():
    text = open(os.path.join(ROOT, "README.md")).read()
    assert len(text.splitlines()) <= 300
    links = [part.split(")")[0] for part in text.split("](")[1:]]
    local = [link.split("#")[0] for link in links if not link.startswith("http")]
    assert local and all(os.path.isfile(os.path.join(ROOT, link)) for link in local), local


def test_no_project_file_cites_files_outside_the_repository():
    """The project stands alone: no SPEC.md, no ../shared paths in code, configs or docs."""
    cited = []
    for folder, _, names in os.walk(ROOT):
        if any(part in folder for part in (".venv", ".git", "site", "test-artifacts", "egg-info")):
            continue
        for name in names:
            if name.endswith((".py", ".md", ".yaml", ".yml", ".txt", ".toml")):
                path = os.path.join(folder, name)
                text = open(path, encoding="utf-8", errors="replace").read()
                if "SPEC.md" in text or "../shared" in text or "SPEC section" in text:
                    cited.append(os.path.relpath(path, ROOT))
    assert cited == [os.path.join("tests", "test_docs.py")]  # this test names them


FACTS = """
return {
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  title: document.title,
  images: Array.from(document.images).map(i => i.complete && i.naturalWidth > 0),
  nav: Array.from(document.querySelectorAll("a")).map(a => a.textContent.trim()),
  target: (() => {
    const node = document.getElementById("depnet_tf.models.regressor.build_depnet");
    return node ? node.closest("div.doc") ? node.closest("div.doc").innerText : node.innerText : "";
  })(),
};
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_site_in_headless_chromium(site, tmp_path, width):
    browser = open_browser(tmp_path / "profile", width)
    try:
        browser.get((site / "index.html").as_uri())
        home = browser.execute_script(FACTS)
        browser.save_screenshot(artifact(f"docs-index-{width}px.png"))
        browser.get(
            (site / "api" / "models.html").as_uri() + "#depnet_tf.models.regressor.build_depnet"
        )
        api = browser.execute_script(FACTS)
        browser.save_screenshot(artifact(f"docs-build-depnet-{width}px.png"))
    finally:
        browser.quit()
    assert home["title"].startswith("depnet_tf")
    assert home["images"] and all(home["images"])
    assert "Getting started" in home["nav"] and "Models" in home["nav"]
    # The API page renders build_depnet from its docstring: its signature and its words.
    assert "build_depnet" in api["target"] and "config" in api["target"]
    assert "Build the paper's DepNet" in api["target"]
    for page in (home, api):
        assert page["innerWidth"] == width and page["scrollWidth"] <= width, page["scrollWidth"]


def test_the_readme_library_example_runs_as_written(tmp_path):
    """The README's Python block, in a fresh process outside the repository."""
    text = open(os.path.join(ROOT, "README.md")).read()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    check = (
        "\nassert scores.shape == (2, 1) and scores.dtype == 'float32'"
        "\nassert fast.config.precision == 'mixed_bfloat16' and fast.output.dtype == 'float32'"
        "\nassert single.input_shape == (None, 112, 112, 3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code + check], cwd=tmp_path, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
