"""ITB's classifiers (``gb``, ``lc``, ``svc``, ``svc_linear``, ``nn``) and the per-label models.

* :mod:`~itb_ext.algorithms.registry`: ``algo`` name -> builder, default scaling, ``train`` keys;
* :mod:`~itb_ext.algorithms.builders`: the builders of ITB's algorithms;
* :mod:`~itb_ext.algorithms.training`: one model per (label, algorithm), as ITB trains them.

Importing this package installs the registry as the catalog that validates ``algorithms``
entries of a config.
"""

from itb_ext.algorithms.builders import GB_DEFAULTS, NN_TRAIN_KEYS, LightGBMBinary
from itb_ext.algorithms.registry import (
    ALGORITHMS,
    Algorithm,
    AlgorithmRegistry,
    Builder,
    check_train_arguments,
    register_algorithm,
)
from itb_ext.algorithms.training import (
    ScoreModel,
    ScoreModels,
    build_estimator,
    train_score_models,
    training_rows,
)

__all__ = [
    "ALGORITHMS",
    "GB_DEFAULTS",
    "NN_TRAIN_KEYS",
    "Algorithm",
    "AlgorithmRegistry",
    "Builder",
    "LightGBMBinary",
    "ScoreModel",
    "ScoreModels",
    "build_estimator",
    "check_train_arguments",
    "register_algorithm",
    "train_score_models",
    "training_rows",
]
