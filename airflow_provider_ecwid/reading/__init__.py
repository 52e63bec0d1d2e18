"""Reading a store's list endpoints through batches: a fixed window, its pages in batches, each answer read once,
and a check that no item was lost to offset pages shifting under the read (see ``reading.pages``)."""
