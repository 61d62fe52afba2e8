"""Stage 4: link commits to the patch emails they were applied from.

Reads only the index (and, for a commit not indexed yet, the commit itself through the
sources stage). Every decision carries its evidence, so a user can see why.
"""
