"""FreqTrade strategy running intelligent-trading-bot's signal pipeline through FreqAI."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from freqtrade.exceptions import OperationalException
from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter, IStrategy

from itb_ext.errors import ITBError
from itb_ext.freqai_setup import COMBINE_MODES, ITBSetup, SignalOverrides

logger = logging.getLogger(__name__)


class ITBStrategy(IStrategy):
    """ITB's pipeline: features -> per-label classifiers -> trade_score -> threshold levels.

    Everything comes from the ``itb`` section of the config (ITB's own ``feature_sets``,
    ``label_sets``, ``algorithms`` and ``signal_sets``). The FreqAI model ``ITBClassifier``
    returns one probability column per (label, algorithm); ``signal_sets`` combines them into
    ``trade_score``. A long position is entered while ``trade_score >= buy_threshold`` and left
    when ``trade_score <= sell_threshold``; shorts mirror this in futures mode.

    The thresholds, the smoothing window and the combine mode are hyperoptable; they act on the
    stored model predictions, so hyperopt never retrains.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    process_only_new_candles = True
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = True
    # ITB leaves positions on the opposite signal only; ROI and stoploss are a safety net.
    minimal_roi = {"0": 10.0}
    stoploss = -0.20
    startup_candle_count = 672

    buy_threshold = DecimalParameter(0.0, 0.3, default=0.08, decimals=3, space="buy")
    smoothing_window = IntParameter(1, 12, default=1, space="buy")
    combine_mode = CategoricalParameter(list(COMBINE_MODES), default="difference", space="buy")
    sell_threshold = DecimalParameter(-0.3, 0.0, default=-0.08, decimals=3, space="sell")

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        try:
            self.itb = ITBSetup.from_freqtrade_config(config)
        except ITBError as exc:
            raise OperationalException(str(exc)) from None
        self.startup_candle_count = self.itb.startup_candles()
        self.can_short = config.get("trading_mode", "spot") == "futures"
        # The config's signal_sets give the defaults; a hyperopt result file still wins.
        defaults = self.itb.default_overrides()
        self.buy_params = {
            "buy_threshold": defaults.buy_threshold,
            "smoothing_window": defaults.smoothing_window,
            "combine_mode": defaults.combine_mode,
        }
        self.sell_params = {"sell_threshold": defaults.sell_threshold}

    @property
    def plot_config(self) -> dict[str, Any]:  # type: ignore[override]
        return self.itb.plot_config()

    # --- FreqAI hooks ----------------------------------------------------------------------------

    def feature_engineering_expand_all(
        self, dataframe: pd.DataFrame, period: int, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        return dataframe

    def feature_engineering_expand_basic(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        if not self.itb.freqai_expansion:
            return dataframe
        return pd.concat([dataframe, self.itb.feature_frame(dataframe)], axis=1)

    def feature_engineering_standard(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        if self.itb.freqai_expansion:
            return dataframe
        return pd.concat([dataframe, self.itb.feature_frame(dataframe)], axis=1)

    def set_freqai_targets(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        targets = self.itb.target_frame(dataframe)
        return pd.concat(
            [dataframe.drop(columns=targets.columns, errors="ignore"), targets], axis=1
        )

    # --- strategy --------------------------------------------------------------------------------

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return self.freqai.start(dataframe, metadata, self)

    def _signals(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        overrides = SignalOverrides(
            buy_threshold=float(self.buy_threshold.value),
            sell_threshold=float(self.sell_threshold.value),
            smoothing_window=int(self.smoothing_window.value),
            combine_mode=self.combine_mode.value,
        )
        return self.itb.signal_frame(dataframe[self.itb.score_columns], overrides)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signals = self._signals(dataframe)
        trusted = dataframe["do_predict"] == 1
        dataframe["trade_score"] = signals["trade_score"]
        dataframe["buy_threshold"] = float(self.buy_threshold.value)
        dataframe["sell_threshold"] = float(self.sell_threshold.value)
        dataframe.loc[signals["buy"] & trusted, ["enter_long", "enter_tag"]] = (1, "itb_buy")
        if self.can_short:
            dataframe.loc[signals["sell"] & trusted, ["enter_short", "enter_tag"]] = (1, "itb_sell")
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signals = self._signals(dataframe)
        dataframe.loc[signals["sell"], ["exit_long", "exit_tag"]] = (1, "itb_sell")
        if self.can_short:
            dataframe.loc[signals["buy"], ["exit_short", "exit_tag"]] = (1, "itb_buy")
        return dataframe
