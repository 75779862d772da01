"""The delivery engine: the tick (follow sources, route, claim rounds, show, mark), the loop
between ticks, what the user does with a popup, and every action a user can take (the tray
and the CLI both call `controls` and `sources`). Talks to the store's `Database` and to a
`Notifier`. Above `notifiers`."""
