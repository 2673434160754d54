"""The thresholds as a Prometheus rules file (``jack alerts export-rules``), for Prometheus and Alertmanager.

Each level is one alerting rule: the same expression, level, ``for`` and ``keep_firing_for``
(Prometheus 2.42 or later) as Jack's own evaluator uses, labelled ``severity`` and ``threshold``.
"""

from __future__ import annotations

from typing import Any

import yaml

from jack_host.builtin.monitoring.thresholds import SEVERITIES, Levels

GROUP_NAME = "jack-thresholds"


def duration(seconds: float) -> str:
    """A Prometheus duration: ``120s``, ``1m`` style units are not needed; ``500ms`` below a second."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def rule_expr(lv: Levels, severity: str) -> str:
    t = lv.threshold
    return f"({t.expr}) {'>=' if t.op == '>=' else '>'} {number(lv.level(severity))}"


def rules_document(levels: list[Levels], interval_seconds: float) -> dict[str, Any]:
    rules = []
    for lv in levels:
        t = lv.threshold
        for severity in SEVERITIES:
            rule: dict[str, Any] = {
                "alert": t.alertname,
                "expr": rule_expr(lv, severity),
                "for": duration(lv.for_seconds),
            }
            if lv.keep_firing_seconds > 0:
                rule["keep_firing_for"] = duration(lv.keep_firing_seconds)
            rule["labels"] = {"severity": severity, "threshold": t.name, "alert_type": t.alert_type}
            rule["annotations"] = {
                "summary": f"{t.title} {'at or above' if t.op == '>=' else 'above'} the {severity} level of "
                           f"{number(lv.level(severity))} ({t.unit})",
                "description": f"{t.action}. Jack raises the same alert itself as threshold.{t.name}.",
            }
            rules.append(rule)
    return {"groups": [{"name": GROUP_NAME, "interval": duration(interval_seconds), "rules": rules}]}


def rules_yaml(levels: list[Levels], interval_seconds: float) -> str:
    header = ("# Jack The Butler's alerting thresholds, written by `jack alerts export-rules`.\n"
              "# Load it with rule_files: in prometheus.yml; it needs Prometheus 2.42 or later (keep_firing_for).\n")
    return header + yaml.safe_dump(rules_document(levels, interval_seconds), sort_keys=False, width=200)
