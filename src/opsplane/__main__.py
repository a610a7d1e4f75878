"""``python -m opsplane``."""

from opsplane.cli.main import main

main()
