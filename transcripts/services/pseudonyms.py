"""Every state change of a study's replacement list and of pseudonymised transcripts.

Atomic, keyword-only, audited in the same transaction. The audit trail is append-only and is
never purged, so no event here contains a real name: a rule is recorded by its replacement label
and a SHA-256 of its lower-cased name, a pseudonymisation by counts per label and the SHA-256
of the text before and after. The original text is not kept anywhere: that is the point.
"""

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from transcripts.models import ConsentUse, PseudonymRule, Transcript, Utterance
from transcripts.rewriting import pseudonymise, reanchor
from transcripts.selectors.consent import allows
from transcripts.selectors.transcripts import listed_names_in, study_rules_in_order
from transcripts.services.corrections import lock_for_rewrite, reanchor_transcript
from transcripts.services.transcripts import text_sha256
from workbench import audit
from workbench.locking import lock_row
from workbench.models import Study


def study_rules(study: Study) -> list[PseudonymRule]:
    """The study's rules in the one order preview and apply share (ties go to the oldest)."""
    return study_rules_in_order(study)


def _recount_listed_names(study: Study) -> None:
    """After the list changed: how many listed names each of the study's transcripts still
    contains, so ready transcripts that hold a newly listed name are flagged."""
    rules = study_rules(study)
    changed = []
    for transcript in Transcript.objects.filter(study=study).only("pk", "text", "listed_names"):
        found = listed_names_in(transcript.text, rules)
        if found != transcript.listed_names:
            transcript.listed_names = found
            changed.append(transcript)
    Transcript.objects.bulk_update(changed, ["listed_names"], batch_size=200)


def _rule_snapshot(rule: PseudonymRule) -> dict:
    return {
        "replace_with": rule.replace_with,
        "hmac of lower-cased name": pseudonymise.find_digest(
            rule.find, settings.SECRET_KEY.encode()
        ),
        "whole_word": rule.whole_word,
        "case_sensitive": rule.case_sensitive,
    }


@transaction.atomic
def pseudonym_rule_create(
    *,
    actor,
    study: Study,
    find: str,
    replace_with: str,
    whole_word: bool = True,
    case_sensitive: bool = False,
) -> PseudonymRule:
    find = unicodedata.normalize("NFC", find.strip())
    replace_with = unicodedata.normalize("NFC", replace_with.strip())
    if not find:
        raise ValidationError({"find": "Give the name to replace."})
    if not replace_with:
        raise ValidationError({"replace_with": "Give what replaces it, e.g. [P3] or [ORG-A]."})
    # One list change at a time per study, so the checks below see every other rule.
    Study.objects.select_for_update().get(pk=study.pk)
    others = study_rules(study)
    if any(other.find.casefold() == find.casefold() for other in others):
        raise ValidationError({"find": "This name is already on the list."})
    rule = PseudonymRule(
        study=study,
        find=find,
        replace_with=replace_with,
        whole_word=whole_word,
        case_sensitive=case_sensitive,
    )
    reasons = pseudonymise.conflicts(rule, others)
    if reasons:
        raise ValidationError(reasons)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as exc:
        raise ValidationError({"find": "This name is already on the list."}) from exc
    audit.record(
        actor=actor,
        study=study,
        verb="pseudonym_rule.create",
        obj=rule,
        after=_rule_snapshot(rule),
    )
    _recount_listed_names(study)
    return rule


@transaction.atomic
def pseudonym_rule_delete(*, actor, rule: PseudonymRule) -> None:
    """Take a name off the list; transcripts already pseudonymised stay as they are."""
    rule = lock_row(PseudonymRule, rule.pk, version=None)
    audit.record(
        actor=actor,
        study=rule.study,
        verb="pseudonym_rule.delete",
        obj=rule,
        before=_rule_snapshot(rule),
    )
    rule.delete()
    _recount_listed_names(rule.study)


@transaction.atomic
def transcript_pseudonymise(
    *,
    actor,
    transcript: Transcript,
    version: int,
    expected_sha256: str,
    rules_fingerprint: str | None = None,
) -> Transcript:
    """Apply every rule of the study to the transcript, as previewed; returns it updated.

    ``expected_sha256`` (and, when given, ``rules_fingerprint``) come from the preview: if the
    text or the list changed since, the user has not seen what would be replaced, so nothing is.
    A transcript already coded can be pseudonymised too: its codings move with their words, and
    those covering a replaced name are flagged to re-check (``transcripts.services.corrections``).
    """
    transcript = lock_for_rewrite(transcript, version)
    if transcript.text_sha256 != expected_sha256:
        raise ValidationError(
            "The transcript's text changed since the preview. Nothing was replaced; "
            "review the new preview and confirm again.",
            code="stale",
        )
    if not allows(transcript, ConsentUse.ANALYSE):
        raise ValidationError(
            "This transcript is locked: its participant's consent does not cover analysis.",
            code="locked",
        )
    rules = study_rules(transcript.study)
    if rules_fingerprint is not None and rules_fingerprint != pseudonymise.rules_fingerprint(rules):
        raise ValidationError(
            "The replacement list changed since the preview. Nothing was replaced; "
            "review the new preview and confirm again.",
            code="stale",
        )
    replacements = pseudonymise.find_replacements(transcript.text, rules)
    if not replacements:
        raise ValidationError(
            "Nothing to replace: no name on the study's list occurs in this transcript.",
            code="nothing",
        )
    old_sha256, old_length = transcript.text_sha256, len(transcript.text)
    # Each name is replaced as a whole (atomic): a coding touching any part of it covers the
    # whole label afterwards and is flagged to re-check, even if the label shares letters with
    # the name. Turns and the codings of every layer move with their words, as in a correction.
    new_text, changes = reanchor.apply_edits(
        transcript.text, [(r.start, r.end, r.replacement) for r in replacements], atomic=True
    )
    reanchored = reanchor_transcript(transcript, new_text, changes, actor=actor)

    utterances = list(Utterance.objects.filter(transcript=transcript).order_by("index"))
    speakers_changed = []
    for utterance in utterances:
        speaker = _pseudonymised(utterance.speaker, rules)
        if speaker != utterance.speaker:
            utterance.speaker = speaker[:200]
            speakers_changed.append(utterance)
    Utterance.objects.bulk_update(speakers_changed, ["speaker"])

    # Names hide in the title and the file name as often as in the text.
    title = _pseudonymised(transcript.title, rules)[:200]
    filename = _pseudonymised(transcript.original_filename, rules)[:255]
    other_fields = [
        name
        for name, changed in (
            ("title", title != transcript.title),
            ("file name", filename != transcript.original_filename),
            ("speaker labels", bool(speakers_changed)),
        )
        if changed
    ]
    transcript.title, transcript.original_filename = title, filename
    transcript.text = new_text
    transcript.text_sha256 = text_sha256(new_text)
    transcript.pseudonymised_at = timezone.now()
    transcript.replacements_made += len(replacements)
    transcript.listed_names = listed_names_in(new_text, rules)
    transcript.version += 1
    transcript.save(
        update_fields=[
            "listed_names",
            "title",
            "original_filename",
            "text",
            "text_sha256",
            "pseudonymised_at",
            "replacements_made",
            "version",
        ]
    )
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="transcript.pseudonymise",
        obj=transcript,
        object_repr=f"{transcript.participant.code}: {transcript.title}",
        before={"sha256 of text": old_sha256, "characters": old_length},
        after={
            "sha256 of text": transcript.text_sha256,
            "characters": len(new_text),
            "replacements": pseudonymise.counts_by_label(replacements),
            "total": len(replacements),
            "replacements so far": transcript.replacements_made,
            "also pseudonymised": other_fields,
            "codings moved": reanchored.codings_moved,
            "codings flagged": reanchored.codings_flagged,
        },
    )
    return transcript


def _pseudonymised(value: str, rules) -> str:
    if not value:
        return value
    return pseudonymise.apply(value, pseudonymise.find_replacements(value, rules))[0]
