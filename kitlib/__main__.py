"""`python -m kitlib ...`: see kitlib.cli."""

from kitlib.cli import main

raise SystemExit(main())
