"""The package's shape: every module imports on its own, and every registry entry resolves.

The layer rules themselves (configs import nothing of ours but ``errors``/``naming``, only the
adapters import FreqTrade, no cycles) are import-linter contracts in ``pyproject.toml``, checked
by ``make lint``.
"""

from __future__ import annotations

import inspect
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import itb_ext
from itb_ext.algorithms import ALGORITHMS
from itb_ext.config.base import FrozenModel
from itb_ext.config.generators import GeneratorConfig, LabelConfig, PastWindowConfig
from itb_ext.config.models import AlgorithmConfig
from itb_ext.pipeline.registry import BUILTIN_GENERATORS

ROOT = Path(__file__).resolve().parents[2]


def all_modules() -> list[str]:
    found = pkgutil.walk_packages(itb_ext.__path__, prefix="itb_ext.")
    return ["itb_ext", *sorted(m.name for m in found)]


def test_every_module_imports_alone() -> None:
    """Each module imports with no other module of ours loaded (see tests/support/import_alone)."""
    modules = all_modules()
    assert {"itb_ext.config.models", "itb_ext.algorithms.registry", "itb_ext.simulate.grid"} <= set(
        modules
    )
    run = subprocess.run(
        [sys.executable, "-m", "tests.support.import_alone", *modules],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
        check=False,
    )
    assert (run.returncode, run.stdout) == (0, ""), run.stdout + run.stderr[-2000:]


# the checker, with a probe package counted as ours
PROBE = (
    "import sys; from tests.support import import_alone as check; "
    "check.OURS = (*check.OURS, 'itb_ext_probe'); raise SystemExit(check.main())"
)


def test_the_import_check_names_a_module_that_fails_alone(tmp_path: Path) -> None:
    # a module that uses a sibling it never imports: fine after the sibling, not alone
    package = tmp_path / "itb_ext_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("VALUE = 1\n")
    (package / "b.py").write_text("import itb_ext_probe\n\nDOUBLE = itb_ext_probe.a.VALUE * 2\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    argv = [sys.executable, "-c", PROBE, "itb_ext_probe.a", "itb_ext_probe.b"]
    run = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines() == [
        "itb_ext_probe.b: AttributeError: module 'itb_ext_probe' has no attribute 'a'"
    ]


@pytest.mark.parametrize("name", sorted(BUILTIN_GENERATORS))
def test_every_builtin_generator_resolves(name: str) -> None:
    gen = BUILTIN_GENERATORS[name]
    function = gen.load_function()
    model = gen.load_config_model()
    assert callable(function)
    assert list(inspect.signature(function).parameters)[:2] == ["df", "cfg"]
    assert issubclass(model, FrozenModel)
    # the written contract of a generator config (checked on the class: no instance needed)
    for method in ("input_columns", "output_columns"):
        assert callable(getattr(model, method, None)), f"{name}: no {method}()"
    if gen.stage == "labels":
        assert callable(getattr(model, "horizon", None)), f"{name}: a label needs horizon()"
    else:
        assert callable(getattr(model, "lookback", None)), f"{name}: needs lookback()"
    assert GeneratorConfig in PastWindowConfig.__mro__ and GeneratorConfig in LabelConfig.__mro__


@pytest.mark.parametrize("algo", ALGORITHMS.names())
def test_every_algorithm_builds_a_model_that_predicts(algo: str) -> None:
    entry = ALGORITHMS[algo]
    if entry.train_keys is not None:
        assert entry.train_keys()
    cfg = AlgorithmConfig(name="x", algo=algo)
    assert cfg.scaled is entry.scaled
    from itb_ext.algorithms import build_estimator

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    model = build_estimator(cfg, n_features=3, n_rows=120, seed=0).fit(X, y)
    p = model.predict_proba(X)[:, 1]
    assert p.shape == (120,) and ((p >= 0) & (p <= 1)).all()
    assert p[y == 1].mean() > p[y == 0].mean()
