"""Alembic's environment for the app's store, run on a connection `migrate.upgrade` gives.

No engine is made here and no event loop: the caller holds the connection (and the lock
that keeps two processes from migrating at once).
"""

from alembic import context

from services.store.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
