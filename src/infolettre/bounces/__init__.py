"""Reading the bounce mailbox: ``read_bounce(message) -> Reading`` (see model.py)."""

from .model import Failure, Kind, Nature, Reading
from .read import read_bounce

__all__ = ["Failure", "Kind", "Nature", "Reading", "read_bounce"]
