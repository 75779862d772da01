"""Showing a notification on this OS behind one small interface (`notifier.Notifier`): one
class per mechanism and the one chooser (`backends`). Above `system`."""
