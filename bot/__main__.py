"""`python -m bot` runs the same command line as `policybot`."""

from bot.cli import main

raise SystemExit(main())
