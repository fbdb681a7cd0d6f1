"""`python -m triggers_server` runs the CLI."""

from .cli import main

main()
