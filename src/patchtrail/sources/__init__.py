"""Stage 1: read git repositories and mail archives as streams of plain records.

Nothing here interprets a message or a diff; that is the `mail` stage's job. Sources only
promise to stream (never one subprocess per object), to survive objects that cannot be
read, and to say why something was skipped.
"""
