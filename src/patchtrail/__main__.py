"""`python -m patchtrail` runs the CLI (used by benchmarks to measure a real process)."""

from patchtrail.cli.main import main

main()
