"""Cases and the attributes a study defines for them."""

from django.db.models import Prefetch, QuerySet

from transcripts.models import (
    Attribute,
    Participant,
)
from transcripts.selectors.consent import not_withdrawn, with_consent
from workbench.models import Study


def attributes_for(study: Study, target: str) -> list[Attribute]:
    return list(study.attributes.filter(target=target))


def case_table_cases(study: Study) -> QuerySet:
    """Cases with their participants' codes; only the code is read, never contact details.

    A participant who withdrew leaves the table (and so its downloads) like every other output.
    """
    codes = not_withdrawn(
        with_consent(Participant.objects.only("id", "code", "case_id"))
    ).order_by()
    return study.cases.prefetch_related(Prefetch("participants", queryset=codes))
