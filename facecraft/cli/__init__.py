"""The command line: a thin layer over the verbs in the Python API."""
