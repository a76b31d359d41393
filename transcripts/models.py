"""Participants, cases, consent, transcripts and member checking live here."""
