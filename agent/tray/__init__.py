"""The tray icon: pystray on the main thread with the engine in a worker thread, its menu
built from `policy.tray_model`, and what pystray's backends need beyond its API. Above
`engine`."""
