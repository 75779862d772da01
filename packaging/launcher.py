"""The frozen program's entry point: PyInstaller runs this file, not `python -m`."""

import sys

from traycourier.agent.__main__ import main

sys.exit(main())
