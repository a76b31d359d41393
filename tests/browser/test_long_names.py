"""Long names without spaces (a 200-character file name, a long code, participant, person or
study name) wrap: no main page gets wider than the window."""

import pytest
from django.contrib.auth import get_user_model

from coding.models import Code
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON
from transcripts.models import Participant, Transcript

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]

LONG = "Interview_recording_" + "with_the_data_working_group_lead_" * 6  # ~220, no space


@pytest.fixture
def long_names(demo):
    demo.name = ("Open_collaboration_on_open_LLMs_" * 6)[:190]
    demo.save()
    transcript = Transcript.objects.filter(study=demo).order_by("id").first()
    transcript.title, transcript.original_filename = LONG[:200], (LONG + ".docx")[:255]
    transcript.save()
    Participant.objects.filter(pk=transcript.participant_id).update(code="P" * 30)
    code = Code.objects.filter(study=demo).order_by("id").first()
    code.name = ("Personal_motivation_and_entry_path_" * 5)[:170]
    code.save()
    User = get_user_model()
    for username in ("coder1", "lead"):
        User.objects.filter(username=username).update(first_name="Anna-" * 25)
    return {"study": demo, "transcript": transcript}


def fits(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def test_main_pages_stay_within_the_window(page, login, long_names, artifacts_dir):
    slug, t = long_names["study"].slug, long_names["transcript"].pk
    pages = {
        "lead": [
            "",
            "transcripts/",
            f"transcripts/{t}/",
            "codebook/",
            f"transcripts/{t}/code/",
            "agreement/",
            "audit/",
        ],
        "admin": ["members/", "codebook/"],
    }
    too_wide = []
    for user, paths in pages.items():
        login(user)
        for path in paths:
            page.goto(f"/studies/{slug}/{path}")
            page.wait_for_load_state("load")
            width, window = fits(page)
            name = f"long-{user}-{path.strip('/').replace('/', '-') or 'dashboard'}.png"
            page.screenshot(path=str(artifacts_dir / name), full_page=True)
            if width > window:
                too_wide.append(f"{user} {path or 'dashboard'}: {width}px in a {window}px window")
        page.context.clear_cookies()
    assert not too_wide, "\n".join(too_wide)
