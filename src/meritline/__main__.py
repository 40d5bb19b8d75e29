"""`python -m meritline`: the same as the `meritline` command."""

from meritline.cli.main import main

main()
