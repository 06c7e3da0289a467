"""FreqTrade strategy running intelligent-trading-bot's signal pipeline through FreqAI."""

from __future__ import annotations

import atexit
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.persistence import Order, Trade
from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter, IStrategy

from itb_ext.errors import ITBError
from itb_ext.risk.kill_switch import (
    Halt,
    counting_from,
    equity_figures,
    halt,
    halt_file,
    halt_reason,
    start_up,
)
from itb_ext.risk.limits import utc_day_start
from itb_ext.risk.model_health import PAUSE_COLUMN
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.rules import EntryContext
from itb_ext.risk.twap import next_child_stake, twap_schedule
from itb_ext.signals.levels import BUY_LEVEL, SELL_LEVEL, signals_at_levels
from itb_ext.strategy.charts import plot_config
from itb_ext.strategy.hyperopt_binding import (
    bind_if_written_since,
    config_fingerprint,
    decide_at_start,
    describe_parameters,
)
from itb_ext.strategy.model_health import candle_health
from itb_ext.strategy.notifications import next_notification
from itb_ext.strategy.setup import COMBINE_MODES, ITBSetup, SignalOverrides
from itb_ext.strategy.topology import producer_scores, producer_state, topology_of

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
        self._start_with_bound_parameters(config)
        # Per pair: last score band notified, whether predictions were trusted, last failure told.
        self._score_bands: dict[str, int] = {}
        self._trusted: dict[str, bool] = {}
        self._failures_told: dict[str, str] = {}
        # Kill switch (dry-run/live), sliced entries planned per pair, model health told per pair.
        self._halt: Halt | None = None
        self._twap_planned: dict[str, float] = {}
        self._health_paused: dict[str, bool] = {}
        self.position_adjustment_enable = self.itb.raw.risk.twap.enabled
        if self.position_adjustment_enable:
            self.max_entry_position_adjustment = self.itb.raw.risk.twap.children - 1
        if self.topology.is_consumer:
            # Scores arrive from the producer a moment after each candle: analyse every loop.
            self.process_only_new_candles = False
            self._producer_live: dict[str, bool] = {}
        self._init_risk()

    def _start_with_bound_parameters(self, config: dict[str, Any]) -> None:
        """Use the hyperopt result beside this file only if this config produced it; say which
        parameter values are in force and where they come from."""
        params_file = (
            Path(self.__file__).with_suffix(".json") if getattr(self, "__file__", "") else None
        )
        fingerprint = config_fingerprint(config)
        hyperopt_run = config.get("runmode") == RunMode.HYPEROPT
        cfg = self.itb.raw.thresholds
        walk_forward = (
            f"walk-forward: quantiles {cfg.buy_quantile}/{cfg.sell_quantile} of each training "
            "window's trade_score"
            if cfg.mode == "walk_forward"
            else None
        )
        try:
            decision = decide_at_start(
                {**self.buy_params, **self.sell_params},
                self._ft_params_from_file,
                params_file,
                fingerprint,
                self.itb.raw.accept_hyperopt_from_other_config,
                hyperopt_run,
                walk_forward,
            )
        except ITBError as exc:
            raise OperationalException(str(exc)) from None
        for warning in decision.warnings:
            logger.warning(warning)
        if not decision.use_file:
            self._ft_params_from_file = {}
        if hyperopt_run and params_file is not None and not config.get("disableparamexport"):
            # FreqTrade writes the result as the run ends: bind it to this config then.
            atexit.register(bind_if_written_since, params_file, fingerprint, time.time())
        logger.info(describe_parameters(decision.values, decision.sources))

    @property
    def plot_config(self) -> dict[str, Any]:  # type: ignore[override]
        return plot_config(self.itb)

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
        return self._add_risk_indicators(self.add_model_health(dataframe))

    def _with_producer_scores(self, dataframe: pd.DataFrame, pair: str) -> pd.DataFrame:
        producer, _ = self.dp.get_producer_df(pair, producer_name=self.topology.producer)
        scores = producer_scores(dataframe, producer, self.itb.score_columns)
        if self._is_trading():
            self._tell_producer_state(dataframe, producer, pair)
        return pd.concat([dataframe.drop(columns=scores.columns, errors="ignore"), scores], axis=1)

    def _overrides(self) -> SignalOverrides:
        if self.itb.raw.thresholds.mode == "walk_forward":
            # the walk-forward levels were set on the config's own signal stage
            return self.itb.default_overrides()
        return SignalOverrides(
            buy_threshold=float(self.buy_threshold.value),
            sell_threshold=float(self.sell_threshold.value),
            smoothing_window=int(self.smoothing_window.value),
            combine_mode=self.combine_mode.value,
        )

    def _signals(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        # Until a model is ready FreqAI returns no probability columns: no scores, no signals.
        scores = dataframe.reindex(columns=self.itb.score_columns)
        if self.itb.raw.thresholds.mode != "walk_forward":
            return self.itb.signal_frame(scores, self._overrides())
        # Each window's levels come with its predictions; score as the levels were set.
        score = self.itb.signal_frame(scores, self._overrides())["trade_score"]
        levels = dataframe.reindex(columns=[BUY_LEVEL, SELL_LEVEL])
        signals = signals_at_levels(score, levels[BUY_LEVEL], levels[SELL_LEVEL])
        return signals.assign(trade_score=score)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signals = self._signals(dataframe)
        trusted = dataframe.get("do_predict", pd.Series(0, index=dataframe.index)) == 1
        trusted &= dataframe.get(PAUSE_COLUMN, pd.Series(0, index=dataframe.index)) != 1
        dataframe["trade_score"] = signals["trade_score"]
        if self.itb.raw.thresholds.mode != "walk_forward":
            dataframe["buy_threshold"] = float(self.buy_threshold.value)
            dataframe["sell_threshold"] = float(self.sell_threshold.value)
        # The scores the rule combined (e.g. high_30, low_30), for the chart (plot_config).
        scores = dataframe.reindex(columns=self.itb.score_columns)
        for column, values in self.itb.combined_scores(scores, self._overrides()).items():
            dataframe[column] = values
        dataframe.loc[signals["buy"] & trusted, ["enter_long", "enter_tag"]] = (1, "itb_buy")
        if self.can_short:
            dataframe.loc[signals["sell"] & trusted, ["enter_short", "enter_tag"]] = (1, "itb_sell")
        if self._is_trading() and not self.topology.is_consumer:
            self._tell_model_state(dataframe, metadata["pair"])
            self._notify_score(dataframe, metadata["pair"])
            self._tell_model_health(dataframe, metadata["pair"])
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

    # --- model health -----------------------------------------------------------------------

    def add_model_health(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        """Rolling out-of-sample AUC, hit rate, drift and the pause column (``itb.risk``)."""
        cfg = self.itb.raw.risk.model_health
        if not cfg.enabled:
            return dataframe
        health = candle_health(self.itb, dataframe, cfg)
        return pd.concat([dataframe.drop(columns=health.columns, errors="ignore"), health], axis=1)

    def _tell_model_health(self, dataframe: pd.DataFrame, pair: str) -> None:
        """Say once when entries pause for poor live model quality, and when they resume."""
        if PAUSE_COLUMN not in dataframe:
            return
        last = dataframe.iloc[-1]
        paused = bool(last[PAUSE_COLUMN] == 1)
        if self._health_paused.get(pair, False) == paused:
            return
        self._health_paused[pair] = paused
        cfg = self.itb.raw.risk.model_health
        figures = f"AUC {last['health_auc']:.2f}, hit rate {last['health_hit_rate']:.2f}"
        if paused:
            text = (
                f"⚠️ ITB {pair}: live model quality below the floor for {cfg.period} candles "
                f"({figures}; floor AUC {cfg.min_auc:.2f}); entries paused."
            )
            logger.warning(text)
            self.dp.send_msg(text, always_send=True)
        else:
            text = (
                f"ITB {pair}: live model quality back above the floor ({figures}); entries resume."
            )
            logger.info(text)
            self.dp.send_msg(text, always_send=True)

    # --- kill switch (dry-run and live) ------------------------------------------------------

    def bot_start(self, **kwargs: Any) -> None:
        """Find a halt left by the kill switch before a restart: stay halted and say so."""
        self._halt_path = halt_file(self.config.get("db_url"), Path(self.config["user_data_dir"]))
        if self.config.get("runmode") not in (RunMode.DRY_RUN, RunMode.LIVE):
            return
        self._halt, cleared = start_up(self._halt_path, datetime.now(UTC))
        if self._halt is not None:
            self._announce_halt("kill switch still in force at start-up")
        elif cleared:
            text = "ITB kill switch cleared: entries allowed again; losses count from now on."
            logger.warning(text)
            self.dp.send_msg(text, always_send=True)

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Halt when the daily loss or the drawdown passes its hard limit (``itb.risk``)."""
        cfg = self.itb.raw.risk.kill_switch
        if self._halt is not None or not cfg.enabled or not self._is_trading():
            return
        equity = equity_figures(
            self.wallets.get_starting_balance() if self.wallets else 0.0,
            [
                (t.close_date_utc, t.close_profit_abs or 0.0)
                for t in Trade.get_trades_proxy(is_open=False)
            ],
            sum(self._open_profit(t) for t in Trade.get_trades_proxy(is_open=True)),
            current_time,
            since=counting_from(self._halt_path),
        )
        reason = halt_reason(equity, cfg)
        if reason is not None:
            self._halt = Halt(since=current_time.strftime("%Y-%m-%d %H:%M UTC"), reason=reason)
            halt(self._halt_path, self._halt)
            self._announce_halt("kill switch")

    def _open_profit(self, trade: Trade) -> float:
        """Unrealised profit of an open trade at the last analysed close (0 before a fill)."""
        if not trade.amount:
            return 0.0
        candles, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        if candles.empty:
            return 0.0
        return float(trade.calc_profit(float(candles["close"].iloc[-1])))

    def _announce_halt(self, what: str) -> None:
        assert self._halt is not None
        text = (
            f"🛑 ITB {what}: {self._halt.reason} (since {self._halt.since}). No new entries; "
            "every position is exited and open entry orders are cancelled. To resume, delete "
            f"{self._halt_path} and send /reload_config."
        )
        logger.error(text)
        self.dp.send_msg(text, always_send=True)

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
        return self._halt is None and self._risk_allows_entry(pair, current_time)

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        return "kill_switch" if self._halt is not None else None

    def check_entry_timeout(
        self, pair: str, trade: Trade, order: Order, current_time: datetime, **kwargs: Any
    ) -> bool:
        return self._halt is not None

    # --- sliced entries (TWAP) ----------------------------------------------------------------

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
        return self._first_slice(
            pair, self._risk_stake(pair, current_rate, proposed_stake, min_stake, max_stake, side)
        )

    def _first_slice(self, pair: str, stake: float) -> float:
        """The first child order of ``stake``; the plan waits for the trade to exist."""
        schedule = twap_schedule(stake, self.itb.raw.risk.twap)
        self._twap_planned[pair] = stake
        return schedule[0].stake

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> float | None:
        """The next child order of a sliced entry when its candle has come."""
        if self._halt is not None or trade.has_open_orders:
            return None
        total = trade.get_custom_data("twap_stake")
        if total is None:
            total = self._twap_planned.pop(trade.pair, None)
            if total is None:
                return None
            trade.set_custom_data("twap_stake", total)
        candle = pd.Timedelta(minutes=timeframe_to_minutes(self.timeframe))
        elapsed = int((current_time - trade.open_date_utc) // candle)
        stake = next_child_stake(
            twap_schedule(float(total), self.itb.raw.risk.twap),
            trade.nr_of_successful_entries,
            elapsed,
        )
        return min(stake, max_stake) if stake is not None else None

    # --- risk (itb.risk; the rules live in itb_ext.risk) -----------------------------------------

    def _init_risk(self) -> None:
        self.risk = RiskPolicy(self.itb.raw.risk)
        cfg = self.risk.cfg
        self.startup_candle_count = max(self.startup_candle_count, self.risk.lookback())
        self.use_custom_stoploss = cfg.enabled and cfg.stop is not None
        if self.use_custom_stoploss and cfg.stop is not None:
            # The static stop is the widest the ATR stop may be; it also guards a missing ATR.
            self.stoploss = -cfg.stop.max_distance
        self._entry_refusals_told: dict[str, datetime] = {}

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

    def _risk_stake(
        self,
        pair: str,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        side: str,
    ) -> float:
        """The whole position's stake from ``itb.risk`` sizing (FreqTrade's without it)."""
        if not self.risk.cfg.enabled:
            return proposed_stake
        row = self._last_candle(pair)
        score = float(row.get("trade_score", float("nan")))
        buy, sell = float(self.buy_threshold.value), float(self.sell_threshold.value)
        if self.itb.raw.thresholds.mode == "walk_forward":
            # the levels in force on the candle, set by the window's training rows
            buy = float(row.get(BUY_LEVEL, float("nan")))
            sell = float(row.get(SELL_LEVEL, float("nan")))
        excess = sell - score if side == "short" else score - buy
        closed = sorted(
            Trade.get_trades_proxy(is_open=False),
            key=lambda t: t.close_date_utc or datetime.min.replace(tzinfo=UTC),
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
        # Called for every open trade on every candle: read only the stop's columns, and find
        # the entry's signal candle (the last one before the open) by binary search.
        columns = [c for c in self.risk.stop_columns if c in frame.columns]
        signal = int(frame["date"].searchsorted(pd.Timestamp(trade.open_date_utc))) - 1

        def candle(position: int) -> dict[str, Any]:
            return {c: frame[c].iat[position] for c in columns}

        return self.risk.stoploss(
            row=candle(-1),
            current_rate=current_rate,
            open_rate=trade.open_rate,
            entry_row=candle(signal) if signal >= 0 else None,
            is_short=trade.is_short,
        )

    def _risk_allows_entry(self, pair: str, current_time: datetime) -> bool:
        """Run the entry rules of ``itb.risk`` (the daily loss limit, ...); say why once a day."""
        if not self.risk.cfg.enabled:
            return True
        day = utc_day_start(current_time)
        # FreqTrade filters close_date > argument; a trade closed at midnight belongs to the day.
        closed = Trade.get_trades_proxy(is_open=False, close_date=day - timedelta(seconds=1))
        today = [t for t in closed if t.close_date_utc is not None and t.close_date_utc >= day]
        reason = self.risk.entry_refusal(
            EntryContext(
                time=current_time,
                equity=self.wallets.get_total_stake_amount() if self.wallets else 0.0,
                profits_today=tuple(float(t.close_profit_abs or 0.0) for t in today),
                candle=self._last_candle(pair),
            )
        )
        if reason is None:
            return True
        if self._entry_refusals_told.get(reason) != day:
            self._entry_refusals_told[reason] = day
            message = f"ITB: {reason}."
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
