"""The `traycourier` command: parsing (`main`), what each command does, `doctor`, `send`, and
starting one agent process (`process`: headless or in the tray). The top layer."""
