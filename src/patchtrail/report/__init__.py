"""Stage 6: render the answers of the earlier stages — terminal, JSON, JSONL (and later
Markdown and HTML) — from the same data objects, so every format says the same thing.

Why rich: tables, colours that switch off when the output is not a terminal, and progress
bars, from one well-kept library, instead of hand-written escape codes.
"""
