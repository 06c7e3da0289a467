"""Build step that ships the FreqTrade strategy, the FreqAI model and the presets in the wheel.

Everything else about the package is declared in ``pyproject.toml``. ``itb-ext init`` installs
these files into a user's FreqTrade folder, so a wheel must carry them: they are copied from
``user_data/`` into ``itb_ext/adapters/shipped/`` of the build. An editable install reads them from
the checkout instead (see ``itb_ext/adapters/shipped.py``), so nothing is copied there.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "user_data"
PATTERNS = runpy.run_path(str(ROOT / "itb_ext" / "adapters" / "shipped.py"))["SHIPPED_PATTERNS"]


class BuildWithShippedFiles(build_py):
    """``build_py`` plus the copy of the shipped user-data files into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "itb_ext" / "adapters" / "shipped"
        for pattern in PATTERNS:
            files = sorted(p for p in SOURCE.glob(pattern) if p.is_file())
            if not files:
                # a wheel without them would install, then fail at `itb-ext init`
                raise SystemExit(f"build: no file matches user_data/{pattern}")
            for source in files:
                destination = target / source.relative_to(SOURCE)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)


setup(cmdclass={"build_py": BuildWithShippedFiles})
