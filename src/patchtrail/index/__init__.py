"""Stage 3: the SQLite store — one file, schema-versioned, incremental and crash-safe.

Why stdlib sqlite3 and not an ORM or a server: the index is a cache of what git and the
archives hold, read by a command-line tool in one process; one file that `sqlite3` can
open is easy to inspect, copy and delete, and SQLite's transactions give crash safety for
free (every batch and its resume cursor commit together; kill -9 loses at most a batch).
"""
