"""The command line: typer commands and printers. Only this package prints or parses argv."""
