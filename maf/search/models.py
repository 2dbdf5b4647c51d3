"""The indexes finding a case needs, on the tables of the areas that own them.

Declared here, beside the queries that need them (maf.search.services), rather than as
`index=True` in five areas' models; migration 1a6f0c2d9e31 creates them, and `alembic check`
(tests/migrations) keeps the two in agreement.
"""

from sqlalchemy import Index

from maf.cases.models import Case, Child
from maf.forums.models import Forum
from maf.outcomes.models import LeadProfessional

SEARCH_INDEXES = (
    # The search's exact criteria (NHS number and UPN are unique, so indexed already).
    Index("ix_child_date_of_birth", Child.date_of_birth),
    Index("ix_child_postcode", Child.postcode),
    # A district's case list, and visible_case_condition: the cases of the coordinator's and
    # the chair's districts not archived, found together (the planner chose the index on
    # archived_at alone and walked every case of a million); the lead professional by email.
    Index("ix_caf_case_district_id_archived_at", Case.district_id, Case.archived_at),
    Index("ix_forum_chair_id", Forum.chair_id),
    Index("ix_lead_professional_email", LeadProfessional.email),
)
