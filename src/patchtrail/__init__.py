"""patchtrail: the story of a line of code, from commit back to the patch email and onward."""

__version__ = "0.1.0"
