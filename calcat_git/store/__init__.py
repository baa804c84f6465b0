"""The constant store: paths, HDF5 constant files, verify."""
