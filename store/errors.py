"""Errors the store raises. Each carries one line a user can act on."""


class StoreError(Exception):
    """Base class: `str(err)` is the one line shown to the user."""


class CorruptDatabase(StoreError):
    """The file is not a readable SQLite database. It is never overwritten."""


class SchemaTooNew(StoreError):
    """The file was written by a newer traycourier; this one must not write to it."""


class InvalidInput(StoreError):
    """A value a caller passed (a title, a setting, an action) breaks the contract."""


class DatabaseUnavailable(StoreError):
    """The file is locked for longer than the busy timeout, or cannot be opened."""


class DatabaseBusy(DatabaseUnavailable):
    """Another process held the write lock for longer than the busy timeout: it passes."""
