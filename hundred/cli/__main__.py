"""`python -m hundred.cli …` runs the `hundred` command."""

from hundred.cli import console

console()
