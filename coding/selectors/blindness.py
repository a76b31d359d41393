"""Blindness, enforced on the server: whose codings a person may see.

In independent mode neither coder sees the other's layer (not its codings, counts or anything
derived) until both layers are submitted. In review mode each side sees the other's layer once
that layer is submitted. Leads and reviewers who are not coding the transcript see every layer.

The rule is written once, as a query condition (``_visible``); ``visible_layers`` (one
transcript) and ``visible_layers_in_study`` (counts and lists across transcripts) both apply it.
Every coding page, fragment, count and download reads layers through one of them.
"""

from functools import cached_property

from django.contrib.auth import get_user_model
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from coding.models import AnalyticMemo, Code, CodingMode, DebriefNote, Layer, LayerStatus
from transcripts.selectors.transcripts import analysable_transcripts

OVERSEERS = {"manage_assignments", "review_codings"}
User = get_user_model()


def _visible(user, perms, layers: QuerySet[Layer]) -> Q:
    """The condition on ``layers`` (already narrowed to a transcript or a study) that keeps
    those ``user``, holding study ``perms``, may see."""
    own = layers.filter(coder=user)
    own_transcripts = own.values("transcript")
    submitted = LayerStatus.SUBMITTED
    visible = Q(coder=user)
    if OVERSEERS & set(perms):
        visible |= ~Q(transcript__in=own_transcripts)
    # Another coder's layer on a transcript I code: submitted, and in independent mode only
    # once my layer is submitted too.
    visible |= Q(transcript__in=own_transcripts, status=submitted) & (
        Q(transcript__assignment__mode=CodingMode.REVIEW)
        | Q(
            transcript__assignment__mode=CodingMode.INDEPENDENT,
            transcript__in=own.filter(status=submitted).values("transcript"),
        )
    )
    return visible


def visible_layers(user, perms, transcript) -> list[Layer]:
    """The layers of ``transcript`` that ``user`` (holding study ``perms``) may see, their own
    layer first."""
    layers = Layer.objects.filter(transcript=transcript)
    visible = list(layers.filter(_visible(user, perms, layers)).select_related("coder"))
    return sorted(visible, key=lambda layer: layer.coder_id != user.pk)


def visible_layers_in_study(user, perms, study) -> QuerySet[Layer]:
    """Every layer in ``study`` that ``user`` may see, in one query. Withdrawn transcripts are
    left out, as they are from every analysis."""
    layers = Layer.objects.filter(transcript__study=study)
    return Layer.objects.filter(transcript__in=analysable_transcripts(study)).filter(
        _visible(user, perms, layers)
    )


def countable_layers_in_study(user, perms, study) -> QuerySet[Layer]:
    """The layers whose codings the codebook's usage counts include for someone who manages the
    codebook (an admin deciding what to retire or merge), in one query; numbers only.

    Counted: every layer ``visible_layers_in_study`` shows them (their own, and whatever the
    rule lets them see), and, on transcripts where they hold no layer, every *submitted* layer.
    Not counted: any layer of a transcript they code that the rule hides (a count there would
    tell a blind coder how the other coder is coding), and unsubmitted layers of transcripts
    they do not code (work in progress that nobody outside the transcript's overseers reads;
    submitted work is what reconciliation and agreement use, so that is what a decision to
    retire or merge a code rests on). Withdrawn transcripts are left out, as everywhere.
    """
    layers = Layer.objects.filter(transcript__study=study)
    own_transcripts = layers.filter(coder=user).values("transcript")
    submitted_elsewhere = Q(status=LayerStatus.SUBMITTED) & ~Q(transcript__in=own_transcripts)
    return Layer.objects.filter(transcript__in=analysable_transcripts(study)).filter(
        _visible(user, perms, layers) | submitted_elsewhere
    )


def consensus_transcripts_in_study(user, perms, study) -> QuerySet:
    """The analysable transcripts whose consensus layer ``user`` may read, in one query.

    A consensus exists only once both layers were submitted and compared, so it tells nobody
    outside a transcript anything blind coding protects. It is withheld only from a coder of
    the transcript who does not (or no longer: a reopened layer) see every layer of it, or
    whose own layer is open again. Every other member reads it, whatever their role.
    """
    layers = Layer.objects.filter(transcript__study=study)
    own = layers.filter(coder=user)
    coded = layers.filter(transcript__in=own.values("transcript"))
    hidden = coded.exclude(_visible(user, perms, coded)).values("transcript")
    reopened = own.exclude(status=LayerStatus.SUBMITTED).values("transcript")
    return analysable_transcripts(study).exclude(pk__in=hidden).exclude(pk__in=reopened)


# --- what follows from the rule: everything a blind colleague's layer gives away ---------------
#
# A person who codes a transcript is *blind* to the other coder's layer there until the rule
# shows it. Besides the codings themselves, that hides what the other coder made while coding
# it: an inductive code first seen in that transcript, memos and notes linked to it, and the
# audit events of all of these. The pairs (transcript, other coder) are few (one per transcript
# the viewer codes), so they are read once and turned into conditions.


def blind_layers(user, perms, study) -> QuerySet[Layer]:
    """Other coders' layers, on transcripts ``user`` codes, that the rule hides from them."""
    layers = Layer.objects.filter(transcript__study=study)
    mine = layers.filter(coder=user).values("transcript")
    return layers.filter(transcript__in=mine).exclude(_visible(user, perms, layers))


def blind_layer_ids(user, perms, study) -> frozenset[int]:
    return frozenset(blind_layers(user, perms, study).values_list("pk", flat=True))


def blind_pairs(user, perms, study) -> list[tuple[int, int]]:
    """(transcript id, coder id) of each layer in ``blind_layers``."""
    return list(blind_layers(user, perms, study).values_list("transcript_id", "coder_id"))


def _any(conditions) -> Q:
    combined = Q(pk__in=[])  # matches nothing
    for condition in conditions:
        combined |= condition
    return combined


def hidden_codes(user, perms, study) -> Exists:
    """Codes an other coder created while coding a transcript the viewer is blind on (a
    condition on ``Code``, evaluated inside the query that reads the codes)."""
    blind = blind_layers(user, perms, study).filter(
        transcript_id=OuterRef("first_seen_transcript_id"), coder_id=OuterRef("created_by_id")
    )
    return Exists(blind)


def visible_codes(user, perms, study) -> QuerySet[Code]:
    """The study's codes as ``user`` may see them (see ``hidden_codes``)."""
    return Code.objects.filter(study=study).exclude(hidden_codes(user, perms, study))


def hidden_writings(viewer: "Viewer", *, code_field: str) -> Q:
    """Memos or notes the other coder linked to a transcript the viewer is blind on, or to a
    code hidden from the viewer (``code_field``: the memo's code, or the note's codes)."""
    pairs = viewer.pairs
    if not pairs:
        return Q(pk__in=[])
    linked = _any(Q(written_by_id=c, transcripts=t) for t, c in pairs)
    hidden = Code.objects.filter(study=viewer.study).filter(viewer.hidden_codes).values("pk")
    return linked | Q(**{f"{code_field}__in": hidden})


class Viewer:
    """One person looking at one study: the blindness conditions for their reads, worked out
    once per request (one query for the pairs, whatever they read)."""

    def __init__(self, user, perms, study):
        self.user, self.perms, self.study = user, frozenset(perms), study

    @cached_property
    def pairs(self) -> list[tuple[int, int]]:
        return blind_pairs(self.user, self.perms, self.study)

    def layers(self) -> QuerySet[Layer]:
        return visible_layers_in_study(self.user, self.perms, self.study)

    def countable_layers(self) -> QuerySet[Layer]:
        return countable_layers_in_study(self.user, self.perms, self.study)

    def consensus_transcripts(self) -> QuerySet:
        return consensus_transcripts_in_study(self.user, self.perms, self.study)

    @property
    def hidden_codes(self) -> Exists:
        return hidden_codes(self.user, self.perms, self.study)

    def codes(self) -> QuerySet[Code]:
        return visible_codes(self.user, self.perms, self.study)

    def codes_hidden(self) -> QuerySet[Code]:
        return Code.objects.filter(study=self.study).filter(self.hidden_codes)

    def hidden_memos(self) -> Q:
        return hidden_writings(self, code_field="code")

    def hidden_notes(self) -> Q:
        return hidden_writings(self, code_field="codes")


def viewer_of(request, access) -> Viewer:
    """The request's viewer, shared by everything the request reads."""
    viewer = getattr(request, "blindness_viewer", None)
    if viewer is None or viewer.study.pk != access.study.pk:
        viewer = request.blindness_viewer = Viewer(request.user, access.perms, access.study)
    return viewer


def audit_hider(user, perms, study) -> Q:
    """The audit events ``user`` may not read: those of layers they are blind to, and those of
    the codes, memos and notes ``Viewer`` hides (``workbench.audit.register_hider``)."""
    viewer = Viewer(user, perms, study)
    if not viewer.pairs:
        return Q(pk__in=[])

    def ids(queryset):
        return queryset.annotate(ref=Cast("pk", output_field=CharField())).values("ref")

    def refs(queryset):
        # Events name codes, memos and notes by public id; those written before, by pk.
        return Q(object_id__in=ids(queryset)) | Q(object_id__in=queryset.values("public_id"))

    hidden = Q(layer_id__in=blind_layers(user, perms, study).values("pk"))
    hidden |= Q(object_type="code") & refs(viewer.codes_hidden())
    hidden |= Q(object_type="memo") & refs(AnalyticMemo.objects.filter(viewer.hidden_memos()))
    hidden |= Q(object_type="debrief_note") & refs(
        DebriefNote.objects.filter(viewer.hidden_notes())
    )
    # Events written before events carried their layer: the layer facts in their values.
    names = dict(
        User.objects.filter(pk__in=[c for _, c in viewer.pairs]).values_list("pk", "username")
    )
    for transcript_id, coder_id in viewer.pairs:
        for side in ("before", "after"):
            facts = {f"{side}__transcript": transcript_id, f"{side}__coder": names.get(coder_id)}
            hidden |= Q(layer_id__isnull=True, verb__startswith="coding.", **facts)
    return hidden
