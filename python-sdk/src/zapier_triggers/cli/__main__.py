"""`python -m zapier_triggers.cli` runs the `triggers` command (handy without the console script)."""

from . import main

main()
