"""What the agent needs of the operating system and the desktop: which OS this is (the one
place that asks), folders, logging, start at login, this machine as a device, the icons
drawn from assets/, and whether a tray can be shown here. Above `policy`."""
