"""The manual (issue 27.5): the README stays a short manual whose test command is `make test` (CI runs the README's
test command), and docs/ is the full one, built by `make docs` (its strict build runs in `make test`)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_a_short_manual() -> None:
    assert len(README.splitlines()) <= 250, "the README is the short manual: put the detail in docs/"


def test_the_readme_states_its_test_command_plainly() -> None:
    assert re.search(r"^make test\s+# ", README, re.MULTILINE), "the README's test command is `make test`"
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_links_only_to_pages_that_exist() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)", README)
    assert links
    for link in links:
        assert (ROOT / link).is_file(), link


def test_every_page_is_in_the_navigation_and_results_has_a_section_per_capability() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert config["strict"] == "true" and config["theme"]["font"] == "false"  # strict and offline

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        items = nav.values() if isinstance(nav, dict) else nav
        return [page for item in items for page in pages(item)]

    assert sorted(pages(config["nav"])) == sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    sections = re.findall(r"^## (.+)$", (ROOT / "docs" / "results.md").read_text(encoding="utf-8"), re.MULTILINE)
    for capability in ("Exercise analysis", "Fall detection", "Posture classifiers", "Comparison", "Service"):
        assert any(s.startswith(capability) for s in sections), capability


def test_the_docs_extra_is_part_of_dev() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert extras["docs"] and set(extras["docs"]) <= set(extras["dev"])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^docs:", makefile, re.MULTILINE) and re.search(r"^test:.* docs", makefile, re.MULTILINE)
