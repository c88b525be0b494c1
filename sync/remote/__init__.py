"""NetSuite and JAGGAER: their clients, the shared request gate, back-off, errors and answer limits."""
