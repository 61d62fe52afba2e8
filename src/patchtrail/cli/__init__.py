"""The `patchtrail` command: thin click wrappers over the stages.

Why click: declarative options with types and help, composable sub-commands, and a test
runner; the ground rule is that every bad input ends as one line on stderr and exit code
2, which `main` enforces around click's own usage errors.
"""
