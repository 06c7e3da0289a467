"""Test harness that runs ``freqtrade trade`` (dry-run and live) against fakes on 127.0.0.1.

Pieces (each module's docstring has the details):

* :mod:`tests.support.replay_exchange`: :class:`~tests.support.replay_exchange.SimClock`, a
  clock shared with the bot process that runs ``speed`` times faster than the wall clock, and
  :class:`~tests.support.replay_exchange.ReplayExchange`, a fake Binance spot REST API that
  replays real hourly candles (Bitfinex BTC/USD, ETH/USD served as BTC/USDT, ETH/USDT) on that
  clock, fills orders, keeps balances, injects faults and logs every request.
* :mod:`tests.support.fake_telegram`: :class:`~tests.support.fake_telegram.FakeTelegram`, a
  Telegram Bot API fake that records what the bot sends and feeds it user messages.
* :mod:`tests.support.bot`: :class:`~tests.support.bot.BotProcess` (config, child process,
  kill -9, restart, log, REST API, SQLite) and :func:`~tests.support.bot.replay_session`, which
  starts all of the above and yields them ready.

Quick start::

    with replay_session(tmp_path, datetime(2019, 5, 1, 15, tzinfo=UTC),
                        strategy="SmaCross", strategy_path=folder) as session:
        session.bot.wait_for(lambda: session.bot.trades(), 60, what="a trade")
        session.telegram.send_user_message("/status")

Nothing here is imported by the ``itb_ext`` package; the bot-side shim is written into a
temporary folder of each test and only ever loaded by the bot child process.
"""
