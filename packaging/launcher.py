"""The frozen program's entry point (PyInstaller runs this file, not `python -m agent`)."""

import sys

from agent.cli import main

sys.exit(main())
