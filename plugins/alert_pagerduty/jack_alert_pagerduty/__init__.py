"""On-call paging through PagerDuty Events v2 for Jack The Butler."""

__version__ = "0.1.0"
