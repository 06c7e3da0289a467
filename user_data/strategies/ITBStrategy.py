"""FreqTrade strategy running intelligent-trading-bot's signal pipeline through FreqAI."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.persistence import Trade
from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter, IStrategy

from itb_ext.errors import ITBError
from itb_ext.freqai_setup import COMBINE_MODES, ITBSetup, SignalOverrides
from itb_ext.notifications import next_notification
from itb_ext.risk.limits import utc_day_start
from itb_ext.risk.policy import RiskPolicy
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
        self._init_risk()

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
            dataframe = self._with_producer_scores(dataframe, metadata["pair"])
        else:
            dataframe = self.freqai.start(dataframe, metadata, self)
        return self._add_risk_indicators(dataframe)

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

    # --- risk (itb.risk; the rules live in itb_ext.risk) -----------------------------------------

    def _init_risk(self) -> None:
        self.risk = RiskPolicy(self.itb.raw.risk)
        cfg = self.risk.cfg
        self.use_custom_stoploss = cfg.enabled and cfg.stop is not None
        if self.use_custom_stoploss and cfg.stop is not None:
            # The static stop is the widest the ATR stop may be; it also guards a missing ATR.
            self.stoploss = -cfg.stop.max_distance
        self._daily_halt_told: datetime | None = None

    @property
    def protections(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return self.risk.protections()

    def _add_risk_indicators(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        risk = self.risk.indicators(dataframe)
        if not len(risk.columns):
            return dataframe
        return pd.concat([dataframe.drop(columns=risk.columns, errors="ignore"), risk], axis=1)

    def _last_candle(self, pair: str) -> dict[str, Any]:
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        return {} if frame is None or frame.empty else frame.iloc[-1].to_dict()

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        if not self.risk.cfg.enabled:
            return proposed_stake
        row = self._last_candle(pair)
        score = float(row.get("trade_score", float("nan")))
        if side == "short":
            excess = float(self.sell_threshold.value) - score
        else:
            excess = score - float(self.buy_threshold.value)
        closed = sorted(
            Trade.get_trades_proxy(is_open=False), key=lambda t: t.close_date_utc or current_time
        )
        return self.risk.stake(
            equity=self.wallets.get_total_stake_amount() if self.wallets else max_stake,
            price=current_rate,
            row=row,
            min_stake=min_stake,
            max_stake=max_stake,
            recent_profits=[float(t.close_profit or 0.0) for t in closed],
            score_excess=excess,
        )

    def custom_stoploss(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if frame is None or frame.empty:
            return None
        entry = frame.loc[frame["date"] < trade.open_date_utc]
        return self.risk.stoploss(
            row=frame.iloc[-1].to_dict(),
            current_rate=current_rate,
            open_rate=trade.open_rate,
            entry_row=entry.iloc[-1].to_dict() if not entry.empty else None,
            is_short=trade.is_short,
        )

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        if not self.risk.cfg.enabled:
            return True
        day = utc_day_start(current_time)
        # FreqTrade filters close_date > argument; a trade closed at midnight belongs to the day.
        closed = Trade.get_trades_proxy(is_open=False, close_date=day - timedelta(seconds=1))
        today = [t for t in closed if t.close_date_utc is not None and t.close_date_utc >= day]
        equity = self.wallets.get_total_stake_amount() if self.wallets else 0.0
        if self.risk.entry_allowed([float(t.close_profit_abs or 0.0) for t in today], equity):
            return True
        if self._daily_halt_told != day:
            self._daily_halt_told = day
            limit = self.risk.cfg.protections.daily_loss_limit
            message = (
                f"ITB: daily loss limit ({limit:.1%} of equity) reached; "
                f"no entries until {day.date()} ends (UTC)."
            )
            logger.warning(message)
            if self._is_trading():
                self.dp.send_msg(message, always_send=True)
        return False

    def _backtesting(self) -> bool:
        return self.dp is not None and self.dp.runmode in (RunMode.BACKTEST, RunMode.HYPEROPT)

    def custom_entry_price(
        self,
        pair: str,
        trade: Trade | None,
        current_time: datetime,
        proposed_rate: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        # Live fills carry their own slippage; FreqTrade keeps a backtested price in the candle.
        if not (self.risk.cfg.enabled and self._backtesting()):
            return proposed_rate
        return self.risk.fill_price(proposed_rate, "sell" if side == "short" else "buy")

    def custom_exit_price(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        proposed_rate: float,
        current_profit: float,
        exit_tag: str | None,
        **kwargs: Any,
    ) -> float:
        if not (self.risk.cfg.enabled and self._backtesting()):
            return proposed_rate
        return self.risk.fill_price(proposed_rate, "buy" if trade.is_short else "sell")
