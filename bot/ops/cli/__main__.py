"""`python -m bot.ops.cli`, as the `aiguillage` script."""

import sys

from bot.ops.cli.parser import main

if __name__ == "__main__":
    sys.exit(main())
