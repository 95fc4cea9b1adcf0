"""Review: what the pivot decides before anything goes out.

``signoff`` records the approval of an issue as it is (a fingerprint of what readers will
see) and refuses a send when the issue changed since; ``attention`` names the territories and
organizations silent this month (the review app's home page).
"""
