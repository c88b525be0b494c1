"""The path of a record: pull (paging, cursors), decide, deliver, journal, and a pass over the flows."""
