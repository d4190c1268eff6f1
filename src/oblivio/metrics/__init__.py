"""Metrics: one registered function per metric, with its direction per set role and needs.

Every module of this package is imported on first lookup of :data:`METRICS`
(oblivio.registry): the set-scope ones of :mod:`oblivio.metrics.qa`, the model-scope ones of
:mod:`oblivio.metrics.model_level`, the prefix-extraction ones (PS series, ES; ``expensive``)
of :mod:`oblivio.metrics.extraction`, and any new file. The formulas are in
:mod:`oblivio.metrics.functional`; the contract is in :mod:`oblivio.metrics.base`. scipy,
scikit-learn and rouge-score load only when a metric that needs them runs.
"""
from __future__ import annotations

from oblivio.metrics.base import METRICS, NEEDS, ItemStats, Metric, MetricResult, ModelStats, SetStats, register_metric

NOT_PLUGINS = ("base", "functional")

__all__ = ["METRICS", "NEEDS", "ItemStats", "Metric", "MetricResult", "ModelStats", "SetStats",
           "register_metric"]
