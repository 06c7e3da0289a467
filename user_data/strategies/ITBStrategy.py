"""FreqTrade strategy running intelligent-trading-bot's signal pipeline through FreqAI."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
from freqtrade.enums import OPTIMIZE_MODES, TRADE_MODES
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.persistence import Order, Trade
from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter, IStrategy

from itb_ext.adapters import bot_state, live_orders
from itb_ext.adapters import freqai_strategy as trades
from itb_ext.adapters.telegram_photo import DailyDiagrams
from itb_ext.errors import ITBError
from itb_ext.risk.policy import RiskPolicy
from itb_ext.signals.tuning import COMBINE_MODES, SignalOverrides
from itb_ext.strategy import candles, parameters, positions, signals, topology
from itb_ext.strategy.alerts import Alerts, Messages
from itb_ext.strategy.charts import plot_config
from itb_ext.strategy.setup import ITBSetup

logger = logging.getLogger(__name__)


class ITBStrategy(IStrategy):
    """ITB's pipeline from the ``itb`` section: features -> one classifier per (label, algorithm)
    (``ITBClassifier``) -> ``trade_score`` -> an optional regime gate and the threshold rule, long
    from ``buy_threshold``, out at ``sell_threshold``; hyperopt tunes it without retraining."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    process_only_new_candles = True
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
        try:  # first: FreqTrade's start reads the hyperopt result (load_params_from_file)
            self.itb = ITBSetup.from_freqtrade_config(config)
            self.topology = topology.topology_of(config)
            parameters.check_start_up(self.itb, config, self.stoploss)
        except ITBError as exc:
            raise OperationalException(str(exc)) from None
        super().__init__(config)
        self.risk = RiskPolicy(self.itb.raw.risk, config.get("timeframe", self.timeframe))
        self.alerts = Alerts(self.timeframe, timeframe_to_minutes(self.timeframe))
        self.buy_params, self.sell_params = parameters.hyperopt_defaults(self.itb)
        for name, value in parameters.strategy_attributes(self.itb, self.risk, config).items():
            setattr(self, name, value)
        self._state = bot_state.store_for(config)  # the trade database, dry-run and live
        self._kill_switch = positions.KillSwitch(self.itb.raw.risk.kill_switch)
        self._exchange_checks = live_orders.ExchangeChecks(self.itb.raw.risk.reconcile)
        self._diagrams = DailyDiagrams.for_bot(self.itb.raw.diagram, config)  # off by default

    def load_params_from_file(self) -> dict[str, Any]:
        """The hyperopt result beside this file if this config produced it; logs the values used."""
        try:
            found = super().load_params_from_file()
            return parameters.params_in_force(self.itb, self.config, found, self.__file__)
        except ITBError as exc:
            raise OperationalException(str(exc)) from None

    @property
    def plot_config(self) -> dict[str, Any]:
        return plot_config(self.itb)

    @property
    def protections(self) -> list[dict[str, Any]]:
        return self.risk.protections()

    # FreqAI hooks (feature_engineering_expand_all stays FreqTrade's: ITB expands nothing)
    def feature_engineering_expand_basic(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        return candles.with_features(self.itb, dataframe, expandable=True)

    def feature_engineering_standard(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        return candles.with_features(self.itb, dataframe, expandable=False)

    def set_freqai_targets(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        return candles.with_targets(self.itb, dataframe)

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        pair, name = metadata["pair"], self.topology.producer
        if self.topology.is_consumer:
            producer, _ = self.dp.get_producer_df(pair, producer_name=name)
            state = topology.producer_state_of(dataframe, producer, self.alerts.timeframe_minutes)
            refused = topology.refused_score(producer, self.itb.score_columns)
            told = self.alerts.producer(pair, name, state) + self.alerts.producer_scores(
                pair, name, refused
            )
            self._tell(told if self._is_trading() else ())
            dataframe = topology.with_producer_scores(dataframe, producer, self.itb.score_columns)
        else:
            dataframe = self.freqai.start(dataframe, metadata, self)
        return candles.analysed(self.itb, self.risk, dataframe)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        out = signals.entry_signals(self.itb, dataframe, self._parameters(), self.can_short)
        if self._is_trading() and not self.topology.is_consumer:
            failure = getattr(self.freqai, "training_failures", {}).get(metadata["pair"])
            self._tell(self.alerts.for_candle(self.itb, out, metadata["pair"], failure))
            self._diagrams.tick(metadata["pair"], out, pd.Timestamp.now(tz="UTC"))
        return out

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return signals.exit_signals(self.itb, dataframe, self._parameters(), self.can_short)

    def _parameters(self) -> SignalOverrides:
        values = (self.buy_threshold, self.sell_threshold, self.smoothing_window, self.combine_mode)
        return signals.signal_parameters(self.itb, *(p.value for p in values))

    def _tell(self, alerts: Messages) -> None:  # logged; sent (Telegram...) in dry-run and live
        for alert in alerts:
            logger.log(alert.level, alert.text)
            if self._is_trading():
                self.dp.send_msg(alert.text, always_send=alert.always_send)

    def _is_trading(self) -> bool:  # dry-run or live
        return self.dp is not None and self.dp.runmode in TRADE_MODES

    def _equity(self, without_wallets: float) -> float:
        return self.wallets.get_total_stake_amount() if self.wallets else without_wallets

    def _newest_candle(self, pair: str) -> candles.Candle:
        return candles.newest_candle(self.dp.get_analyzed_dataframe(pair, self.timeframe)[0])

    def bot_start(self, **kwargs: Any) -> None:
        """Find a halt left by the kill switch before a restart: stay halted and say so."""
        if self.config.get("runmode") in TRADE_MODES:
            kill_switch, state = self._kill_switch, self._state
            self._tell(bot_state.start_kill_switch(kill_switch, state, self.config, self.alerts))

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Check the exchange against the trades (``itb.risk.reconcile``); halt when the daily
        loss or the drawdown passes its hard limit (``itb.risk.kill_switch``)."""
        self._tell(self._exchange_checks.run(self, current_time))
        if self._is_trading():
            self._tell(self._kill_switch.check(self._account, current_time, self.alerts))

    def _account(self) -> positions.Account:
        return trades.account(self.wallets, lambda pair: self._newest_candle(pair).get("close"))

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
        """No entry while halted, nor one the entry rules of ``itb.risk`` refuse, nor one on a
        pair whose last entry order was lost (``itb.risk.reconcile``)."""
        if self._kill_switch.halted or not self.risk.cfg.enabled:
            return not self._kill_switch.halted and self._exchange_checks.entry_allowed(pair)
        context = trades.entry_context(current_time, self._equity(0), self._newest_candle(pair))
        reason = self.risk.entry_refusal(context)
        self._tell(self.alerts.entry_refused(reason, current_time))
        return reason is None and self._exchange_checks.entry_allowed(pair)

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        return "kill_switch" if self._kill_switch.halted else live_orders.exit_reason(trade)

    def confirm_trade_exit(self, pair: str, trade: Trade, *args: Any, **kwargs: Any) -> bool:
        """An exit signal waits for ``itb.risk.min_hold_candles`` (stops and forced exits do not);
        a forced exit in dry-run and live becomes an intent the loop places and retries."""
        reason, now = kwargs["exit_reason"], kwargs["current_time"]
        held = positions.candles_open(trade.open_date_utc, now, self.timeframe)
        if not self.risk.exit_allowed(held, reason, (signals.BUY_TAG, signals.SELL_TAG)):
            return False
        return live_orders.confirm_exit(trade, reason, self.dp.runmode)

    def check_entry_timeout(
        self, pair: str, trade: Trade, order: Order, current_time: datetime, **kwargs: Any
    ) -> bool:
        return self._kill_switch.halted

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
        """The first slice of the position's stake (``itb.risk`` sizing, else FreqTrade's)."""
        stake = proposed_stake
        if self.risk.cfg.enabled:
            candle, short = self._newest_candle(pair), side == "short"
            excess = signals.score_excess(self.itb, candle, self._parameters(), short=short)
            stake = self.risk.stake(
                equity=self._equity(max_stake),
                price=current_rate,
                row=candle,
                min_stake=min_stake,
                max_stake=max_stake,
                recent_profits=trades.closed_profit_ratios(),
                score_excess=excess,
            )
        if positions.is_sliced(stake, self.itb.raw.risk.twap):  # kept before the first order
            bot_state.plan_entry(self._state, pair, stake, current_time)
        return positions.first_slice(stake, self.itb.raw.risk.twap)

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
        """The next child order of a sliced entry when due (its plan survives a restart)."""
        minutes = self.alerts.timeframe_minutes
        plan = bot_state.trade_plan(trade, self._state, self.itb.raw.risk.twap, minutes)
        if self._kill_switch.halted or trade.has_open_orders:
            return None
        stake = bot_state.next_twap_child(trade, plan, current_time, minutes)
        return min(stake, max_stake) if stake is not None else None

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
        opened, rate, short = trade.open_date_utc, trade.open_rate, trade.is_short
        return positions.stoploss(self.risk, frame, opened, current_rate, rate, short)

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
        return self._fill(proposed_rate, buying=side != "short")

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
        return self._fill(proposed_rate, buying=trade.is_short)

    def _fill(self, price: float, buying: bool) -> float:
        backtesting = self.dp is not None and self.dp.runmode in OPTIMIZE_MODES
        return positions.fill_price(self.risk, price, buying=buying, backtesting=backtesting)
