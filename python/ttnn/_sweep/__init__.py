"""Many-run studies (``ttnn.sweep``): spec, runs, dataset, store, engine, command line."""
