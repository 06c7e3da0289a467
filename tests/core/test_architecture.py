"""The package's shape: every module imports on its own, and every registry entry resolves.

The layer rules themselves (configs import nothing of ours but ``errors``/``naming``, only the
adapters import FreqTrade, no cycles) are import-linter contracts in ``pyproject.toml``, checked
by ``make lint``.
"""

from __future__ import annotations

import inspect
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
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


def import_alone(module: str) -> tuple[str, str]:
    run = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    last = run.stderr.strip().splitlines()[-1:] if run.returncode else []
    return module, " ".join(last)


# one interpreter per module, two at a time
def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    modules = all_modules()
    assert {"itb_ext.config.models", "itb_ext.algorithms.registry", "itb_ext.simulate.grid"} <= set(
        modules
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [f"{m}: {err}" for m, err in pool.map(import_alone, modules) if err]
    assert failures == []


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
