"""Who presents an agenda item, in one place for the agenda page, the builder and the Word
agenda, so that a member reads the same name wherever they look (issue 14).

A new case is presented by the person the coordinator named when adding it (by default the
practitioner who completed the CAF). A review or sign-off is presented by the case's lead
professional, unless the coordinator named someone else; with neither, the agenda says so
plainly instead of a role ("Lead professional") or a promise ("To be confirmed") that names
nobody.
"""

from maf.agendas.models import AgendaItem, ItemKind

NOT_ALLOCATED = "Not yet allocated"


def presenter(item: AgendaItem, lead) -> str:
    """The presenter of `item`, given `lead`, its case's current lead professional (or None)."""
    from maf.outcomes.services import describe_lead  # outcomes build on agendas

    if item.presenter_name:
        return item.presenter_name
    if item.kind == ItemKind.NEW_CASE:
        # Added before the referrer became the default presenter, or with the name cleared.
        return item.case.referrer_name or NOT_ALLOCATED
    return describe_lead(lead) if lead is not None else NOT_ALLOCATED


def presenters(items) -> dict[int, str]:
    """presenter() of each item, by item id, looking up all their lead professionals at once
    (two queries however long the agenda)."""
    from maf.outcomes.services import current_leads  # outcomes build on agendas

    items = list(items)
    reviewed = [item.case for item in items if not item.presenter_name]
    leads = current_leads(reviewed) if reviewed else {}
    return {item.id: presenter(item, leads.get(item.case_id)) for item in items}
