"""`python -m bot.ops.cli`, as the `aiguillage` script."""

import sys

from bot.ops.cli.parser import main

sys.exit(main())
