"""Builders of real git repositories and real mail archives from declarative descriptions.

Used by the test suite and by `patchtrail demo`. It imports nothing from the other stages:
it produces inputs for them, exactly as git and public-inbox would have.
"""
