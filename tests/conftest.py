"""Shared fixtures (the ITB parity fixtures, the embedded real candles) and the test tiers.

Every test belongs to one tier, given by a marker set here from where it lives:

* ``e2e``: FreqTrade runs for real (CLI backtests, hyperopt, bias analyses, the webserver):
  everything under tests/freqtrade/, and any other test that requests ``freqtrade_installed``;
* ``live``: ``freqtrade trade`` bots against the replay exchange of tests/support, which wait
  for candles in real seconds;
* core: the rest, in-process and fast (``make test-fast``: ``-m "not e2e and not live"``).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ITBREF_DIR = ROOT / "tests" / "data" / "itbref"
CANDLES_DIR = ROOT / "user_data" / "data" / "bitfinex"
ITBREF_DATASETS = ("synthetic_1h_3000", "bitfinex_btcusd_1h_2018")

E2E_FOLDER = ROOT / "tests" / "freqtrade"
#: Modules of tests/freqtrade whose tests drive bots on the replay exchange (or its harness).
LIVE_MODULES = frozenset(
    {
        "test_chaos.py",
        "test_exchange_stop.py",
        "test_itb_live.py",
        "test_kill_switch_live.py",
        "test_model_health_live.py",
        "test_order_faults.py",
        "test_partial_fills.py",
        "test_postgres.py",
        "test_producer_consumer.py",
        "test_replay_harness.py",
        "test_start_up_guards.py",
    }
)
#: Replay-exchange bots in modules whose other tests are backtests.
LIVE_TESTS = frozenset(
    {
        "test_twap.py::test_live_bot_places_and_fills_the_child_orders_on_the_replay_exchange",
        "test_twap.py::test_a_restart_keeps_the_plan_and_the_spacing_of_the_children",
    }
)
#: The tiers, longest first (see :func:`pytest_collection_modifyitems` for the run order).
TIER_ORDER = ("live", "e2e", "core")
#: Modules that take longest, longest first in each tier (from ``make test
#: PYTEST_ADDOPTS=--durations=0``): they start first, so that no long one is left for the end.
LONGEST_FIRST = (
    "test_itb_live.py",
    "test_replay_harness.py",
    "test_kill_switch_live.py",
    "test_producer_consumer.py",
    "test_twap.py",
    "test_order_faults.py",
    "test_chaos.py",
    "test_exchange_stop.py",
    "test_task_pool.py",
    "test_demo_examples.py",
    "test_walk_forward_levels.py",
    "test_itb_freqai.py",
    "test_bias_analysis.py",
    "test_architecture.py",
    "test_parallel_training.py",
    "test_diagram.py",
    "test_compute_parity.py",
)


def tier_of(item: pytest.Item) -> str:
    """The tier of one collected test: ``live``, ``e2e`` or ``core``."""
    path = Path(item.path)
    name = getattr(item, "originalname", item.name)  # without the parameters
    if path.name in LIVE_MODULES or f"{path.name}::{name}" in LIVE_TESTS:
        return "live"
    if path.is_relative_to(E2E_FOLDER) or "freqtrade_installed" in getattr(
        item, "fixturenames", ()
    ):
        return "e2e"
    return "core"


def pytest_configure(config: pytest.Config) -> None:
    """Child processes see no terminal width unless a test sets one.

    FreqTrade's console wraps log lines at ``COLUMNS``, and a pytest process exports
    ``COLUMNS=80`` to what it starts, pytest-xdist's workers included; without the variable
    FreqTrade writes one line per message, as a serial run shows it. A test that reads a table
    FreqTrade prints sets its own width.
    """
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)


def _long_first(path: Path) -> int:
    return LONGEST_FIRST.index(path.name) if path.name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier and run whole modules in an order that keeps both cores busy.

    A module keeps its own test order (module fixtures are shared by tests that run in turn) and
    counts in its longest tier. The replay bots mostly wait for their candles and the backtests
    mostly compute, so their modules alternate (bot, backtest, bot, ...) and start first; the
    short core modules fill the gaps at the end. ``make test`` runs more workers than cores
    (``--dist loadscope --no-loadscope-reorder`` keeps this order) so that a waiting bot leaves
    its core to a backtest.
    """
    tiers = {item.nodeid: tier_of(item) for item in items}
    module_tier: dict[Path, int] = {}
    for item in items:
        rank = TIER_ORDER.index(tiers[item.nodeid])
        module_tier[item.path] = min(rank, module_tier.get(item.path, rank))
    by_tier: list[list[Path]] = [[] for _ in TIER_ORDER]
    for path, rank in module_tier.items():
        by_tier[rank].append(path)
    for modules in by_tier:
        modules.sort(key=_long_first)
    live, e2e, core = by_tier
    alternated = [m for pair in itertools.zip_longest(live, e2e) for m in pair if m is not None]
    position = {path: i for i, path in enumerate([*alternated, *core])}
    for item in items:
        if tiers[item.nodeid] != "core":
            item.add_marker(tiers[item.nodeid])
    items.sort(key=lambda item: position[item.path])


@pytest.fixture(scope="session")
def freqtrade_installed() -> None:
    """Skip without FreqTrade. A test that runs FreqTrade requests it, which puts it in e2e."""
    pytest.importorskip("freqtrade")


@pytest.fixture(scope="session")
def itbref_dir() -> Path:
    """Folder holding the ITB parity fixture datasets (one subfolder per dataset)."""
    return ITBREF_DIR


@pytest.fixture(scope="session")
def candles_dir() -> Path:
    """Folder holding the embedded Bitfinex candles in FreqTrade's feather layout."""
    return CANDLES_DIR


def compare_with_itb(
    dataset: Path, candidate: Path, only: str, profile: str = "corrected"
) -> subprocess.CompletedProcess[str]:
    """Run the fixtures' own comparison script on a candidate folder.

    :param dataset: the fixture dataset folder (reference outputs).
    :param candidate: folder with ``features/labels/signals.parquet`` and/or ``simulate.json``.
    :param only: comma-separated parts to compare (``features,labels,signals,simulate``).
    :param profile: ``corrected`` (ITB's documented defects may differ) or ``faithful``.
    """
    return subprocess.run(
        [
            sys.executable,
            str(ITBREF_DIR / "compare_itbref.py"),
            str(dataset),
            str(candidate),
            "--profile",
            profile,
            "--only",
            only,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
