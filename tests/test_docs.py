"""Run every ```python block of the docs pages, so the documented conventions stay true."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCKS = [
    pytest.param(code, id=f"{page.name}#{i}")
    for page in sorted(DOCS.glob("*.md"))
    for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))
]


@pytest.mark.parametrize("code", BLOCKS)
def test_doc_block_runs(code: str) -> None:
    exec(compile(code, "<docs>", "exec"), {})


def test_conventions_page_has_blocks() -> None:
    assert sum("conventions.md" in p.id for p in BLOCKS) >= 4


def test_every_module_the_architecture_page_names_exists() -> None:
    """docs/architecture.md says what each module owns: a module it names must be in the package
    (or, for the tests it points to, in tests/)."""
    root = DOCS.parent
    have = {p.name for folder in (root / "src" / "spatialforge", root / "tests") for p in folder.rglob("*.py")}
    named = set(re.findall(r"`(?:[\w/]+/)?(\w+\.py)`", (DOCS / "architecture.md").read_text()))
    assert len(named) > 60 and not named - have, sorted(named - have)
