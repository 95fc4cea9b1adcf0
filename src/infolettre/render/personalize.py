"""Per-recipient values: the ``Placeholders`` type lives in ``models`` (render places the
tokens, deliver fills them); re-exported here for render's templates and older callers."""

from ..models import FIELDS, Placeholders

__all__ = ["FIELDS", "Placeholders"]
