"""Review: what the pivot decides before anything goes out.

``signoff`` records the approval of an issue as it is (a fingerprint of what readers will
see) and refuses a send when the issue changed since. The pivot's web app comes here next.
"""
