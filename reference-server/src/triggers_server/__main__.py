"""`python -m triggers_server` runs the CLI."""

from triggers_server.cli import main

main()
