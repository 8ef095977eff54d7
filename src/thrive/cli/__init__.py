"""The faces' command line: `thrive` (see `thrive.cli.main`)."""
