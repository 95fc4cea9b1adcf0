"""Moved to ``infolettre.state.runlock``; kept until callers are updated."""

from .state.runlock import (LOCK_FILE, Holder, RunLocked, current_holder,  # noqa: F401
                            holds_lock, lock_data_dir, lock_path)
