"""traycourier's tray agent: the process, the delivery policy, the notifier and the UI."""

__version__ = "0.1.0"
APP_NAME = "traycourier"
