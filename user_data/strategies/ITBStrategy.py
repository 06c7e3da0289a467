"""FreqTrade strategy running intelligent-trading-bot's signal pipeline through FreqAI."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter, IStrategy

from itb_ext.errors import ITBError
from itb_ext.freqai_setup import COMBINE_MODES, ITBSetup, SignalOverrides
from itb_ext.notifications import next_notification
from itb_ext.topology import producer_scores, producer_state, topology_of

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
            self.topology = topology_of(config)
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
        # Per pair: last score band notified, whether predictions were trusted, last failure told.
        self._score_bands: dict[str, int] = {}
        self._trusted: dict[str, bool] = {}
        self._failures_told: dict[str, str] = {}
        if self.topology.is_consumer:
            # Scores arrive from the producer a moment after each candle: analyse every loop.
            self.process_only_new_candles = False
            self._producer_live: dict[str, bool] = {}

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
        if self.topology.is_consumer:
            return self._with_producer_scores(dataframe, metadata["pair"])
        return self.freqai.start(dataframe, metadata, self)

    def _with_producer_scores(self, dataframe: pd.DataFrame, pair: str) -> pd.DataFrame:
        producer, _ = self.dp.get_producer_df(pair, producer_name=self.topology.producer)
        scores = producer_scores(dataframe, producer, self.itb.score_columns)
        if self._is_trading():
            self._tell_producer_state(dataframe, producer, pair)
        return pd.concat([dataframe.drop(columns=scores.columns, errors="ignore"), scores], axis=1)

    def _signals(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        overrides = SignalOverrides(
            buy_threshold=float(self.buy_threshold.value),
            sell_threshold=float(self.sell_threshold.value),
            smoothing_window=int(self.smoothing_window.value),
            combine_mode=self.combine_mode.value,
        )
        # Until a model is ready FreqAI returns no probability columns: no scores, no signals.
        scores = dataframe.reindex(columns=self.itb.score_columns)
        return self.itb.signal_frame(scores, overrides)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signals = self._signals(dataframe)
        trusted = dataframe.get("do_predict", pd.Series(0, index=dataframe.index)) == 1
        dataframe["trade_score"] = signals["trade_score"]
        dataframe["buy_threshold"] = float(self.buy_threshold.value)
        dataframe["sell_threshold"] = float(self.sell_threshold.value)
        dataframe.loc[signals["buy"] & trusted, ["enter_long", "enter_tag"]] = (1, "itb_buy")
        if self.can_short:
            dataframe.loc[signals["sell"] & trusted, ["enter_short", "enter_tag"]] = (1, "itb_sell")
        if self._is_trading() and not self.topology.is_consumer:
            self._tell_model_state(dataframe, metadata["pair"])
            self._notify_score(dataframe, metadata["pair"])
        return dataframe

    # --- messages (dry-run and live only) ------------------------------------------------------

    def _is_trading(self) -> bool:
        return self.dp is not None and self.dp.runmode in (RunMode.DRY_RUN, RunMode.LIVE)

    def _tell_model_state(self, dataframe: pd.DataFrame, pair: str) -> None:
        """Warn once when entries stop for want of a trusted prediction, and when they resume."""
        failure = getattr(self.freqai, "training_failures", {}).get(pair)
        if failure and self._failures_told.get(pair) != failure:
            self._failures_told[pair] = failure
            logger.error(f"ITB {pair}: model training failed: {failure}")
            self.dp.send_msg(
                f"⚠️ ITB {pair}: model training failed ({failure}); "
                "entries use the last good model or stay paused.",
                always_send=True,
            )
        do_predict = dataframe.get("do_predict", pd.Series(0, index=dataframe.index))
        trusted = bool(do_predict.iloc[-1] == 1)
        if self._trusted.get(pair, True) != trusted:
            if trusted:
                logger.info(f"ITB {pair}: predictions trusted again, entries resume.")
                self.dp.send_msg(f"ITB {pair}: predictions trusted again, entries resume.")
            else:
                value = do_predict.iloc[-1]
                logger.warning(
                    f"ITB {pair}: no trusted prediction (do_predict={value}); entries paused."
                )
                self.dp.send_msg(
                    f"⚠️ ITB {pair}: no trusted prediction (do_predict={value}); entries paused.",
                    always_send=True,
                )
        self._trusted[pair] = trusted

    def _tell_producer_state(
        self, dataframe: pd.DataFrame, producer: pd.DataFrame, pair: str
    ) -> None:
        """Consumer: warn once when the producer stops publishing, and when it is back."""
        dates = producer["date"] if "date" in producer.columns else pd.Series([], dtype=object)
        state = producer_state(
            pd.Timestamp(dataframe["date"].iloc[-1]), dates, timeframe_to_minutes(self.timeframe)
        )
        name = self.topology.producer
        if self._producer_live.get(pair, True) == (not state.gone):
            return
        self._producer_live[pair] = not state.gone
        if state.gone:
            since = "nothing received yet" if state.newest is None else f"newest {state.newest}"
            text = f"⚠️ ITB {pair}: no scores from producer '{name}' ({since}); entries paused."
            logger.warning(text)
            self.dp.send_msg(text, always_send=True)
        else:
            text = f"ITB {pair}: scores from producer '{name}' again; entries resume."
            logger.info(text)
            self.dp.send_msg(text, always_send=True)

    def _notify_score(self, dataframe: pd.DataFrame, pair: str) -> None:
        """ITB's score notification for the newest candle (bands from the ``itb`` section)."""
        cfg = self.itb.raw.score_notification_model
        if cfg is None:
            return
        last = dataframe.iloc[-1]
        names = cfg.score_column_names
        secondary = float(last[names[1]]) if len(names) > 1 else None
        close_time = pd.Timestamp(last["date"]) + pd.Timedelta(
            minutes=timeframe_to_minutes(self.timeframe)
        )
        band, message = next_notification(
            self._score_bands.get(pair),
            pair=pair,
            price=float(last["close"]),
            score=float(last[names[0]]),
            secondary=secondary,
            close_minutes=int(close_time.timestamp() // 60),
            timeframe=self.timeframe,
            cfg=cfg,
        )
        if band is not None:
            self._score_bands[pair] = band
        if message is not None:
            self.dp.send_msg(message, always_send=True)

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signals = self._signals(dataframe)
        dataframe.loc[signals["sell"], ["exit_long", "exit_tag"]] = (1, "itb_sell")
        if self.can_short:
            dataframe.loc[signals["buy"], ["exit_short", "exit_tag"]] = (1, "itb_buy")
        return dataframe
