"""The FreqTrade-free half of ``ITBStrategy`` and ``ITBClassifier``: the ``itb`` setup, hyperopt
binding, topology, alerts and charts. The FreqTrade classes are thin shells around it."""
