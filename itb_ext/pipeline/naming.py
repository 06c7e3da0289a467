"""Column names, built in one place: ITB's score names and FreqAI's feature/target prefixes."""

from __future__ import annotations

#: FreqAI trains on columns whose name contains ``%`` and predicts those containing ``&``.
FEATURE_PREFIX = "%-"
TARGET_PREFIX = "&-"
#: Class values of a FreqAI target; the label name keeps them unique across several targets.
POSITIVE_SUFFIX = ":yes"
NEGATIVE_SUFFIX = ":no"


def score_column(label: str, algorithm: str) -> str:
    """ITB's name of a probability column: ``<label>_<algorithm name>`` (``high_30_svc``)."""
    return f"{label}_{algorithm}"


def feature_column(name: str) -> str:
    """FreqAI training-feature column for an ITB feature (``close_SMA_3`` -> ``%-close_SMA_3``)."""
    return f"{FEATURE_PREFIX}{name}"


def target_column(label: str) -> str:
    """FreqAI target column for an ITB label (``high_30`` -> ``&-high_30``)."""
    return f"{TARGET_PREFIX}{label}"


def label_of_target(column: str) -> str:
    """Inverse of :func:`target_column`."""
    if not column.startswith(TARGET_PREFIX):
        raise ValueError(f"not a FreqAI target column: {column!r}")
    return column[len(TARGET_PREFIX) :]


def class_names(label: str) -> tuple[str, str]:
    """The (positive, negative) class values of a label's FreqAI target, unique per label."""
    return f"{label}{POSITIVE_SUFFIX}", f"{label}{NEGATIVE_SUFFIX}"


def health_column(figure: str, model: str) -> str:
    """A model-health figure of one model: ``health_<figure>_<model>`` (``health_auc_high_30_lc``).

    :param figure: ``auc``, ``hit``, ``drift`` or ``confidence``.
    :param model: the model's probability column.
    """
    return f"health_{figure}_{model}"


def risk_column(measure: str) -> str:
    """A candle measure of the risk layer: ``risk_<measure>`` (``risk_annualised_vol``).

    :param measure: what the column holds, in a few words joined by ``_``.
    """
    return f"risk_{measure}"


def base_rate_column(label: str) -> str:
    """A label's base rate in the training window of each prediction: ``base_rate_<label>``
    (returned with the predictions when scores are centred, as the walk-forward levels are)."""
    return f"base_rate_{label}"
