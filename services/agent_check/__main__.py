"""`python -m services.agent_check URL ...`: see `services.agent_check.cli`."""

import sys

from services.agent_check.cli import main

sys.exit(main())
