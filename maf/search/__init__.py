"""Finding a case: search, case lists, and a practitioner's referrals."""

from maf.search import models as _indexes  # noqa: F401  (attaches the indexes to the tables)
