"""Matrices computed from plain tuples: code co-occurrence and the heat scale (pure; no
Django, no other app), so they can be property-tested against brute force and run fast over
100,000 codings."""
