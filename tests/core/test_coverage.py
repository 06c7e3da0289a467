"""Which candles a (FreqAI) backtest needs, and the one line saying what is missing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from itb_ext.data.coverage import CandleFile, Requirement, coverage_problem, train_candles

UTC = "UTC"
FOLDER = Path("data/bitfinex")


def candles(first: str | None, last: str | None) -> CandleFile:
    return CandleFile(
        pair="BTC/USD",
        timeframe="1h",
        path=FOLDER / "BTC_USD-1h.feather",
        first=pd.Timestamp(first, tz=UTC) if first else None,
        last=pd.Timestamp(last, tz=UTC) if last else None,
    )


def need(start: str | None, startup: int = 168, days: float = 10) -> Requirement:
    return Requirement(
        start=pd.Timestamp(start, tz=UTC) if start else None,
        startup_candles=startup,
        train_candles=train_candles(days, 60),
        timeframe_minutes=60,
        timerange="20240120-20240201",
    )


def test_first_needed_candle_is_before_the_training_window_and_its_startup() -> None:
    assert train_candles(10, 60) == 240 and train_candles(1, 240) == 6
    # 240 training + 168 startup candles of 1h = 17 days before the start
    assert need("2024-01-20").first_needed == pd.Timestamp("2024-01-03", tz=UTC)
    assert need(None).first_needed is None


def test_covered_data_has_no_problem() -> None:
    assert coverage_problem(candles("2024-01-03", "2024-03-01"), need("2024-01-20"), FOLDER) is None
    assert coverage_problem(candles("2024-01-03", "2024-03-01"), need(None), FOLDER) is None


def test_training_window_before_the_data_names_everything() -> None:
    problem = coverage_problem(
        candles("2024-01-05 00:00", "2024-03-01 23:00"), need("2024-01-20"), FOLDER
    )
    assert problem == (
        "offline mode: BTC/USD 1h in data/bitfinex has candles 2024-01-05 00:00 .. "
        "2024-03-01 23:00, but --timerange 20240120-20240201 needs candles from "
        "2024-01-03 00:00 (a training window of 240 candles + 168 startup candles before "
        "2024-01-20 00:00); start the timerange on or after 20240122 or add older candles to "
        "data/bitfinex/BTC_USD-1h.feather"
    )


def test_timerange_after_the_data_and_missing_file() -> None:
    late = coverage_problem(candles("2024-01-01", "2024-03-01"), need("2024-04-01"), FOLDER)
    assert late is not None and "starts after the last one" in late
    missing = coverage_problem(candles(None, None), need("2024-01-20"), FOLDER)
    assert missing is not None
    assert missing.startswith("offline mode: no candles for BTC/USD 1h in data/bitfinex")
    assert "BTC_USD-1h.feather" in missing
