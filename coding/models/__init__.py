"""The coding app's tables, one module per topic; every model is exported from here."""

from coding.models.codebook import (
    CODE_PALETTE,
    COLOUR_RE,
    PARENT_KIND,
    ChangeKind,
    Code,
    CodebookSettings,
    CodeKind,
    CodeOrigin,
    CodeStatus,
    CodeVersion,
    InductivePolicy,
    ThemeStatus,
    colour_validator,
)
from coding.models.codings import (
    Assignment,
    Coding,
    CodingMode,
    CodingReview,
    Layer,
    LayerRole,
    LayerStatus,
    PinnedCode,
    ReviewVerdict,
)
from coding.models.evolution import CodebookOperation, OperationKind
from coding.models.matrices import MatrixCellNote
from coding.models.notes import AgreementRound, AnalyticMemo, DebriefNote, NoteKind, RoundKind
from coding.models.reconciliation import (
    ConsensusCoding,
    ConsensusSource,
    Decision,
    Disagreement,
    DisagreementKind,
    Reconciliation,
    Tolerance,
)
from coding.models.saturation import SaturationDecision, SaturationVerdict
from coding.models.themes import BoardMove
from coding.models.undo import UNDO_MAX_AGE, UndoAction, UndoStack

__all__ = [
    "CODE_PALETTE",
    "COLOUR_RE",
    "PARENT_KIND",
    "AgreementRound",
    "BoardMove",
    "AnalyticMemo",
    "Assignment",
    "ChangeKind",
    "Code",
    "CodebookOperation",
    "CodebookSettings",
    "CodeKind",
    "ThemeStatus",
    "CodeOrigin",
    "CodeStatus",
    "CodeVersion",
    "Coding",
    "CodingMode",
    "CodingReview",
    "ConsensusCoding",
    "ConsensusSource",
    "DebriefNote",
    "Decision",
    "Disagreement",
    "DisagreementKind",
    "InductivePolicy",
    "Layer",
    "MatrixCellNote",
    "LayerRole",
    "LayerStatus",
    "NoteKind",
    "OperationKind",
    "PinnedCode",
    "Reconciliation",
    "ReviewVerdict",
    "RoundKind",
    "SaturationDecision",
    "SaturationVerdict",
    "Tolerance",
    "UNDO_MAX_AGE",
    "UndoAction",
    "UndoStack",
    "colour_validator",
]
