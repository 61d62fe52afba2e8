"""`patchtrail serve`: a small local web UI over the index (127.0.0.1 only)."""
