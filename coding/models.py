"""Codebook, codings, agreement, themes, saturation and findings export live here."""
