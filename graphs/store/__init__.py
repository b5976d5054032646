"""Storage: tables, migrations, the append-only event log, views derived from it and exports."""
