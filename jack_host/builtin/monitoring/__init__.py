"""Monitoring: the gauges behind ``/metrics``, the twelve thresholds and ``jack alerts export-rules``."""
