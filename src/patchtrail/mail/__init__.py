"""Stage 2: turn one raw message (or a commit message) into a patch model.

Pure functions of bytes and text: no I/O, no database. Everything here must survive
hostile input (broken MIME, unknown charsets, binary garbage) and say what it could not
decode instead of raising.
"""
