"""`python -m adapters ...`: the `si-checkin` command line."""

import sys

from adapters.main import main

sys.exit(main())
