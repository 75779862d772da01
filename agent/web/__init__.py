"""The history window (issue 27): every notification in a local web page the agent serves.

`window` is what the tray and a headless agent hold (light to import: the server and the
page load when the window is first opened); `server` serves it (its guards live there);
`page` draws it (pure); `assets` holds its script and style.
"""
