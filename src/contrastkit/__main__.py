"""`python -m contrastkit` (also what `torchrun -m contrastkit` runs)."""

from contrastkit.cli import main

main()
