"""The shipped 5m and 1m configs load in FreqTrade with their fast, bounded training windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from itb_ext.algorithms import training_rows
from itb_ext.strategy.setup import ITBSetup

pytestmark = pytest.mark.usefixtures("freqtrade_installed")
USER_DATA = Path(__file__).resolve().parents[2] / "user_data"


@pytest.mark.parametrize(("timeframe", "fitted_rows"), [("5m", 4320), ("1m", 5040)])
def test_short_timeframe_configs_bound_the_rows_each_model_fits(
    timeframe: str, fitted_rows: int
) -> None:
    from freqtrade.configuration import Configuration

    config = Configuration.from_files([str(USER_DATA / f"config.{timeframe}.json")])
    assert config["timeframe"] == timeframe
    assert config["freqai"]["feature_parameters"]["include_timeframes"] == [timeframe]
    setup = ITBSetup.from_freqtrade_config(config)
    assert [a.algo for a in setup.algorithms] == ["svc_fast", "lc", "gb"]
    minutes = int(timeframe[:-1])
    window = config["freqai"]["train_period_days"] * 1440 // minutes
    for algorithm in setup.algorithms:
        assert len(training_rows(window, algorithm.params)) == fitted_rows, algorithm.name
    assert setup.raw.compute.n_jobs == 2
    # labels look ahead no further than FreqAI is told
    assert setup.label_horizon() == config["freqai"]["feature_parameters"]["label_period_candles"]
