"""Which study section a page belongs to, for the study navigation."""

# URL-name prefixes → nav section; the first match wins.
SECTIONS = [
    ("study_dashboard", "overview"),
    ("study_edit", "overview"),
    ("design", "design"),
    ("dimension", "design"),
    ("participant", "participants"),
    ("consent", "participants"),
    ("coding", "transcripts"),
    ("code", "codebook"),
    ("assignment", "transcripts"),
    ("layer", "transcripts"),
    ("case", "cases"),
    ("attribute", "cases"),
    ("transcript", "transcripts"),
    ("stewardship", "transcripts"),
    ("pseudonym", "transcripts"),
    ("member", "members"),
    ("audit", "audit"),
    ("agreement", "agreement"),
    ("notes", "notes"),
]


def nav_section(request):
    match = getattr(request, "resolver_match", None)
    name = (match.url_name or "") if match else ""
    for prefix, section in SECTIONS:
        if name.startswith(prefix):
            return {"nav_section": section}
    return {"nav_section": ""}
