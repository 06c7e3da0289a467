"""The documentation: the generated configuration reference, the site's pages, the README."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Literal

import pytest
from pydantic import Field

import itb_ext.config
from itb_ext.config.base import FrozenModel
from itb_ext.config.reference import NOT_DOCUMENTED, models_in, render, render_section, sections

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MKDOCS = Path(sys.executable).parent / "mkdocs"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "config_reference", DOCS / "hooks" / "config_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# the generated configuration reference
# ---------------------------------------------------------------------------------------------


def test_the_configuration_page_is_what_the_config_classes_generate() -> None:
    generator = load_generator()
    committed = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert committed == generator.build_page(), (
        "docs/configuration.md is stale: run python docs/hooks/config_reference.py"
    )


def test_every_key_of_the_reference_has_a_meaning() -> None:
    page = load_generator().build_page()
    undocumented = [line for line in page.splitlines() if NOT_DOCUMENTED in line]
    assert undocumented == []


def test_every_public_config_class_has_a_section() -> None:
    described = {s.model for _, _, group in load_generator().page_groups() for s in group}
    public = set()
    for info in pkgutil.iter_modules(itb_ext.config.__path__):
        module = importlib.import_module(f"itb_ext.config.{info.name}")
        public.update(m for m in models_in(module) if not m.__name__.startswith("_"))
    public.discard(FrozenModel)
    missing = sorted(m.__qualname__ for m in public - described)
    assert missing == []


class Inner(FrozenModel):
    """Inner part.

    :param level: how high, in candles.
    """

    level: int = Field(default=3, ge=1)


class Toy(FrozenModel):
    """A toy section.

    A second paragraph with ``code``.

    :param mode: ``a`` or ``b``; see :class:`~somewhere.Inner`.
    :param inner: the inner part,
        described on two lines.
    :param horizon: rows ahead | at most a day.
    """

    mode: Literal["a", "b"] = "a"
    inner: Inner = Inner()
    horizon_bars: int = Field(alias="horizon")
    limits: tuple[float, ...] | None = None


class ToyChild(Toy):
    """A toy that documents what its parent left out.

    :param limits: the bounds.
    """


def test_a_section_renders_keys_types_defaults_and_docstring_meanings() -> None:
    found = sections(Toy, "toy")
    assert [(s.key, s.model, s.anchor) for s in found] == [
        ("toy", Toy, "toy"),
        ("toy.inner", Inner, "toy-inner"),
    ]
    links = {Toy: "toy", Inner: "toy-inner"}
    assert render_section(found[0], links) == "\n".join(
        [
            "### `toy` {#toy}",
            "",
            "A toy section.",
            "",
            "A second paragraph with `code`.",
            "",
            "| key | type | default | meaning |",
            "| --- | --- | --- | --- |",
            '| `mode` | "a" or "b" | `"a"` | `a` or `b`; see `Inner`. |',
            "| `inner` | [object](#toy-inner) | its defaults "
            "| the inner part, described on two lines. |",
            "| `horizon` | int | required | rows ahead \\| at most a day. |",
            f"| `limits` | list of number or null | `null` | {NOT_DOCUMENTED} |",
        ]
    )
    assert render_section(found[1], links).endswith(
        "| `level` | int (>= 1) | `3` | how high, in candles. |"
    )


def test_inherited_keys_take_the_meaning_from_the_class_that_documents_them() -> None:
    text = render_section(sections(ToyChild, "child")[0], {})
    assert "| `horizon` | int | required | rows ahead \\| at most a day. |" in text
    assert "| `limits` | list of number or null | `null` | the bounds. |" in text


def test_a_class_used_twice_is_described_once_and_linked_from_both() -> None:
    class Twice(FrozenModel):
        """Two of the same.

        :param first: one.
        :param second: two.
        """

        first: Inner = Inner()
        second: Inner | None = None

    page = render([("Group", "", sections(Twice, "twice"))])
    assert page.count("### `twice.") == 1
    assert "| `first` | [object](#twice-first) |" in page
    assert "| `second` | [object](#twice-first) or null |" in page


# ---------------------------------------------------------------------------------------------
# the site
# ---------------------------------------------------------------------------------------------


def nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    return re.findall(r":\s+(\S+\.md)\s*$", nav, flags=re.MULTILINE)


def test_every_page_is_in_the_navigation_and_every_entry_exists() -> None:
    pages = nav_pages()
    on_disk = sorted(p.name for p in DOCS.glob("*.md"))
    assert sorted(pages) == on_disk
    assert len(set(pages)) == len(pages)


@pytest.mark.skipif(not MKDOCS.exists(), reason="mkdocs is not installed (the dev extras)")
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("material")
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "configuration" / "index.html").is_file()


# ---------------------------------------------------------------------------------------------
# the README
# ---------------------------------------------------------------------------------------------


def test_the_readme_is_short_says_what_it_is_and_how_to_start() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    opening = " ".join(lines[:8])
    assert "intelligent-trading-bot" in opening and "FreqTrade" in opening
    text = "\n".join(lines)
    first_block = text.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
    assert ". .venv/bin/activate" in text


def test_the_readme_links_only_to_pages_that_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", text)
    assert targets, "the README links to no page of docs/"
    assert [t for t in targets if not (ROOT / t).is_file()] == []
