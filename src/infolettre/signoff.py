"""Moved to ``infolettre.review.signoff``; kept until callers are updated."""

from .review.signoff import (  # noqa: F401
    Fingerprint,
    ItemPrint,
    MIGRATIONS,
    Reach,
    SHOWN_TITLES,
    Signoff,
    SignoffStore,
    VERSION,
    approve_issue,
    canonical,
    change_details,
    changed_message,
    fingerprint,
    image_digest,
    issue_fingerprint,
    item_record,
    require_signoff,
    resend_notice,
    serialize,
    settings_record,
)
