"""Moved to ``infolettre.dates`` (a base module); kept until callers are updated."""

from ..dates import event_when, long_date, month_title, short_date, time_of_day

clock = time_of_day  # the former name of ``time_of_day``

__all__ = ["clock", "event_when", "long_date", "month_title", "short_date", "time_of_day"]
