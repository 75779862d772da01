"""The frozen program's entry point: PyInstaller runs this file, not `python -m`."""

import sys

from traycourier.agent.cli.main import main

sys.exit(main())
