"""Search across a study's transcripts: substrings in any script (Thai, Chinese), in context,
withdrawn participants absent, "code this hit" only where the searcher has an open layer, and
query counts that do not grow. Runs on SQLite and, with DATABASE_URL, on PostgreSQL (where the
trigram index serves it)."""

import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from coding.models import CodingMode
from coding.services import assignments as assignment_services
from tests.factories import ready_transcript
from transcripts.services import consent as consent_services

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "{code}: Compute, first. ทีมของเราเล็กมาก และไม่มีเงิน. 我们的数据共享平台很重要。\n\n"
    "Interviewer: And the team?\n\n"
    "{code}: Small but stubborn. Everyone helped with COMPUTE and data.\n"
)


def search(client, study, q, **params):
    return client.get(reverse("search", args=[study.slug]), {"q": q, **params})


def hits(response) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", response.content.decode())


@pytest.fixture
def transcripts(study, lead):
    return [ready_transcript(study, lead, TEXT.format(code=c), code=c) for c in ("I1", "I2")]


def test_thai_and_chinese_substrings_are_found(client_for, lead, study, transcripts):
    client = client_for(lead)
    # Inside a run of Thai text (no spaces between words) and inside a Chinese phrase.
    assert hits(search(client, study, "เล็ก")) == ["เล็ก", "เล็ก"]
    page = search(client, study, "数据共享")
    assert hits(page) == ["数据共享", "数据共享"]
    assert "我们的" in page.content.decode() and "平台很重要" in page.content.decode()


def test_case_is_ignored_and_context_stays_in_the_turn(client_for, lead, study, transcripts):
    response = search(client_for(lead), study, "compute")
    assert hits(response) == ["Compute", "COMPUTE"] * 2
    page = response.content.decode()
    assert "2 transcripts contain" in page
    assert "Everyone helped with " in page and "And the team?" not in page


def test_withdrawn_participants_are_not_searched(client_for, lead, admin_user, study, transcripts):
    consent_services.consent_withdraw(
        actor=admin_user,
        participant=transcripts[0].participant,
        effective_on=timezone.localdate(),
        reason="asked",
    )
    page = search(client_for(lead), study, "stubborn").content.decode()
    assert "1 transcript contains" in page and "I2 ·" in page and "I1 ·" not in page


def test_code_this_hit_only_in_an_open_layer_of_ones_own(
    client_for, lead, coder, coder2, study, transcripts
):
    first = transcripts[0]
    assignment_services.assignment_set(
        actor=lead, transcript=first, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    start = first.text.index("stubborn")
    link = f"?select={start}-{start + len('stubborn')}#t3"
    page = search(client_for(coder), study, "stubborn").content.decode()
    assert page.count("Code this hit") == 1 and link in page
    assignment_services.layer_submit(actor=coder, layer=first.layers.get(coder=coder))
    assert "Code this hit" not in search(client_for(coder), study, "stubborn").content.decode()
    assert "Code this hit" not in search(client_for(lead), study, "stubborn").content.decode()


def test_an_empty_query_searches_nothing(client_for, lead, study, transcripts):
    page = search(client_for(lead), study, "   ").content.decode()
    assert "Type a word or phrase" in page and "<mark>" not in page


@pytest.mark.parametrize("size", [2, 6])
def test_queries_do_not_grow(client_for, lead, study, size, django_assert_num_queries):
    for n in range(size):
        ready_transcript(study, lead, TEXT.format(code=f"P{n}"), code=f"P{n}")
    client = client_for(lead)
    search(client, study, "x")
    with django_assert_num_queries(9):  # session, access, count, page, its texts and turns
        response = search(client, study, "数据")
    assert len(hits(response)) == size


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_postgresql_has_the_trigram_index(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'transcript_text_upper_trgm'"
        )
        (definition,) = cursor.fetchone()
    assert "gin_trgm_ops" in definition and "upper(text)" in definition.lower()


FORMS = (
    "Interviewer: How did you start?\n\n"
    "{code}: I started contributing to the tokenizer; my first contribution was small.\n"
)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="word forms are PostgreSQL's")
def test_other_forms_of_the_words_are_found_and_shown_on_postgresql(client_for, lead, study):
    few = ready_transcript(study, lead, FORMS.format(code="I7"), code="I7")
    many = ready_transcript(
        study, lead, FORMS.format(code="I8") + "\nI8: We contribute, you contribute.\n", code="I8"
    )
    client = client_for(lead)
    assert hits(search(client, study, "contribute")) == ["contribute", "contribute"]
    response = search(client, study, "contribute", forms="1")
    page = response.content.decode()
    assert "or other forms of its words" in page
    # Best match first; every form PostgreSQL matched is marked in its context.
    assert page.index(f"{many.participant.code} ·") < page.index(f"{few.participant.code} ·")
    assert sorted(set(hits(response))) == ["contribute", "contributing", "contribution"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite has no word-form search")
def test_word_forms_are_not_offered_on_sqlite(client_for, lead, study):
    ready_transcript(study, lead, FORMS.format(code="I7"), code="I7")
    client = client_for(lead)
    page = search(client, study, "contribute").content.decode()
    assert 'name="forms"' not in page
    assert hits(search(client, study, "contribute", forms="1")) == []  # substring only


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the full-text index is PostgreSQL's")
def test_postgresql_has_the_full_text_index(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'transcript_text_english_fts'"
        )
        (definition,) = cursor.fetchone()
    assert "to_tsvector('english'::regconfig, text)" in definition
