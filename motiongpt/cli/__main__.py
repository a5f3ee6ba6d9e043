"""`python -m motiongpt.cli ...` (also what torchrun runs with `-m motiongpt.cli`)."""
import sys

from motiongpt.cli import main

sys.exit(main())
