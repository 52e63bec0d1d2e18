"""Exports: an entity's items out of a store, through batches (``reading``), into files of one fixed schema."""
