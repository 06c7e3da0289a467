"""The FreqTrade-free half of ``ITBStrategy`` and ``ITBClassifier``, so the FreqTrade classes stay
thin shells: the ``itb`` setup (``setup``), the columns and candles of the callbacks
(``candles``), entries and exits (``signals``), start-up parameters and hyperopt results
(``parameters``, ``hyperopt_binding``), stakes, stops and halts (``positions``), the operator's
messages (``alerts``, ``notifications``), charts, topology, model health and the model's half
(``classifier``)."""
