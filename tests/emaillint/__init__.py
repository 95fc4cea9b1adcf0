"""Email-client lint for the tests: what a rendered email uses (``usage``), judged against
caniemail.com's support data (``caniemail``). Test tooling, not part of the product."""
